//! The command-line face: parses arguments, asks the engine, prints results. No rule lives here.
//!
//! Exit status: 0 success, 1 the operation failed (`error: <Code>: <message>` on stderr),
//! 2 a usage error (clap's own).

mod api;
mod audit;
mod crypto;
mod file;
mod instance;
mod key;
mod keystore;
mod output;
mod pair;
mod password;
mod secret;
mod tags;
mod user;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use keyconsole_api::tencent::client::{Endpoint, RemoteService, RemoteSettings};
use keyconsole_kms::{Caller, Face, KeystoreAdmin, Kms, KmsError, KmsService};

#[derive(Debug, Parser)]
#[command(
    name = "keyconsole",
    version,
    about = "A local key-management console: customer master keys and encryption on a password-encrypted keystore.",
    after_help = "Without a subcommand, keyconsole opens the desktop console.\n\
                  The password comes from KEYCONSOLE_PASSWORD, else --password-file, else a prompt."
)]
pub struct Cli {
    /// The keystore file [default: the platform's data folder, keystore.kcks]
    #[arg(long, global = true, env = "KEYCONSOLE_KEYSTORE", value_name = "PATH")]
    pub keystore: Option<PathBuf>,

    /// Read the keystore password from the first line of FILE
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Manage the keys and secrets of a server (a team's `keyconsole serve --tls`, or a Tencent
    /// Cloud KMS endpoint) instead of a local keystore: https://HOST:PORT. The credential comes from
    /// KEYCONSOLE_SECRET_ID and KEYCONSOLE_SECRET_KEY
    #[arg(long, global = true, env = "KEYCONSOLE_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,

    /// With --endpoint: trust the CA certificate in FILE (`keyconsole api ca` on the server prints
    /// it) [default: the system's trusted CAs]
    #[arg(long, global = true, env = "KEYCONSOLE_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// With --endpoint: the X-TC-Region the cloud needs (a keyconsole server ignores it)
    #[arg(
        long,
        global = true,
        env = "KEYCONSOLE_REGION",
        value_name = "REGION",
        default_value = "ap-guangzhou"
    )]
    pub region: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new keystore (the password is asked twice)
    Init(keystore::InitArgs),
    /// Manage customer master keys
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Encrypt up to 4096 bytes into a CiphertextBlob
    Encrypt(crypto::EncryptArgs),
    /// Decrypt a CiphertextBlob back into the plaintext bytes (or, with --key, what was
    /// encrypted to a key pair's public key)
    Decrypt(crypto::DecryptArgs),
    /// Sign a message (or its digest) with a key pair
    Sign(pair::SignArgs),
    /// Check a signature with a key pair; exits 1 when it is not valid
    Verify(pair::VerifyArgs),
    /// Decrypt a CiphertextBlob and encrypt it again under the newest key version (or another key)
    Reencrypt(crypto::ReencryptArgs),
    /// Generate a data key: its plaintext and the same key encrypted under a CMK
    Datakey(crypto::DatakeyArgs),
    /// Print random bytes in base64
    Random(crypto::RandomArgs),
    /// Change the keystore password
    Passwd(keystore::PasswdArgs),
    /// Encrypt or decrypt files of any size (envelope encryption)
    #[command(subcommand)]
    File(file::FileCommand),
    /// Manage secrets: named, versioned values kept sealed in the keystore
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Database administrator connections that product secrets make accounts through
    #[command(subcommand)]
    DbInstance(instance::InstanceCommand),
    /// Serve the Tencent Cloud KMS API (2019-01-18) on loopback, for applications using the cloud SDKs
    Serve(api::ServeArgs),
    /// The loopback API's credentials
    #[command(subcommand)]
    Api(api::ApiCommand),
    /// A team's users of this keystore: their policies and API keys
    #[command(subcommand)]
    User(user::UserCommand),
    /// The audit trail: who did what, when, and how it ended; checked for tampering
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// What a command needs from the outside: where the keystore is and how to get its password, or
/// which server to ask instead.
pub struct Context {
    pub keystore: PathBuf,
    pub password_file: Option<PathBuf>,
    pub endpoint: Option<String>,
    pub ca: Option<PathBuf>,
    pub region: String,
}

impl Context {
    /// The service the key, crypto and secret commands ask: the local keystore, or the server
    /// `--endpoint` names.
    fn service(&self) -> Result<Box<dyn KmsService>, KmsError> {
        let Some(endpoint) = &self.endpoint else {
            return Ok(Box::new(self.open()?));
        };
        let variable = |name: &str| std::env::var(name).unwrap_or_default();
        Ok(Box::new(RemoteService::new(RemoteSettings {
            endpoint: Endpoint::parse(endpoint)?,
            secret_id: variable("KEYCONSOLE_SECRET_ID"),
            secret_key: variable("KEYCONSOLE_SECRET_KEY").into(),
            ca_file: self.ca.clone(),
            region: self.region.clone(),
        })?))
    }

    /// Who asks: the person at this machine, or the credential a server knows.
    fn caller(&self) -> Caller {
        let mut caller = Caller::local(Face::Cli, keyconsole_base::util::i18n::current());
        if self.endpoint.is_some() {
            caller.principal = std::env::var("KEYCONSOLE_SECRET_ID").unwrap_or_default();
        }
        caller
    }

    /// Refuses `--endpoint` for a command that works on a local keystore only.
    fn local_only(&self, what: &str) -> Result<(), KmsError> {
        if self.endpoint.is_some() {
            return Err(KmsError::new(
                keyconsole_kms::ErrorCode::UnsupportedOperation,
                keyconsole_base::text!("errors.not_over_endpoint", what = what),
            ));
        }
        Ok(())
    }

    pub(crate) fn open(&self) -> Result<Kms, KmsError> {
        let password = password::current(self.password_file.as_deref())?;
        let kms = Kms::open(&self.keystore, password.as_bytes())?;
        for warning in kms.keystore_warnings() {
            eprintln!("keyconsole: warning: {warning}");
        }
        Ok(kms)
    }

    fn keystore(&self) -> &Path {
        &self.keystore
    }
}

/// Runs one CLI command (the binary calls this when a subcommand is given).
pub fn run(cli: Cli) -> ExitCode {
    let Some(command) = cli.command else {
        return ExitCode::from(2);
    };
    if !matches!(command, Command::Serve(_)) {
        keyconsole_base::util::process::quit_on_closed_pipe();
    }
    // The engine's messages (errors above all) in the language the environment asks for, as the
    // console shows them; the codes stay the same for scripts.
    keyconsole_base::util::i18n::set_current(keyconsole_base::util::i18n::Language::from_env());
    let context = Context {
        keystore: cli.keystore.unwrap_or_else(keyconsole_store::default_path),
        password_file: cli.password_file,
        endpoint: cli.endpoint.filter(|e| !e.trim().is_empty()),
        ca: cli.ca,
        region: cli.region,
    };
    let result = match command {
        Command::Init(args) => context
            .local_only("init")
            .and_then(|()| keystore::init(&context, args)),
        Command::Key(command) => key::run(&context, command),
        Command::Encrypt(args) => crypto::encrypt(&context, args),
        Command::Decrypt(args) => crypto::decrypt(&context, args),
        Command::Sign(args) => pair::sign(&context, args),
        Command::Verify(args) => match pair::verify(&context, args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Reencrypt(args) => crypto::reencrypt(&context, args),
        Command::Datakey(args) => crypto::datakey(&context, args),
        Command::Random(args) => crypto::random(&context, args),
        Command::Passwd(args) => context
            .local_only("passwd")
            .and_then(|()| keystore::passwd(&context, args)),
        Command::File(command) => file::run(&context, command),
        Command::Secret(command) => secret::run(&context, command),
        Command::DbInstance(command) => context
            .local_only("db-instance")
            .and_then(|()| instance::run(&context, command)),
        Command::Serve(args) => context
            .local_only("serve")
            .and_then(|()| api::serve(&context, args)),
        Command::Api(command) => context
            .local_only("api")
            .and_then(|()| api::run(&context, command)),
        Command::User(command) => context
            .local_only("user")
            .and_then(|()| user::run(&context, command)),
        Command::Audit(command) => match audit::run(&context, command) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The cloud's code, as its SDKs report it: scripts match on it, local or remote.
            eprintln!(
                "error: {}: {}",
                keyconsole_api::tencent::codes::code(e.code),
                output::terminal_safe(&e.message_here())
            );
            ExitCode::from(1)
        }
    }
}
