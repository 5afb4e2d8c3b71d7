//! The console under egui_kittest: flows by role and label, the API access page, and a snapshot of
//! every page, in one test binary.

mod api;
mod flows;
mod harness;
mod languages;
mod pages;
mod secrets;
mod snapshots;
