//! keyconsole: a local key-management console. One engine (`kms`) over an encrypted keystore
//! (`store`), with a command-line face (`cli`) and the desktop console (`ui`).

pub mod api;
pub mod cli;
pub mod display;
pub mod kms;
pub mod store;
pub mod ui;
