//! The loopback API that the official Tencent Cloud SDKs talk to (issue 5, in progress): so far
//! the TC3-HMAC-SHA256 signature check; the server itself is not built yet.

pub mod signature;
