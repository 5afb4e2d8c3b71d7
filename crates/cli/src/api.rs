//! `serve` (the loopback API) and `api credentials`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::Context;
use keyconsole_api::{AccessLog, ApiServer, DEFAULT_LISTEN, ServerConfig, tls};
use keyconsole_kms::local_ca::{local_ca_path, server_names};
use keyconsole_kms::{
    ApiCredentials, Caller, Cloud, ErrorCode, KeystoreAdmin, KmsError, Result, SharedKms,
};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on
    #[arg(long, default_value = DEFAULT_LISTEN, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Serve HTTPS. Without --tls-cert/--tls-key the certificate comes from the keystore's local
    /// CA (made on first use; `keyconsole api ca` prints it for clients to trust)
    #[arg(long)]
    pub tls: bool,
    /// Your own server certificate (PEM, the chain after it); needs --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A further name (DNS name or IP address) for the local CA's certificate, besides 127.0.0.1,
    /// ::1, localhost and the listen address; repeatable
    #[arg(long, value_name = "NAME")]
    pub tls_name: Vec<String>,
    /// Allow a non-loopback address. Needs --tls unless --insecure-http is given too.
    #[arg(long)]
    pub allow_remote: bool,
    /// Serve plain HTTP beyond loopback: anyone on that network reads plaintexts and data keys
    #[arg(long, requires = "allow_remote")]
    pub insecure_http: bool,
    /// Do not print the access log
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Print a cloud dialect's API credentials (made on first use): Tencent's SecretId and
    /// SecretKey, Huawei's AK and SK, JD Cloud's AccessKey and SecretKey
    Credentials(CredentialsArgs),
    /// Print where the local CA certificate is (made on first use) and the certificate itself, for
    /// clients of `serve --tls` to trust
    Ca(CaArgs),
}

#[derive(Debug, Args)]
pub struct CaArgs {
    /// Replace the CA with a new one; clients must trust the new certificate, and running servers
    /// keep the old one until restarted
    #[arg(long)]
    pub renew: bool,
    /// Print only the path
    #[arg(long, conflicts_with = "renew")]
    pub path: bool,
}

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// Replace them with a new pair; applications using the old secret key are refused from now
    /// on
    #[arg(long)]
    pub rotate: bool,
    /// Whose credentials: each cloud's SDKs sign with their own pair
    #[arg(long, default_value = "tencent", value_parser = ["tencent", "huawei", "jd"])]
    pub cloud: String,
}

pub fn serve(context: &Context, args: ServeArgs) -> Result<()> {
    let kms = context.open()?;
    let credentials = kms.api_credential(&context.caller(), Cloud::Tencent, false)?;
    let kms = SharedKms::new(kms);
    let mut log = AccessLog::new(1000);
    if !args.quiet {
        log = log.with_echo(std::io::stdout());
    }
    let tls = tls_config(&*kms, &context.caller(), &args)?;
    if args.allow_remote && !args.listen.ip().is_loopback() {
        if tls.is_none() && args.insecure_http {
            eprintln!(
                "warning: listening on {} beyond this machine over plain HTTP: anyone on the network can read the plaintexts and data keys it returns.",
                args.listen
            );
        } else if tls.is_some()
            && args.tls_cert.is_none()
            && args.listen.ip().is_unspecified()
            && args.tls_name.is_empty()
        {
            eprintln!(
                "warning: the certificate names only 127.0.0.1, ::1 and localhost; remote clients need the name they connect to: add --tls-name NAME."
            );
        }
    }
    let config = ServerConfig {
        allow_remote: args.allow_remote,
        insecure_http: args.insecure_http,
        tls,
        stop_on_signal: true,
        ..ServerConfig::loopback(args.listen)
    };
    let log = Arc::new(log);
    let server = ApiServer::start(kms.clone(), &config, log.clone())?;
    // Announced once the first reservations are saved: a client that starts on this line finds
    // no request waiting for that save.
    server.wait_until_ready(std::time::Duration::from_secs(10));
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "keyconsole API listening on {} (SecretId {}); Ctrl+C stops it.",
            server.url(),
            credentials.secret_id
        );
        if server.is_https() && args.tls_cert.is_none() {
            let ca = local_ca_path(kms.path());
            let _ = writeln!(out, "Clients trust the local CA: {}", ca.display());
        }
        let _ = out.flush();
    }
    server.wait();
    if log.dropped() > 0 {
        eprintln!(
            "keyconsole: {} access log lines were dropped because standard output was not read.",
            log.dropped()
        );
    }
    // Nothing to save on the way out: encryptions were counted on disk before they were made.
    drop(kms);
    Ok(())
}

pub fn run(context: &Context, command: ApiCommand) -> Result<()> {
    match command {
        ApiCommand::Credentials(args) => {
            let kms = context.open()?;
            let cloud = Cloud::from_name(&args.cloud).unwrap_or_default();
            let credentials = kms.api_credential(&context.caller(), cloud, args.rotate)?;
            print_credentials(&credentials)
        }
        ApiCommand::Ca(args) => {
            let kms = context.open()?;
            let ca = kms.local_ca_cert(&context.caller(), args.renew)?;
            let mut out = std::io::stdout().lock();
            let written = if args.path {
                writeln!(out, "{}", ca.path.display())
            } else {
                writeln!(out, "{}", ca.path.display()).and_then(|()| write!(out, "{}", ca.cert_pem))
            };
            written.map_err(stdout_failed)
        }
    }
}

/// The HTTPS configuration `serve` asked for: the user's files, or a certificate from the local CA
/// for the loopback names, the listen address and any --tls-name.
fn tls_config(
    kms: &dyn KeystoreAdmin,
    caller: &Caller,
    args: &ServeArgs,
) -> Result<Option<tls::TlsConfig>> {
    if !args.tls {
        if args.tls_cert.is_some() || !args.tls_name.is_empty() {
            return Err(KmsError::new(
                ErrorCode::InvalidParameter,
                "--tls-cert, --tls-key and --tls-name need --tls.",
            ));
        }
        return Ok(None);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return tls::from_pem_files(cert, key).map(Some);
    }
    let names = server_names(args.listen.ip(), &args.tls_name);
    let identity = kms.server_identity(caller, &names)?;
    tls::from_identity(&identity).map(Some)
}

pub(crate) fn stdout_failed(e: std::io::Error) -> KmsError {
    KmsError::new(
        ErrorCode::InternalError,
        format!("Cannot write to standard output: {e}."),
    )
}

fn print_credentials(credentials: &ApiCredentials) -> Result<()> {
    let (id, key) = credentials.cloud.labels();
    let width = id.len().max(key.len()) + 1;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:width$} {}", format!("{id}:"), credentials.secret_id)
        .and_then(|()| {
            writeln!(
                out,
                "{:width$} {}",
                format!("{key}:"),
                credentials.secret_key.as_str()
            )
        })
        .map_err(stdout_failed)
}
