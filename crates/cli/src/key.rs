//! `key …`: CMK management.

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use super::Context;
use super::output::{format_time, print_table, rotation_summary, terminal_safe};
use super::tags::{self, TagEdit};
use keyconsole_api::tencent::shapes::key_metadata_with_versions;
use keyconsole_kms::{CreateKey, KeyChange, KeyChanged, KeyMetadata, KeyQuery, KeyState, Result};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key; prints its KeyId
    Create {
        #[arg(long)]
        alias: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Turn on automatic rotation every N days (7-365)
        #[arg(long, value_name = "N")]
        rotate_days: Option<u32>,
        /// A tag (repeatable)
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Vec<String>,
        /// What the key does: ENCRYPT_DECRYPT (default), ASYMMETRIC_DECRYPT_RSA_2048,
        /// ASYMMETRIC_DECRYPT_SM2, ASYMMETRIC_SIGN_VERIFY_SM2, ASYMMETRIC_SIGN_VERIFY_ECC,
        /// ASYMMETRIC_SIGN_VERIFY_RSA_2048 or ASYMMETRIC_SIGN_VERIFY_ECDSA384
        #[arg(long, value_name = "USAGE")]
        usage: Option<String>,
        /// An SM4 key (国密) instead of AES-256 (ENCRYPT_DECRYPT keys only)
        #[arg(long)]
        sm4: bool,
        /// Import the key material yourself (an EXTERNAL key, PendingImport until `key import`)
        #[arg(long, conflicts_with = "rotate_days")]
        external: bool,
    },
    /// Get a wrapping public key and an import token for an EXTERNAL key (valid 24 hours)
    ImportParams(super::pair::ImportParamsArgs),
    /// Import wrapped key material into an EXTERNAL key
    Import(super::pair::ImportArgs),
    /// Delete an EXTERNAL key's imported material (it waits for an import again)
    DeleteMaterial { key: String },
    /// Print a key pair's public key (base64 DER, or PEM with --pem)
    PublicKey(super::pair::PublicKeyArgs),
    /// List keys, newest first
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        /// Only keys whose KeyId or alias contains TEXT
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Only keys with this tag (any value, or VALUE); repeat to ask for several
        #[arg(long, value_name = "KEY[=VALUE]")]
        tag: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show every field of a key
    Describe {
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a key's alias or description
    Update {
        key: String,
        #[arg(long)]
        alias: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Enable keys (up to 100, all or none)
    Enable {
        #[arg(required = true, num_args = 1..)]
        keys: Vec<String>,
    },
    /// Disable keys (up to 100, all or none)
    Disable {
        #[arg(required = true, num_args = 1..)]
        keys: Vec<String>,
    },
    /// Schedule a disabled key's deletion in 7-30 days; prints the deletion date
    ScheduleDeletion {
        key: String,
        #[arg(long)]
        days: u32,
    },
    /// Cancel a scheduled deletion (the key goes back to Disabled)
    CancelDeletion { key: String },
    /// Archive a key: it still decrypts but no longer encrypts
    Archive { key: String },
    /// Bring an archived key back to Enabled
    Unarchive { key: String },
    /// Add a new key version now
    Rotate { key: String },
    /// Turn automatic rotation on or off
    Rotation(RotationArgs),
    /// Show a key's tags, or change them
    Tag {
        key: String,
        #[command(flatten)]
        edit: TagEdit,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("switch").required(true).args(["enable", "disable"])))]
pub struct RotationArgs {
    key: String,
    #[arg(long)]
    enable: bool,
    /// Rotate every N days (7-365, default 365)
    #[arg(long, requires = "enable", value_name = "N")]
    days: Option<u32>,
    #[arg(long)]
    disable: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StateArg {
    Enabled,
    Disabled,
    PendingDelete,
    Archived,
}

impl From<StateArg> for KeyState {
    fn from(state: StateArg) -> Self {
        match state {
            StateArg::Enabled => KeyState::Enabled,
            StateArg::Disabled => KeyState::Disabled,
            StateArg::PendingDelete => KeyState::PendingDelete,
            StateArg::Archived => KeyState::Archived,
        }
    }
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

fn print_details(key: &KeyMetadata) {
    let rows = [
        ("KeyId", key.key_id.clone()),
        ("Alias", key.alias.clone()),
        ("Description", key.description.clone()),
        ("KeyState", key.key_state.as_str().to_owned()),
        ("KeyUsage", key.key_usage.clone()),
        ("KeySpec", key.key_spec.clone()),
        ("Origin", key.origin.clone()),
        (
            "ValidTo",
            if key.valid_to == 0 {
                "-".to_owned()
            } else {
                format_time(key.valid_to)
            },
        ),
        ("CreateTime", format_time(key.create_time)),
        ("KeyRotationEnabled", key.key_rotation_enabled.to_string()),
        ("RotateDays", key.rotate_days.to_string()),
        ("LastRotateTime", format_time(key.last_rotate_time)),
        ("NextRotateTime", format_time(key.next_rotate_time)),
        // A server's KeyMetadata does not tell (0).
        (
            "KeyVersions",
            match key.version_count {
                0 => "-".to_owned(),
                n => n.to_string(),
            },
        ),
        ("DeletionDate", format_time(key.deletion_date)),
        ("Owner", key.owner.as_str().to_owned()),
        ("Tags", tags::summary(&key.tags)),
    ];
    for (label, value) in rows {
        println!("{label:<20}{}", terminal_safe(&value));
    }
}

pub fn run(context: &Context, command: KeyCommand) -> Result<()> {
    let service = context.service()?;
    let caller = context.caller();
    let change = |key: String, change: KeyChange| service.change_keys(&caller, &[key], change);
    match command {
        KeyCommand::Create {
            alias,
            description,
            rotate_days,
            tag,
            usage,
            sm4,
            external,
        } => {
            let key = service.create_key(
                &caller,
                CreateKey {
                    alias,
                    description,
                    key_usage: usage,
                    spec: sm4.then_some(keyconsole_kms::KeySpec::Sm4),
                    external,
                    rotate_days,
                    tags: tags::parse(&tag),
                },
            )?;
            println!("{}", key.key_id);
        }
        KeyCommand::List {
            state,
            search,
            tag,
            json,
        } => {
            let page = service.list_keys(
                &caller,
                &KeyQuery {
                    state: state.map(KeyState::from).into(),
                    search,
                    tags: tags::filters(&tag),
                    ..KeyQuery::default()
                },
            )?;
            if json {
                let keys: Vec<_> = page.keys.iter().map(key_metadata_with_versions).collect();
                print_json(&serde_json::json!({
                    "TotalCount": page.total,
                    "KeyMetadatas": keys,
                }));
            } else if page.keys.is_empty() {
                eprintln!("No keys.");
            } else {
                let rows: Vec<Vec<String>> = page
                    .keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.key_id.clone(),
                            k.alias.clone(),
                            k.key_state.as_str().to_owned(),
                            k.key_usage.clone(),
                            k.origin.clone(),
                            format_time(k.create_time),
                            rotation_summary(k),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "KeyId", "Alias", "State", "Usage", "Origin", "Created", "Rotation",
                    ],
                    &rows,
                );
            }
        }
        KeyCommand::PublicKey(args) => return super::pair::public_key(context, args),
        KeyCommand::ImportParams(args) => return super::pair::import_params(context, args),
        KeyCommand::Import(args) => return super::pair::import(context, args),
        KeyCommand::DeleteMaterial { key } => {
            change(key, KeyChange::DeleteMaterial)?;
            eprintln!("Key material deleted; the key is PendingImport.");
        }
        KeyCommand::Describe { key, json } => {
            let key = service.describe_key(&caller, &key)?;
            if json {
                print_json(&key_metadata_with_versions(&key));
            } else {
                print_details(&key);
            }
        }
        KeyCommand::Update {
            key,
            alias,
            description,
        } => {
            change(key, KeyChange::Update { alias, description })?;
        }
        KeyCommand::Enable { keys } => {
            service.change_keys(&caller, &keys, KeyChange::Enable)?;
        }
        KeyCommand::Disable { keys } => {
            service.change_keys(&caller, &keys, KeyChange::Disable)?;
        }
        KeyCommand::ScheduleDeletion { key, days } => {
            if let KeyChanged::DeletionDate(date) =
                change(key, KeyChange::ScheduleDeletion { days })?
            {
                println!("{}", format_time(date));
            }
        }
        KeyCommand::CancelDeletion { key } => {
            change(key, KeyChange::CancelDeletion)?;
        }
        KeyCommand::Archive { key } => {
            change(key, KeyChange::Archive)?;
        }
        KeyCommand::Unarchive { key } => {
            change(key, KeyChange::Unarchive)?;
        }
        KeyCommand::Rotate { key } => {
            match change(key, KeyChange::Rotate)? {
                // A server's RotateKey does not say which version it made.
                KeyChanged::Version(0) => {
                    eprintln!("A new key version is now used for encryption.")
                }
                KeyChanged::Version(version) => {
                    eprintln!("Key version {version} is now used for encryption.");
                }
                KeyChanged::Done | KeyChanged::DeletionDate(_) => {}
            }
        }
        KeyCommand::Rotation(args) => {
            let switch = if args.enable {
                KeyChange::EnableRotation { days: args.days }
            } else {
                KeyChange::DisableRotation
            };
            change(args.key, switch)?;
        }
        KeyCommand::Tag { key, edit } => {
            if !edit.is_empty() {
                change(
                    key.clone(),
                    KeyChange::Tag {
                        set: tags::parse(&edit.set),
                        remove: edit.remove,
                    },
                )?;
            }
            tags::print(&service.describe_key(&caller, &key)?.tags);
        }
    }
    Ok(())
}
