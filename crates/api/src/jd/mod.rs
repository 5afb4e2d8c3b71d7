//! JD Cloud's KMS wire: signatures so far; the dialect itself is work in progress (issue 29).

pub mod signature;
