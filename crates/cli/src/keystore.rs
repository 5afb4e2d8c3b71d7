//! `init` and `passwd`.

use std::path::PathBuf;

use clap::Args;

use super::Context;
use super::password::{self, NEW_PASSWORD_ENV};
use keyconsole_kms::{ErrorCode, KeystoreAdmin, Kms, KmsError, Result};
use keyconsole_store::{KdfParams, kdf};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Argon2id memory in MiB (lower is faster to unlock and weaker against guessing)
    #[arg(long, default_value_t = kdf::DEFAULT_PARAMS.memory_kib / 1024, value_name = "MIB")]
    pub kdf_memory_mib: u32,
    /// Argon2id passes
    #[arg(long, default_value_t = kdf::DEFAULT_PARAMS.iterations, value_name = "N")]
    pub kdf_iterations: u32,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new password from the first line of FILE (else KEYCONSOLE_NEW_PASSWORD, else a prompt)
    #[arg(long, value_name = "FILE")]
    pub new_password_file: Option<PathBuf>,
    /// Also make a new master key: every record is sealed anew and the backups (which the old
    /// password still opens) are deleted, so a leaked old password or copy opens nothing new.
    /// Other running keyconsole processes must be unlocked again.
    #[arg(long)]
    pub rekey: bool,
}

fn kdf_params(memory_mib: u32, iterations: u32) -> Result<KdfParams> {
    let params = KdfParams {
        memory_kib: memory_mib.saturating_mul(1024),
        iterations,
        parallelism: 1,
    };
    kdf::check_params(&params).map_err(|why| {
        KmsError::new(
            ErrorCode::InvalidParameterValue,
            format!("The KDF settings are refused: {why}."),
        )
    })?;
    Ok(params)
}

pub fn init(context: &Context, args: InitArgs) -> Result<()> {
    let params = kdf_params(args.kdf_memory_mib, args.kdf_iterations)?;
    let path = context.keystore();
    if path.exists() {
        return Err(KmsError::new(
            ErrorCode::KeystoreExists,
            format!(
                "A keystore already exists at {}; nothing was changed.",
                path.display()
            ),
        ));
    }
    let password = password::new(
        password::PASSWORD_ENV,
        context.password_file.as_deref(),
        "New keystore password",
    )?;
    Kms::create(path, password.as_bytes(), params)?;
    eprintln!("Created keystore {}", path.display());
    Ok(())
}

pub fn passwd(context: &Context, args: PasswdArgs) -> Result<()> {
    let current = password::current(context.password_file.as_deref())?;
    let kms = Kms::open(context.keystore(), current.as_bytes())?;
    let new = password::new(
        NEW_PASSWORD_ENV,
        args.new_password_file.as_deref(),
        "New keystore password",
    )?;
    kms.set_keystore_password(
        &context.caller(),
        current.as_bytes(),
        new.as_bytes(),
        None,
        args.rekey,
    )?;
    if args.rekey {
        eprintln!(
            "Changed the password and the master key of {}; its backups were deleted.",
            context.keystore().display()
        );
    } else {
        eprintln!(
            "Changed the password of {} (its backups still open with the old password; `passwd --rekey` replaces the master key and deletes them).",
            context.keystore().display()
        );
    }
    Ok(())
}
