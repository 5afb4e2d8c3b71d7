//! `secret …`: Secrets Manager (named, versioned secrets).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::Context;
use super::output::{format_time, print_table, read_input, terminal_safe, write_stdout};
use crate::kms::secrets::rules::{CURRENT_VERSION_ID, VALUE_MAX_BYTES};
use crate::kms::{
    CreateSecret, ErrorCode, KmsError, Result, SecretMetadata, SecretQuery, SecretState,
    SecretStateFilter, SecretValue,
};

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Create a secret with its first version (SSM_v1 unless --version-id)
    Create {
        name: String,
        #[command(flatten)]
        value: ValueArgs,
        #[arg(long, value_name = "V")]
        version_id: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// The CMK that protects the values [default: the secrets manager's own key]
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
    },
    /// Print a version's value to standard output, exactly [default: SSM_Current, the version in use]
    Get {
        name: String,
        #[arg(long, value_name = "V", default_value = CURRENT_VERSION_ID)]
        version_id: String,
    },
    /// Add a version (at most 10 a secret)
    Put {
        name: String,
        #[arg(long, value_name = "V")]
        version_id: String,
        #[command(flatten)]
        value: ValueArgs,
    },
    /// Replace the value of an existing version
    Update {
        name: String,
        #[arg(long, value_name = "V")]
        version_id: String,
        #[command(flatten)]
        value: ValueArgs,
    },
    /// Show a secret's metadata (never its value)
    Describe {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List secrets, newest first
    List {
        #[arg(long, value_enum)]
        state: Option<SecretStateArg>,
        /// Only secrets whose name contains TEXT
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a secret's versions, oldest first
    Versions {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Enable a disabled secret
    Enable { name: String },
    /// Disable a secret: its values can no longer be read
    Disable { name: String },
    /// Bring a secret pending deletion back (as Disabled)
    Restore { name: String },
    /// Delete one version at once
    DeleteVersion {
        name: String,
        #[arg(long, value_name = "V")]
        version_id: String,
    },
    /// Delete a disabled secret: at once (0, the default) or after 1-30 days
    Delete {
        name: String,
        #[arg(long, value_name = "N", default_value_t = 0)]
        recovery_days: u32,
    },
    /// Change a secret's description
    SetDescription { name: String, description: String },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["value_file", "value_stdin"])))]
pub struct ValueArgs {
    /// Read the value from FILE
    #[arg(long, value_name = "F")]
    value_file: Option<PathBuf>,
    /// Read the value from standard input
    #[arg(long)]
    value_stdin: bool,
    /// The value is binary (SecretBinary) rather than UTF-8 text (SecretString)
    #[arg(long)]
    binary: bool,
}

impl ValueArgs {
    fn read(&self) -> Result<SecretValue> {
        let bytes = read_input(
            self.value_file.as_deref().filter(|_| !self.value_stdin),
            VALUE_MAX_BYTES + 1,
        )?;
        if self.binary {
            return Ok(SecretValue::Binary(bytes));
        }
        match std::str::from_utf8(&bytes) {
            Ok(text) => Ok(SecretValue::Text(Zeroizing::new(text.to_owned()))),
            Err(_) => Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                "The value is not UTF-8 text; give --binary to keep it as SecretBinary.",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SecretStateArg {
    Enabled,
    Disabled,
    PendingDelete,
}

impl From<SecretStateArg> for SecretState {
    fn from(state: SecretStateArg) -> Self {
        match state {
            SecretStateArg::Enabled => SecretState::Enabled,
            SecretStateArg::Disabled => SecretState::Disabled,
            SecretStateArg::PendingDelete => SecretState::PendingDelete,
        }
    }
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

fn print_details(secret: &SecretMetadata) {
    let rows = [
        ("SecretName", secret.name.clone()),
        ("Description", secret.description.clone()),
        ("Status", secret.state.as_str().to_owned()),
        ("KmsKeyId", secret.key_id.clone()),
        (
            "KmsKeyType",
            if secret.default_key {
                "DEFAULT"
            } else {
                "CUSTOMER"
            }
            .to_owned(),
        ),
        ("CreateTime", format_time(secret.create_time)),
        ("DeleteTime", format_time(secret.delete_time)),
        ("Versions", secret.version_count.to_string()),
    ];
    for (label, value) in rows {
        println!("{label:<14}{}", terminal_safe(&value));
    }
}

pub fn run(context: &Context, command: SecretCommand) -> Result<()> {
    // The value is read before the keystore is opened, so a prompt for the password never mixes
    // with standard input.
    let value = match &command {
        SecretCommand::Create { value, .. }
        | SecretCommand::Put { value, .. }
        | SecretCommand::Update { value, .. } => Some(value.read()?),
        _ => None,
    };
    let kms = context.open()?;
    match command {
        SecretCommand::Create {
            name,
            version_id,
            description,
            key,
            ..
        } => {
            let (_, version_id) = kms.create_secret(CreateSecret {
                name,
                version_id,
                description,
                key,
                value: value.expect("read above"),
            })?;
            eprintln!("Created version {version_id}.");
        }
        SecretCommand::Get { name, version_id } => {
            let value = kms.get_secret_value(&name, &version_id)?;
            write_stdout(value.bytes())?;
        }
        SecretCommand::Put {
            name, version_id, ..
        } => kms.put_secret_value(&name, &version_id, value.expect("read above"))?,
        SecretCommand::Update {
            name, version_id, ..
        } => kms.update_secret_value(&name, &version_id, value.expect("read above"))?,
        SecretCommand::Describe { name, json } => {
            let secret = kms.describe_secret(&name)?;
            if json {
                print_json(&secret.to_cloud_json());
            } else {
                print_details(&secret);
            }
        }
        SecretCommand::List {
            state,
            search,
            json,
        } => {
            let page = kms.list_secrets(&SecretQuery {
                state: state.map_or(SecretStateFilter::All, |s| {
                    SecretStateFilter::Only(s.into())
                }),
                search,
                limit: Some(crate::kms::secrets::rules::LIST_LIMIT_MAX),
                ..SecretQuery::default()
            })?;
            if json {
                let list: Vec<Value> = page
                    .secrets
                    .iter()
                    .map(SecretMetadata::to_cloud_json)
                    .collect();
                print_json(&Value::Array(list));
            } else if page.secrets.is_empty() {
                eprintln!("No secrets.");
            } else {
                let rows: Vec<Vec<String>> = page
                    .secrets
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            s.state.as_str().to_owned(),
                            s.version_count.to_string(),
                            s.key_id.clone(),
                            format_time(s.create_time),
                            s.description.clone(),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "SecretName",
                        "Status",
                        "Versions",
                        "KmsKeyId",
                        "Created",
                        "Description",
                    ],
                    &rows,
                );
            }
        }
        SecretCommand::Versions { name, json } => {
            let versions = kms.secret_versions(&name)?;
            if json {
                let list: Vec<Value> = versions
                    .iter()
                    .map(|(id, time)| json!({"VersionId": id, "CreateTime": time}))
                    .collect();
                print_json(&Value::Array(list));
            } else {
                let rows: Vec<Vec<String>> = versions
                    .iter()
                    .map(|(id, time)| vec![id.clone(), format_time(*time)])
                    .collect();
                print_table(&["VersionId", "Created"], &rows);
            }
        }
        SecretCommand::Enable { name } => kms.enable_secret(&name)?,
        SecretCommand::Disable { name } => kms.disable_secret(&name)?,
        SecretCommand::Restore { name } => kms.restore_secret(&name)?,
        SecretCommand::DeleteVersion { name, version_id } => {
            kms.delete_secret_version(&name, &version_id)?;
        }
        SecretCommand::Delete {
            name,
            recovery_days,
        } => {
            let when = kms.delete_secret(&name, recovery_days)?;
            if recovery_days > 0 {
                println!("{}", format_time(when));
            }
        }
        SecretCommand::SetDescription { name, description } => {
            kms.update_secret_description(&name, &description)?;
        }
    }
    Ok(())
}
