//! `keyconsole user …`: a team's users of the local keystore (the owner manages them; a server
//! serving this keystore signs each user's requests with the user's own keys and checks each
//! against the user's policy). The output of `create` and `rotate-key` is the contract scripts
//! read: the new SecretId and SecretKey (`--json`: `{"SecretId": …, "SecretKey": …}`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Context;
use keyconsole_kms::admin::KeystoreAdmin;
use keyconsole_kms::policy::{Policy, Preset};
use keyconsole_kms::users::UserChange;
use keyconsole_kms::{ApiCredentials, Cloud, ErrorCode, Kms, KmsError, Result};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with a ready-made policy or one from a file; prints its SecretId and SecretKey
    Create(CreateArgs),
    /// List the users, their state, policy and keys (never a secret key)
    List,
    /// Refuse every key of a user from now on
    Disable(NameArgs),
    /// Accept a disabled user's keys again
    Enable(NameArgs),
    /// A new key for a user; the old one keeps working for the grace period, then is refused
    RotateKey(RotateArgs),
    /// Print a user's key for another cloud's dialect (made on first ask)
    Credentials(CredentialsArgs),
    /// Replace a user's policy with the one in a file
    Policy(PolicyArgs),
    /// Delete a user and its keys
    Delete(NameArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    name: String,
    /// A ready-made policy
    #[arg(long, value_parser = ["read-only", "crypto-user", "secret-reader", "key-admin", "admin"],
          required_unless_present = "policy", conflicts_with = "policy")]
    preset: Option<String>,
    /// A policy in CAM's JSON shape
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The keys (crypto-user) or secrets (secret-reader) the preset allows; all when not given
    #[arg(long = "on", value_name = "KEY_OR_SECRET")]
    on: Vec<String>,
    /// Print {"SecretId": …, "SecretKey": …}
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    name: String,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    name: String,
    /// Hours the old key keeps working (0: refused at once)
    #[arg(long, default_value_t = 24)]
    grace_hours: u32,
    #[arg(long, default_value = "tencent", value_parser = ["tencent", "huawei", "jd"])]
    cloud: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    name: String,
    #[arg(long, default_value = "tencent", value_parser = ["tencent", "huawei", "jd"])]
    cloud: String,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    name: String,
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
}

fn read_policy(path: &PathBuf) -> Result<Policy> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        KmsError::new(
            ErrorCode::FileIo,
            keyconsole_base::text!("errors.cannot_read_policy", path = path.display(), e = e),
        )
    })?;
    Policy::parse(&text)
}

fn print_key(credentials: &ApiCredentials, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let written = if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "SecretId": credentials.secret_id,
                "SecretKey": credentials.secret_key.as_str(),
            })
        )
    } else {
        let (id, key) = credentials.cloud.labels();
        writeln!(out, "{id}: {}", credentials.secret_id)
            .and_then(|()| writeln!(out, "{key}: {}", credentials.secret_key.as_str()))
    };
    written.map_err(super::api::stdout_failed)
}

fn cloud(name: &str) -> Cloud {
    Cloud::from_name(name).unwrap_or_default()
}

pub fn run(context: &Context, command: UserCommand) -> Result<()> {
    let kms = context.open()?;
    match command {
        UserCommand::Create(args) => {
            let policy = match (&args.policy, &args.preset) {
                (Some(path), _) => read_policy(path)?,
                (None, Some(preset)) => {
                    let preset = Preset::from_name(preset).unwrap_or(Preset::ReadOnly);
                    // KeyIds, as policies name keys (an alias is resolved now).
                    let on: Vec<String> = match preset {
                        Preset::CryptoUser => args
                            .on
                            .iter()
                            .map(|k| kms.key_id_of(k).ok_or_else(|| no_such_key(k)))
                            .collect::<Result<_>>()?,
                        _ => args.on.clone(),
                    };
                    preset.policy(&on)
                }
                (None, None) => return Err(no_policy()),
            };
            let change = UserChange::Create {
                name: args.name,
                policy,
            };
            print_key(&answered(&kms, context, change)?, args.json)
        }
        UserCommand::List => {
            let mut out = std::io::stdout().lock();
            let now = kms.now();
            for user in kms.users() {
                let state = if user.disabled { "disabled" } else { "enabled" };
                let keys: Vec<String> = user
                    .keys
                    .iter()
                    .map(|(cloud, id, _, expires)| match expires {
                        0 => format!("{}:{id}", cloud.as_str()),
                        t if *t > now => format!(
                            "{}:{id} (until {})",
                            cloud.as_str(),
                            keyconsole_base::util::format_time(*t)
                        ),
                        _ => format!("{}:{id} (expired)", cloud.as_str()),
                    })
                    .collect();
                let last_used = match &user.last_used {
                    Some((time, source)) => format!(
                        "last used {} from {}",
                        keyconsole_base::util::format_time(*time),
                        if source.is_empty() { "-" } else { source }
                    ),
                    None => "never used".to_owned(),
                };
                writeln!(
                    out,
                    "{}\t{state}\t{}\t{}\t{last_used}\t{}",
                    user.name,
                    keyconsole_base::util::format_time(user.created),
                    keys.join(" "),
                    serde_json::to_string(&user.policy).unwrap_or_default()
                )
                .map_err(super::api::stdout_failed)?;
            }
            Ok(())
        }
        UserCommand::Disable(args) => change(&kms, context, UserChange::Disable(args.name)),
        UserCommand::Enable(args) => change(&kms, context, UserChange::Enable(args.name)),
        UserCommand::RotateKey(args) => {
            let change = UserChange::RotateKey {
                name: args.name,
                cloud: cloud(&args.cloud),
                grace_hours: args.grace_hours,
            };
            print_key(&answered(&kms, context, change)?, args.json)
        }
        UserCommand::Credentials(args) => {
            let change = UserChange::Credentials {
                name: args.name,
                cloud: cloud(&args.cloud),
            };
            print_key(&answered(&kms, context, change)?, args.json)
        }
        UserCommand::Policy(args) => {
            let policy = read_policy(&args.policy)?;
            change(
                &kms,
                context,
                UserChange::SetPolicy {
                    name: args.name,
                    policy,
                },
            )
        }
        UserCommand::Delete(args) => change(&kms, context, UserChange::Delete(args.name)),
    }
}

/// A change as the CLI asks it (an event on the audit trail).
fn change(kms: &Kms, context: &Context, change: UserChange) -> Result<()> {
    kms.change_user(&context.caller(), change).map(|_| ())
}

/// A change that answers a key.
fn answered(kms: &Kms, context: &Context, change: UserChange) -> Result<ApiCredentials> {
    kms.change_user(&context.caller(), change)?.ok_or_else(|| {
        KmsError::new(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.no_key_answered"),
        )
    })
}

fn no_such_key(key: &str) -> KmsError {
    KmsError::new(
        ErrorCode::CmkNotFound,
        keyconsole_base::text!("errors.no_key_named", key = key),
    )
}

fn no_policy() -> KmsError {
    KmsError::new(
        ErrorCode::MissingParameter,
        keyconsole_base::text!("errors.user_needs_a_policy"),
    )
}
