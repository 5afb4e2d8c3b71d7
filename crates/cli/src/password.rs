//! Where passwords come from: an environment variable, a file, or a prompt without echo.

use std::path::Path;

use zeroize::Zeroizing;

use keyconsole_kms::{ErrorCode, KmsError, Result};

pub const PASSWORD_ENV: &str = "KEYCONSOLE_PASSWORD";
pub const NEW_PASSWORD_ENV: &str = "KEYCONSOLE_NEW_PASSWORD";

/// The password in environment variable `name`, if set. Set but not UTF-8 is an error that says
/// so (it used to read as "no password was given").
fn from_env(name: &str) -> Result<Option<Zeroizing<String>>> {
    match std::env::var(name) {
        Ok(password) => Ok(Some(Zeroizing::new(password))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            format!("{name} is set but is not valid UTF-8; keystore passwords are UTF-8 text."),
        )),
    }
}

fn from_file(path: &Path) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        KmsError::new(
            ErrorCode::InvalidParameterValue,
            format!("Cannot read the password file {}: {e}.", path.display()),
        )
    })?);
    let first_line = text.lines().next().unwrap_or_default();
    Ok(Zeroizing::new(first_line.to_owned()))
}

fn prompt(label: &str) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(label).map(Zeroizing::new).map_err(|_| {
        KmsError::new(
            ErrorCode::MissingParameter,
            format!(
                "No password was given and there is no terminal to ask for one; set {PASSWORD_ENV} or use --password-file."
            ),
        )
    })
}

/// The engine's rule (no empty password), checked before anything else is asked or printed.
fn non_empty(password: Zeroizing<String>) -> Result<Zeroizing<String>> {
    keyconsole_kms::keys::rules::check_password(password.as_bytes())?;
    Ok(password)
}

/// The password of an existing keystore.
pub fn current(password_file: Option<&Path>) -> Result<Zeroizing<String>> {
    if let Some(password) = from_env(PASSWORD_ENV)? {
        return non_empty(password);
    }
    if let Some(path) = password_file {
        return non_empty(from_file(path)?);
    }
    non_empty(prompt("Keystore password: ")?)
}

/// A password being chosen: from `env` or `file` as given, else asked twice at the terminal.
pub fn new(env: &str, file: Option<&Path>, label: &str) -> Result<Zeroizing<String>> {
    let password = if let Some(password) = from_env(env)? {
        password
    } else if let Some(path) = file {
        from_file(path)?
    } else {
        let first = prompt(&format!("{label}: "))?;
        let second = prompt(&format!("{label} (again): "))?;
        if *first != *second {
            return Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                "The two passwords differ; nothing was changed.",
            ));
        }
        first
    };
    let password = non_empty(password)?;
    if let Some(hint) = keyconsole_store::password_strength_hint(&password) {
        eprintln!(
            "warning: {}",
            hint.render(keyconsole_base::util::i18n::current())
        );
    }
    Ok(password)
}
