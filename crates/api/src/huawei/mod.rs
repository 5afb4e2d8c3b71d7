//! Huawei Cloud's KMS and CSMS wire (DEW): signatures so far; the dialect itself is work in progress (issue 29).

pub mod signature;
