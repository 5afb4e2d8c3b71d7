//! The faces through their real interfaces: the CLI binary, the API over sockets and against the
//! SDK's recorded signatures, and the real window under Xvfb, in one test binary.

mod api_limits;
mod api_server;
mod api_signature;
mod api_tls;
mod cli;
mod layers;
mod smoke;

/// The value after `name` on its line of a command's output (`SecretId: AKID…` of `api credentials`).
pub fn printed_field(output: &str, name: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {output:?}"))
        .trim()
        .to_owned()
}
