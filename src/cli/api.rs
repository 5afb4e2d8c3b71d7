//! `serve` (the loopback API) and `api credentials`.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::Context;
use crate::api::{AccessLog, ApiServer, DEFAULT_LISTEN, ServerConfig};
use crate::kms::{ApiCredentials, ErrorCode, KmsError, Result, SharedKms};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Allow a non-loopback address. The API speaks plain HTTP: anyone on that network can read
    /// plaintexts and data keys in transit.
    #[arg(long)]
    pub allow_remote: bool,
    /// Do not print the access log
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Print the API's SecretId and SecretKey (made on first use)
    Credentials(CredentialsArgs),
}

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Replace them with a new pair; applications using the old SecretKey are refused from now on
    #[arg(long)]
    pub rotate: bool,
}

pub fn serve(context: &Context, args: ServeArgs) -> Result<()> {
    let kms = context.open()?;
    let credentials = kms.api_credentials()?;
    let kms = SharedKms::new(kms);
    let mut log = AccessLog::new(1000);
    if !args.quiet {
        log = log.with_echo(std::io::stdout());
    }
    if args.allow_remote && !args.listen.ip().is_loopback() {
        eprintln!(
            "warning: listening on {} beyond this machine. The API speaks plain HTTP: anyone on the network can read the plaintexts and data keys it returns. Put it behind TLS or keep it on loopback.",
            args.listen
        );
    }
    let config = ServerConfig {
        allow_remote: args.allow_remote,
        stop_on_signal: true,
        ..ServerConfig::loopback(args.listen)
    };
    let log = Arc::new(log);
    let server = ApiServer::start(kms.clone(), &config, log.clone())?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "keyconsole API listening on http://{} (SecretId {}); Ctrl+C stops it.",
            server.local_addr(),
            credentials.secret_id
        );
        let _ = out.flush();
    }
    server.wait();
    if log.dropped() > 0 {
        eprintln!(
            "keyconsole: {} access log lines were dropped because standard output was not read.",
            log.dropped()
        );
    }
    // Encryption counts of this run go to the keystore before we exit.
    kms.flush_usage()
}

pub fn run(context: &Context, command: ApiCommand) -> Result<()> {
    match command {
        ApiCommand::Credentials(args) => {
            let kms = context.open()?;
            let credentials = if args.rotate {
                kms.rotate_api_credentials()?
            } else {
                kms.api_credentials()?
            };
            print_credentials(&credentials)
        }
    }
}

fn print_credentials(credentials: &ApiCredentials) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "SecretId:  {}", credentials.secret_id)
        .and_then(|()| writeln!(out, "SecretKey: {}", credentials.secret_key.as_str()))
        .map_err(|e| {
            KmsError::new(
                ErrorCode::InternalError,
                format!("Cannot write to standard output: {e}."),
            )
        })
}
