//! keyconsole's bottom layer: `crypto` (AES-256-GCM, random) and `util` (crash-safe file writes,
//! buffers that wipe what they leave behind, process hardening, time formatting, and the message
//! catalog every layer's text comes from). Nothing here knows about keys, keystores or faces.

// The one message catalog: `tr!` and `text!` of every crate look up here, so the other crates
// need no catalog of their own.
rust_i18n::i18n!("../../assets/locales");

pub mod crypto;
pub mod util;
