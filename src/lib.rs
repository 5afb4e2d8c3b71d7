//! keyconsole: a local key-management console. One engine over an encrypted keystore, with three
//! faces: the desktop console, the command line and the HTTP(S) API.
//!
//! The layers are the crates of this workspace, lowest first; a crate can only use the ones below
//! it, so an upward import does not compile:
//!
//! ```text
//! keyconsole-base    crypto, util: AES-256-GCM, random, atomic file writes, zeroizing buffers,
//!                    time formatting, the message catalog
//! keyconsole-store   the keystore file: format, KDF, seal/open, save with backups, lock
//! keyconsole-kms     the engine and its service boundary (KmsService, Caller, events)
//! keyconsole-api     HTTP + the dialects (Tencent), the remote client
//! keyconsole-cli     clap commands          keyconsole-ui   egui pages (these two do not use
//!                                                           each other)
//! keyconsole         this crate: the binary, and `testing` (feature `testing`) for tests
//! ```
//! The names below keep the paths the tests and benches use (`keyconsole::kms::Kms`).

pub use keyconsole_api as api;
pub use keyconsole_base::{crypto, text, tr, util};
pub use keyconsole_cli as cli;
pub use keyconsole_kms as kms;
pub use keyconsole_store as store;
pub use keyconsole_ui as ui;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
