//! The loopback API: the transport (`http`: server, limits, access log) apart from the dialect
//! (`tencent`: signatures, parameters, codes, one action table per service and version). Today it
//! serves Tencent Cloud KMS 2019-01-18, so applications written against the cloud SDKs run
//! unchanged with only the endpoint changed.

pub mod access_log;
pub mod http;
pub mod tencent;
pub mod tls;

pub use access_log::{AccessLog, AccessLogEntry};
pub use http::{ApiServer, DEFAULT_LISTEN, ServerConfig};
pub use tencent::{ApiRequest, process};
