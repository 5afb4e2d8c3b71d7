//! `db-instance …`: the database administrator connections product secrets make accounts
//! through (local keystores only: the password is checked by logging in from here).

use std::path::PathBuf;

use clap::Subcommand;

use super::Context;
use super::output::{format_time, print_table, read_input, terminal_safe};
use keyconsole_base::util::database::DbEndpoint;
use keyconsole_kms::secrets::database::PASSWORD_MAX_BYTES;
use keyconsole_kms::{ErrorCode, KeystoreAdmin, KmsError, Result};

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Register an administrator's connection as instance ID (logs in with it first)
    Add {
        id: String,
        /// mysql://ADMIN@HOST:PORT (MySQL or MariaDB) or postgres://ADMIN@HOST:PORT
        url: String,
        /// The administrator's password (one line)
        #[arg(long, value_name = "F")]
        password_file: PathBuf,
    },
    /// List the registered instances
    List,
    /// Forget an instance (the accounts made through it and their secrets stay)
    Remove { id: String },
}

/// The first line of FILE, without its line end.
pub fn read_password_file(path: &std::path::Path) -> Result<zeroize::Zeroizing<String>> {
    let mut bytes = read_input(Some(path), PASSWORD_MAX_BYTES + 2)?;
    for end in [b'\n', b'\r'] {
        if bytes.last() == Some(&end) {
            bytes.pop();
        }
    }
    String::from_utf8(bytes.to_vec())
        .map(zeroize::Zeroizing::new)
        .map_err(|_| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                "The password file is not UTF-8 text.",
            )
        })
}

pub fn run(context: &Context, command: InstanceCommand) -> Result<()> {
    let kms = context.open()?;
    let caller = context.caller();
    match command {
        InstanceCommand::Add {
            id,
            url,
            password_file,
        } => {
            let endpoint = DbEndpoint::parse(&url)
                .map_err(|why| KmsError::new(ErrorCode::InvalidParameterValue, why))?;
            let password = read_password_file(&password_file)?;
            let instance = KeystoreAdmin::add_db_instance(&kms, &caller, &id, endpoint, &password)?;
            eprintln!(
                "Registered instance {} ({}).",
                instance.instance_id, instance.endpoint
            );
        }
        InstanceCommand::List => {
            let rows: Vec<Vec<String>> = KeystoreAdmin::db_instances(&kms)
                .iter()
                .map(|i| {
                    vec![
                        terminal_safe(&i.instance_id).into_owned(),
                        terminal_safe(&i.endpoint.to_string()).into_owned(),
                        format_time(i.create_time),
                    ]
                })
                .collect();
            if rows.is_empty() {
                eprintln!("No instances.");
            } else {
                print_table(&["InstanceID", "Administrator", "Added"], &rows);
            }
        }
        InstanceCommand::Remove { id } => {
            KeystoreAdmin::remove_db_instance(&kms, &caller, &id)?;
        }
    }
    Ok(())
}
