//! keyconsole: a local key-management console. One engine (`kms`) over an encrypted keystore
//! (`store`), with a command-line face (`cli`); the desktop GUI and a loopback API come on top.

pub mod cli;
pub mod kms;
pub mod store;
