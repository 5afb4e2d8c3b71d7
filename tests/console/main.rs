//! The console under egui_kittest: flows by role and label, the API access page, and a snapshot of
//! every page, in one test binary.

/// A flow run twice: on a local keystore (`local`) and connected to a team's server over HTTPS
/// (`remote`); the same pages, the same clicks, the same answers.
macro_rules! twice {
    ($(#[$meta:meta])* fn $name:ident($start:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($start: fn(&[&str]) -> Console) $body
            #[test]
            fn local() {
                run(Console::unlocked)
            }
            #[test]
            fn remote() {
                run(Console::connected)
            }
        }
    };
}

mod api;
mod audit;
mod flows;
mod harness;
mod key_pairs;
mod languages;
mod pages;
mod permissions;
mod secrets;
mod snapshots;
mod tags;
