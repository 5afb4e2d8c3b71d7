//! keyconsole: a local key-management console. One engine over an encrypted keystore, with three
//! faces: the desktop console, the command line and the loopback API.
//!
//! The layers, lowest first. A module uses the ones below it, never one above
//! (`scripts/check_layers.sh` keeps it so):
//!
//! ```text
//! crypto, util   AES-256-GCM, random, atomic file writes, zeroizing buffers, time formatting
//! store          the keystore file: format, KDF, seal/open, save with backups, lock; StoreError
//! kms            the engine: keyring, keys and their rules, crypto operations, maintenance,
//!                API credentials, envelope files; KmsError with the cloud's codes
//! api, cli, ui   the faces: HTTP + the Tencent dialect; clap commands; egui pages
//! testing        helpers for tests (feature `testing`): fast KDF, test clock, fakes
//! ```
//! The faces do not use each other, except that the console and the CLI start the API server.

rust_i18n::i18n!("assets/locales");

pub mod crypto;
pub mod util;

pub mod store;

pub mod kms;

pub mod api;
pub mod cli;
pub mod ui;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
