//! The loopback API: the transport (`http`: server, limits, access log) apart from the dialects,
//! its plug-ins (`dialect`: the trait and the list). `tencent/` is the whole of Tencent Cloud's
//! API (signatures, parameters, codes, shapes, one action table per service and version, and the
//! client the console and the CLI use with a server), so applications written against the cloud
//! SDKs run unchanged with only the endpoint changed.

pub mod access_log;
pub mod dialect;
pub mod http;
pub mod huawei;
pub mod jd;
pub mod signed;
pub mod tencent;
pub mod tls;

pub use access_log::{AccessLog, AccessLogEntry};
pub use http::{ApiServer, DEFAULT_LISTEN, ServerConfig};
pub use tencent::{ApiRequest, process};
