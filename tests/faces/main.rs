//! The faces through their real interfaces: the CLI binary, the API over sockets and against the
//! SDK's recorded signatures, and the real window under Xvfb, in one test binary.

mod api_limits;
mod api_server;
mod api_signature;
mod api_tls;
mod cli;
mod layers;
mod smoke;
