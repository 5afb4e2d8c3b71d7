//! The loopback API: the Tencent Cloud KMS API (version 2019-01-18) served over the engine, so
//! applications written against the cloud SDKs run unchanged with only the endpoint changed.

pub mod access_log;
pub mod actions;
pub mod params;
pub mod server;
pub mod signature;

pub use access_log::{AccessLog, AccessLogEntry};
pub use server::{ApiRequest, ApiServer, DEFAULT_LISTEN, ServerConfig, process};
