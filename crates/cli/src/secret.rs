//! `secret …`: Secrets Manager (named, versioned secrets).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::Context;
use super::output::{
    OutputFile, format_time, print_table, read_input, terminal_safe, write_stdout,
};
use super::tags::{self, TagEdit};
use keyconsole_api::tencent::shapes::{describe_secret, secret_metadata, tags_json};
use keyconsole_base::util::database::DbEndpoint;
use keyconsole_base::util::db_accounts::{Grant, GrantLevel};
use keyconsole_kms::secrets::database::PASSWORD_MAX_BYTES;
use keyconsole_kms::secrets::rules::{CURRENT_VERSION_ID, VALUE_MAX_BYTES};
use keyconsole_kms::secrets::{CreateDatabaseSecret, RotationDetail, RotationStep};
use keyconsole_kms::{
    CreateSecret, ErrorCode, KeystoreAdmin, KmsError, Result, SecretChange, SecretChanged,
    SecretMetadata, SecretQuery, SecretState, SecretStateFilter, SecretType, SecretValue,
    secrets::{CreateProductSecret, CreateSshKeyPairSecret, TaskStatus},
};

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Create a secret with its first version (SSM_v1 unless --version-id), or one holding a
    /// database user's credentials (--database; the password must log in)
    Create {
        name: String,
        #[command(flatten)]
        value: CreateValueArgs,
        #[arg(long, value_name = "V", conflicts_with = "database")]
        version_id: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// The CMK that protects the values [default: the secrets manager's own key]
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
        /// A tag (repeatable)
        #[arg(long, value_name = "KEY=VALUE", conflicts_with = "database")]
        tag: Vec<String>,
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
        /// Only secrets with this tag (any value, or VALUE); repeat to ask for several
        #[arg(long, value_name = "KEY[=VALUE]")]
        tag: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a secret's versions, oldest first
    Versions {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Make an SSH key pair (Ed25519) kept as a secret; prints its public key (OpenSSH)
    CreateSshKey {
        name: String,
        /// The key pair's name (letters, digits, _; at most 25) [default: the secret's name]
        #[arg(long, value_name = "NAME")]
        ssh_key_name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// The CMK that protects the private key [default: the secrets manager's own key]
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 0)]
        project_id: u64,
        /// A tag (repeatable)
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Vec<String>,
    },
    /// Make a database account through a registered instance (db-instance add) and keep it as a
    /// database secret that rotates; prints the FlowID once the account is made
    CreateProduct {
        name: String,
        /// The instance (db-instance add) whose administrator makes the account
        #[arg(long, value_name = "ID")]
        instance: String,
        /// The account's name: PREFIX_ and six letters or digits (PREFIX: 1-8 letters, digits, _)
        #[arg(long, value_name = "PREFIX")]
        user_prefix: String,
        /// Where the account may log in from (MySQL/MariaDB host pattern) [default: %]
        #[arg(long, value_name = "HOST")]
        domain: Option<String>,
        /// Privileges, e.g. 'SELECT,INSERT ON shop.*', 'SELECT ON shop.orders',
        /// 'PROCESS ON *.*', 'CONNECT ON shop' (PostgreSQL database); repeatable
        #[arg(long, value_name = "PRIVS ON WHAT", required = true)]
        grant: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// The CMK that protects the password [default: the secrets manager's own key]
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
        /// Rotate the password automatically every N days (1-365)
        #[arg(long, value_name = "N")]
        rotate_days: Option<u32>,
        /// `Mysql` or `PostgreSQL` [default: the instance's]
        #[arg(long, value_name = "PRODUCT")]
        product: Option<String>,
        /// A tag (repeatable)
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Vec<String>,
    },
    /// Print an SSH key-pair secret's public key, or with --private-key its private key
    SshKey {
        name: String,
        /// The private key (OpenSSH format) instead, e.g. to --out ~/.ssh/id_deploy
        #[arg(long)]
        private_key: bool,
        #[command(flatten)]
        out: OutputFile,
    },
    /// Show a secret's tags, or change them
    Tag {
        name: String,
        #[command(flatten)]
        edit: TagEdit,
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
    /// Rotate a database secret's password now (or finish a rotation that was cut off)
    Rotate { name: String },
    /// Turn a database secret's automatic rotation on or off; without either, show it and its history
    #[command(group(ArgGroup::new("switch").args(["enable", "disable"])))]
    Rotation {
        name: String,
        #[arg(long, requires = "days")]
        enable: bool,
        #[arg(long)]
        disable: bool,
        /// Rotate every N days (1-365)
        #[arg(long, value_name = "N")]
        days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
}

/// Where a new secret's value comes from: a file or standard input, or a database user whose
/// credentials it holds.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("create_source").required(true).args(["value_file", "value_stdin", "database"])))]
pub struct CreateValueArgs {
    /// Read the value from FILE
    #[arg(long, value_name = "F")]
    value_file: Option<PathBuf>,
    /// Read the value from standard input
    #[arg(long)]
    value_stdin: bool,
    /// The value is binary (SecretBinary) rather than UTF-8 text (SecretString)
    #[arg(long, conflicts_with = "database")]
    binary: bool,
    /// Keep this database user's credentials: mysql://USER@HOST:PORT (MySQL or MariaDB) or
    /// postgres://USER@HOST:PORT
    #[arg(long, value_name = "URL", requires = "password_file")]
    database: Option<String>,
    /// The database user's current password (one line)
    #[arg(long, value_name = "F", requires = "database")]
    password_file: Option<PathBuf>,
    /// Rotate the password automatically every N days (1-365)
    #[arg(long, value_name = "N", requires = "database")]
    rotate_days: Option<u32>,
}

/// `PRIVS ON WHAT`: `*.*` every database, `db.*` (or a bare `db`) a database, `db.table` or
/// `db.schema.table` a table.
fn parse_grant(text: &str) -> Result<Grant> {
    let bad = || {
        KmsError::new(
            ErrorCode::InvalidParameterValue,
            format!("{text:?} is not PRIVILEGES ON WHAT (e.g. 'SELECT,INSERT ON shop.*')."),
        )
    };
    let upper = text.to_ascii_uppercase();
    let at = upper.find(" ON ").ok_or_else(bad)?;
    let privileges: Vec<String> = text[..at]
        .split(',')
        .map(|p| p.trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty())
        .collect();
    let what: Vec<&str> = text[at + 4..].trim().split('.').collect();
    let level = match what.as_slice() {
        ["*", "*"] => GrantLevel::Global,
        [database, "*"] | [database] => GrantLevel::Database((*database).to_owned()),
        [database, table] => GrantLevel::Table {
            database: (*database).to_owned(),
            schema: String::new(),
            table: (*table).to_owned(),
        },
        [database, schema, table] => GrantLevel::Table {
            database: (*database).to_owned(),
            schema: (*schema).to_owned(),
            table: (*table).to_owned(),
        },
        _ => return Err(bad()),
    };
    Ok(Grant { level, privileges })
}

/// The product (`Mysql`, `PostgreSQL`) of a registered instance of the local keystore.
fn product_of_instance(context: &Context, instance: &str) -> Result<String> {
    let kms = context.open()?;
    KeystoreAdmin::db_instances(&kms)
        .into_iter()
        .find(|i| i.instance_id == instance)
        .map(|i| keyconsole_kms::secrets::record::product_name(i.endpoint.engine).to_owned())
        .ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                format!("No instance {instance} is registered here; give --product."),
            )
        })
}

/// Set to a step number (1-3) by the tests: the process kills itself (SIGKILL) right after that
/// rotation step, to prove the next rotation finishes the job.
const ABORT_AFTER_STEP_VARIABLE: &str = "KEYCONSOLE_TEST_ABORT_AFTER_ROTATION_STEP";

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
        read_value(self.value_file.as_deref(), self.value_stdin, self.binary)
    }
}

impl CreateValueArgs {
    /// The value to store, or (for a database secret) the password read from its file.
    fn read(&self) -> Result<SecretValue> {
        match &self.password_file {
            Some(path) => {
                let mut bytes = read_input(Some(path), PASSWORD_MAX_BYTES + 2)?;
                for end in [b'\n', b'\r'] {
                    if bytes.last() == Some(&end) {
                        bytes.pop();
                    }
                }
                text_value(bytes, "The password file is not UTF-8 text.")
            }
            None => read_value(self.value_file.as_deref(), self.value_stdin, self.binary),
        }
    }
}

fn read_value(file: Option<&Path>, stdin: bool, binary: bool) -> Result<SecretValue> {
    let bytes = read_input(file.filter(|_| !stdin), VALUE_MAX_BYTES + 1)?;
    if binary {
        return Ok(SecretValue::Binary(bytes));
    }
    text_value(
        bytes,
        "The value is not UTF-8 text; give --binary to keep it as SecretBinary.",
    )
}

fn text_value(bytes: Zeroizing<Vec<u8>>, not_text: &str) -> Result<SecretValue> {
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(SecretValue::Text(Zeroizing::new(text.to_owned()))),
        Err(_) => Err(KmsError::new(ErrorCode::InvalidParameterValue, not_text)),
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
        ("Tags", tags::summary(&secret.tags)),
    ];
    let mut rows = rows.to_vec();
    if let Some(pair) = &secret.ssh {
        rows.extend([
            ("SecretType", "SSH key pair".to_owned()),
            ("SSHKeyID", pair.key_id.clone()),
            ("SSHKeyName", pair.key_name.clone()),
            ("ProjectID", pair.project_id.to_string()),
        ]);
        if !pair.public_key.is_empty() {
            rows.push(("PublicKey", pair.public_key.clone()));
        }
    }
    if let Some(database) = &secret.database {
        rows.extend([
            ("SecretType", "database credentials".to_owned()),
            ("Database", database.endpoint.to_string()),
            ("Current", database.current_version.clone()),
            (
                "Previous",
                database.previous_version.clone().unwrap_or_default(),
            ),
            (
                "Pending",
                database.pending_version.clone().unwrap_or_default(),
            ),
            (
                "Rotation",
                rotation_text(database.rotation_enabled, database.rotate_days),
            ),
            ("LastRotation", format_time(database.last_rotation_time)),
            (
                "NextRotation",
                format_time(if database.rotation_enabled {
                    database.next_rotation_time
                } else {
                    0
                }),
            ),
        ]);
    }
    for (label, value) in rows {
        println!("{label:<14}{}", terminal_safe(&value));
    }
}

fn rotation_text(enabled: bool, days: u32) -> String {
    if enabled {
        format!("every {days} days")
    } else {
        "off".to_owned()
    }
}

fn print_rotation(name: &str, detail: &RotationDetail, json: bool) {
    if json {
        let history: Vec<Value> = detail
            .history
            .iter()
            .map(|r| {
                json!({"Time": r.time, "VersionId": r.version_id, "Succeeded": r.succeeded(),
                       "Error": r.error, "Milliseconds": r.millis})
            })
            .collect();
        print_json(&json!({
            "SecretName": name,
            "EnableRotation": detail.enabled,
            "Frequency": detail.rotate_days,
            "LatestRotateTime": detail.last_rotation_time,
            "NextRotateBeginTime": detail.next_rotation_time,
            "PendingVersion": detail.pending_version,
            "History": history,
        }));
        return;
    }
    println!(
        "{:<14}{}",
        "Rotation",
        rotation_text(detail.enabled, detail.rotate_days)
    );
    println!(
        "{:<14}{}",
        "LastRotation",
        format_time(detail.last_rotation_time)
    );
    println!(
        "{:<14}{}",
        "NextRotation",
        format_time(detail.next_rotation_time)
    );
    if let Some(pending) = &detail.pending_version {
        println!(
            "{:<14}{pending} (a rotation was cut off; `secret rotate {name}` finishes it)",
            "Pending"
        );
    }
    if detail.history.is_empty() {
        return;
    }
    println!();
    let rows: Vec<Vec<String>> = detail
        .history
        .iter()
        .map(|r| {
            vec![
                format_time(r.time),
                r.version_id.clone(),
                if r.succeeded() {
                    "ok".to_owned()
                } else {
                    r.error.clone()
                },
                format!("{} ms", r.millis),
            ]
        })
        .collect();
    print_table(&["Time", "VersionId", "Result", "Took"], &rows);
}

/// The rotation probe of the CLI: reports each step on standard error, and kills the process
/// after the step the tests name in `KEYCONSOLE_TEST_ABORT_AFTER_ROTATION_STEP`.
fn rotation_probe() -> impl FnMut(RotationStep) -> ControlFlow<()> {
    let abort_after = std::env::var(ABORT_AFTER_STEP_VARIABLE)
        .ok()
        .and_then(|n| n.parse::<usize>().ok());
    move |step| {
        eprintln!("step {}/4: {}", step.number(), step.label());
        if abort_after == Some(step.number()) {
            // SAFETY: signalling this very process; SIGKILL cannot be caught, nothing runs after.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
        ControlFlow::Continue(())
    }
}

pub fn run(context: &Context, command: SecretCommand) -> Result<()> {
    // The value is read before the keystore is opened, so a prompt for the password never mixes
    // with standard input.
    let value = match &command {
        SecretCommand::Create { value, .. } => Some(value.read()?),
        SecretCommand::Put { value, .. } | SecretCommand::Update { value, .. } => {
            Some(value.read()?)
        }
        _ => None,
    };
    // Database secrets: made where the service runs (it logs in from there), rotated there.
    match command {
        SecretCommand::Create {
            name,
            description,
            key,
            value:
                CreateValueArgs {
                    database: Some(url),
                    rotate_days,
                    ..
                },
            ..
        } => {
            let service = context.service()?;
            let Some(SecretValue::Text(password)) = value else {
                return Err(KmsError::new(
                    ErrorCode::InternalError,
                    "The password was read as binary.",
                ));
            };
            let endpoint = DbEndpoint::parse(&url)
                .map_err(|why| KmsError::new(ErrorCode::InvalidParameterValue, why))?;
            let (_, version_id) = service.create_database_secret(
                &context.caller(),
                CreateDatabaseSecret {
                    name,
                    description,
                    key,
                    endpoint,
                    password,
                    rotate_days,
                },
            )?;
            eprintln!("Created version {version_id}.");
            Ok(())
        }
        SecretCommand::Rotate { name } => {
            let version_id = if context.endpoint.is_some() {
                match context.service()?.change_secret(
                    &context.caller(),
                    &name,
                    SecretChange::Rotate,
                )? {
                    SecretChanged::Rotated { version_id, .. } => version_id,
                    SecretChanged::Done | SecretChanged::DeleteTime(_) => String::new(),
                }
            } else {
                // Locally each step is told as it completes (and a test may stop it there).
                context
                    .open()?
                    .rotate_secret(&name, &mut rotation_probe())?
                    .version_id
            };
            println!("{version_id}");
            Ok(())
        }
        SecretCommand::Rotation {
            name,
            enable,
            disable,
            days,
            json,
        } => {
            let service = context.service()?;
            let caller = context.caller();
            let changed = enable || disable;
            if changed {
                let change = SecretChange::SetRotation {
                    enabled: enable,
                    days,
                    begin: None,
                };
                service.change_secret(&caller, &name, change)?;
            } else if days.is_some() {
                return Err(KmsError::new(
                    ErrorCode::InvalidParameter,
                    "--days goes with --enable.",
                ));
            }
            match service.rotation_detail(&caller, &name) {
                Ok(detail) => print_rotation(&name, &detail, json),
                // A server saves the setting but does not tell its history: the change stands.
                Err(e) if changed && e.code == ErrorCode::UnsupportedOperation => {
                    eprintln!("Saved. {}", terminal_safe(&e.message_here()));
                }
                Err(e) => return Err(e),
            }
            Ok(())
        }
        command => run_on_service(context, command, value),
    }
}

/// Every other command, on the local keystore or the server `--endpoint` names.
fn run_on_service(
    context: &Context,
    command: SecretCommand,
    value: Option<SecretValue>,
) -> Result<()> {
    let service = context.service()?;
    let caller = context.caller();
    let change = |name: &str, change: SecretChange| service.change_secret(&caller, name, change);
    let value =
        || value.ok_or_else(|| KmsError::new(ErrorCode::InternalError, "The value was not read."));
    match command {
        SecretCommand::Create {
            name,
            version_id,
            description,
            key,
            tag,
            ..
        } => {
            let (_, version_id) = service.create_secret(
                &caller,
                CreateSecret {
                    name,
                    version_id,
                    description,
                    key,
                    value: value()?,
                    tags: tags::parse(&tag),
                },
            )?;
            eprintln!("Created version {version_id}.");
        }
        SecretCommand::Get { name, version_id } => {
            let value = service.get_secret_value(&caller, &name, &version_id)?;
            write_stdout(value.bytes())?;
        }
        SecretCommand::Put {
            name, version_id, ..
        } => {
            let value = value()?;
            change(&name, SecretChange::PutValue { version_id, value })?;
        }
        SecretCommand::Update {
            name, version_id, ..
        } => {
            let value = value()?;
            change(&name, SecretChange::UpdateValue { version_id, value })?;
        }
        SecretCommand::Describe { name, json } => {
            let secret = service.describe_secret(&caller, &name)?;
            if json {
                // DescribeSecret's fields, and two of keyconsole's: whose key protects it, and
                // its tags.
                let mut answer = describe_secret(&secret);
                let key_type = if secret.default_key {
                    "DEFAULT"
                } else {
                    "CUSTOMER"
                };
                answer.insert("KmsKeyType".to_owned(), json!(key_type));
                answer.insert("Tags".to_owned(), tags_json(&secret.tags));
                print_json(&Value::Object(answer));
            } else {
                print_details(&secret);
            }
        }
        SecretCommand::List {
            state,
            search,
            tag,
            json,
        } => {
            // Every secret, a page (the listing's largest) at a time: a keystore may hold more
            // than one page, and a list that stopped at a page would hide the rest silently.
            let mut query = SecretQuery {
                state: state.map_or(SecretStateFilter::All, |s| {
                    SecretStateFilter::Only(s.into())
                }),
                search,
                limit: Some(keyconsole_kms::secrets::rules::LIST_LIMIT_MAX),
                tags: tags::filters(&tag),
                ..SecretQuery::default()
            };
            let mut page = service.list_secrets(&caller, &query)?;
            while page.secrets.len() < page.total {
                query.offset = page.secrets.len();
                let next = service.list_secrets(&caller, &query)?;
                if next.secrets.is_empty() {
                    break;
                }
                page.secrets.extend(next.secrets);
            }
            if json {
                let list: Vec<Value> = page.secrets.iter().map(secret_metadata).collect();
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
                            match s.secret_type() {
                                SecretType::Database => "database",
                                SecretType::SshKeyPair => "ssh key pair",
                                SecretType::Custom => "custom",
                            }
                            .to_owned(),
                            s.state.as_str().to_owned(),
                            s.version_count.to_string(),
                            s.key_id.clone(),
                            format_time(s.create_time),
                            s.database.as_ref().map_or("-".to_owned(), |d| {
                                rotation_text(d.rotation_enabled, d.rotate_days)
                            }),
                            s.description.clone(),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "SecretName",
                        "Type",
                        "Status",
                        "Versions",
                        "KmsKeyId",
                        "Created",
                        "Rotation",
                        "Description",
                    ],
                    &rows,
                );
            }
        }
        SecretCommand::Versions { name, json } => {
            let versions = service.secret_versions(&caller, &name)?;
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
        SecretCommand::CreateProduct {
            name,
            instance,
            user_prefix,
            domain,
            grant,
            description,
            key,
            rotate_days,
            product,
            tag,
        } => {
            let product = match product {
                Some(product) => product,
                None => product_of_instance(context, &instance)?,
            };
            let grants = grant
                .iter()
                .map(|g| parse_grant(g))
                .collect::<Result<Vec<_>>>()?;
            let (name, flow_id) = service.create_product_secret(
                &caller,
                CreateProductSecret {
                    name,
                    description,
                    key,
                    instance_id: instance,
                    product,
                    user_name_prefix: user_prefix,
                    domains: domain.into_iter().collect(),
                    grants,
                    rotate_days,
                    rotation_begin: None,
                    tags: tags::parse(&tag),
                },
            )?;
            let task = service.product_task(&caller, flow_id)?;
            match task.status {
                TaskStatus::Succeeded => {
                    println!("{flow_id}");
                    eprintln!("Created secret {name}: {}", task.description);
                }
                TaskStatus::Running => {
                    println!("{flow_id}");
                    eprintln!("Secret {name} is being made (FlowID {flow_id}).");
                }
                TaskStatus::Failed => {
                    let description = task.description_in(keyconsole_base::util::i18n::current());
                    return Err(KmsError::new(
                        ErrorCode::FailedOperation,
                        description.to_owned(),
                    ));
                }
            }
        }
        SecretCommand::CreateSshKey {
            name,
            ssh_key_name,
            description,
            key,
            project_id,
            tag,
        } => {
            let (_, pair) = service.create_ssh_key_pair_secret(
                &caller,
                CreateSshKeyPairSecret {
                    name,
                    description,
                    key,
                    key_name: ssh_key_name,
                    project_id,
                    tags: tags::parse(&tag),
                },
            )?;
            println!("{}", pair.public_key);
            eprintln!("Created SSH key pair {} ({}).", pair.key_id, pair.key_name);
        }
        SecretCommand::SshKey {
            name,
            private_key,
            out,
        } => {
            out.check(service.keystore_path())?;
            let (pair, _, private) = service.ssh_key_pair_value(&caller, Some(&name), None)?;
            if private_key {
                out.write(service.keystore_path(), private.as_bytes())?;
            } else {
                out.write(
                    service.keystore_path(),
                    format!("{}\n", pair.public_key).as_bytes(),
                )?;
            }
        }
        SecretCommand::Tag { name, edit } => {
            if !edit.is_empty() {
                change(
                    &name,
                    SecretChange::Tag {
                        set: tags::parse(&edit.set),
                        remove: edit.remove,
                    },
                )?;
            }
            tags::print(&service.describe_secret(&caller, &name)?.tags);
        }
        SecretCommand::Enable { name } => {
            change(&name, SecretChange::Enable)?;
        }
        SecretCommand::Disable { name } => {
            change(&name, SecretChange::Disable)?;
        }
        SecretCommand::Restore { name } => {
            change(&name, SecretChange::Restore)?;
        }
        SecretCommand::DeleteVersion { name, version_id } => {
            change(&name, SecretChange::DeleteVersion { version_id })?;
        }
        SecretCommand::Delete {
            name,
            recovery_days,
        } => {
            let changed = change(&name, SecretChange::Delete { recovery_days })?;
            if let (SecretChanged::DeleteTime(when), 1..) = (changed, recovery_days) {
                println!("{}", format_time(when));
            }
        }
        SecretCommand::SetDescription { name, description } => {
            change(&name, SecretChange::SetDescription(description))?;
        }
        SecretCommand::Rotate { .. } | SecretCommand::Rotation { .. } => {
            return Err(KmsError::new(
                ErrorCode::InternalError,
                "Rotation is handled before.",
            ));
        }
    }
    Ok(())
}
