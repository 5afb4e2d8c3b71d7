//! Database credentials as secrets (the cloud's product secrets) and their rotation.
//!
//! The value is JSON `{"UserName": …, "Password": …}`. A rotation takes four steps, each saved
//! or checked before the next, so that a kill between any two never leaves the database with a
//! password the keystore lacks:
//! 1. a new random password is sealed as a **pending** version and the keystore saved;
//! 2. logged in with the current password, the user sets its own password to the pending one;
//! 3. the pending password is tried by logging in with it;
//! 4. the pending version becomes current (the old one previous), and the keystore is saved.
//!
//! While a version is pending, the database holds either it or the current one. The next
//! rotation (or the maintenance tick) resumes: when the current password no longer logs in but
//! the pending one does, step 2 already happened, and it goes on from step 3.
//!
//! The network calls run outside the engine's writer turn: steps 1 and 4 are ordinary changes,
//! readers and other changes never wait for a database.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::record::{DatabaseSecret, RotationRecord, SecretRecord};
use super::rules::*;
use super::{CreateSecret, SecretValue, find, key_index, open_version, seal_value};
use crate::crypto;
use crate::kms::Kms;
use crate::kms::error::{ErrorCode, KmsError, Result, err};
use crate::kms::keys::rules::SECONDS_PER_DAY;
use crate::util::database::DbEndpoint;
use crate::util::i18n::Text;

/// The longest password a database secret is created with.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// A new secret holding a database user's credentials.
#[derive(Debug, Clone)]
pub struct CreateDatabaseSecret {
    pub name: String,
    pub description: String,
    /// A KeyId or alias; the service's default key when not given.
    pub key: Option<String>,
    pub endpoint: DbEndpoint,
    /// The user's password now; it must log in.
    pub password: Zeroizing<String>,
    /// Rotate automatically every so many days.
    pub rotate_days: Option<u32>,
}

/// The steps of a rotation, in order. A probe passed to `rotate_secret` hears of each as it
/// completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    PendingSaved,
    SetInDatabase,
    LoginTested,
    Finished,
}

impl RotationStep {
    pub const ALL: [RotationStep; 4] = [
        RotationStep::PendingSaved,
        RotationStep::SetInDatabase,
        RotationStep::LoginTested,
        RotationStep::Finished,
    ];

    pub fn number(self) -> usize {
        self as usize + 1
    }

    /// What the step did, in any language.
    pub fn text(self) -> Text {
        match self {
            RotationStep::PendingSaved => crate::text!("errors.rotation_step_pending_saved"),
            RotationStep::SetInDatabase => crate::text!("errors.rotation_step_set_in_database"),
            RotationStep::LoginTested => crate::text!("errors.rotation_step_login_tested"),
            RotationStep::Finished => crate::text!("errors.rotation_step_finished"),
        }
    }

    /// What the step did, in English (the CLI's progress lines).
    pub fn label(self) -> String {
        self.text().render(crate::util::i18n::Language::English)
    }
}

/// DescribeRotationDetail and the console's rotation panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationDetail {
    pub enabled: bool,
    pub rotate_days: u32,
    pub last_rotation_time: i64,
    pub next_rotation_time: i64,
    pub pending_version: Option<String>,
    /// Newest last.
    pub history: Vec<RotationRecord>,
}

/// The value of a database secret, as the cloud's product secrets hold it.
#[derive(Serialize, Deserialize)]
struct Credentials {
    #[serde(rename = "UserName")]
    user: String,
    #[serde(rename = "Password")]
    password: Zeroizing<String>,
}

impl Credentials {
    fn to_value(&self) -> Result<SecretValue> {
        serde_json::to_string(self)
            .map(|json| SecretValue::Text(Zeroizing::new(json)))
            .map_err(|_| {
                KmsError::new(
                    ErrorCode::InternalError,
                    crate::text!("errors.encoding_credentials_failed"),
                )
            })
    }

    fn from_value(name: &str, version_id: &str, value: &SecretValue) -> Result<Credentials> {
        serde_json::from_slice(value.bytes()).map_err(|_| {
            KmsError::new(
                ErrorCode::FailedOperation,
                crate::text!(
                    "errors.version_version_id_of_secret_name",
                    version_id = version_id,
                    name = name
                ),
            )
        })
    }
}

/// Secrets being rotated by this process, so two faces never rotate one secret at once.
#[derive(Debug, Default)]
pub(crate) struct RotationsInProgress(Mutex<HashSet<String>>);

/// A secret's turn to rotate in this process, given back when dropped.
struct RotationTurn<'a> {
    in_progress: &'a RotationsInProgress,
    name: String,
}

impl Drop for RotationTurn<'_> {
    fn drop(&mut self) {
        self.in_progress
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.name);
    }
}

impl RotationsInProgress {
    fn take(&self, name: &str) -> Result<RotationTurn<'_>> {
        let mut names = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.insert(name.to_owned()) {
            return err(
                ErrorCode::OperationDenied,
                crate::text!("errors.secret_name_is_being_rotated_already", name = name),
            );
        }
        Ok(RotationTurn {
            in_progress: self,
            name: name.to_owned(),
        })
    }

    fn contains(&self, name: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name)
    }
}

/// Logs in to check a connection, as *Test connection* and creating a database secret do.
pub fn test_login(endpoint: &DbEndpoint, password: &str) -> Result<()> {
    endpoint.validate().map_err(invalid)?;
    endpoint.check_login(password).map_err(|why| {
        failed(crate::text!(
            "errors.cannot_log_in_to_endpoint_why",
            endpoint = endpoint,
            why = why
        ))
    })
}

fn invalid(message: String) -> KmsError {
    KmsError::new(ErrorCode::InvalidParameterValue, message)
}

fn failed(message: impl Into<Text>) -> KmsError {
    KmsError::new(ErrorCode::FailedOperation, message)
}

fn not_database(secret: &SecretRecord) -> KmsError {
    KmsError::new(
        ErrorCode::UnsupportedOperation,
        crate::text!(
            "errors.secret_name_does_not_hold_database",
            name = secret.name
        ),
    )
}

fn database_of(secret: &SecretRecord) -> Result<&DatabaseSecret> {
    secret.database.as_ref().ok_or_else(|| not_database(secret))
}

/// A password of letters and digits, each drawn uniformly (bytes ≥ 248 are redrawn).
fn random_password() -> Zeroizing<String> {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut password = Zeroizing::new(String::with_capacity(ROTATION_PASSWORD_LEN));
    while password.len() < ROTATION_PASSWORD_LEN {
        let bytes = Zeroizing::new(crypto::random_bytes::<64>());
        for &b in bytes.iter().filter(|&&b| b < 248) {
            if password.len() < ROTATION_PASSWORD_LEN {
                password.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    password
}

/// Whether maintenance should rotate (or finish rotating) `secret` now: its schedule is due, or
/// a rotation was cut off (a pending version older than five minutes) and was not tried within
/// the retry interval.
pub(crate) fn rotation_due(secret: &SecretRecord, now: i64) -> bool {
    let Some(database) = &secret.database else {
        return false;
    };
    if !secret.state.may_read() {
        return false;
    }
    if database.rotation_enabled && database.next_rotation_time <= now {
        return true;
    }
    let Some(pending) = database
        .pending_version
        .as_deref()
        .and_then(|id| secret.version(id))
    else {
        return false;
    };
    let tried_lately = database
        .history
        .last()
        .is_some_and(|r| r.time >= pending.create_time && r.time + ROTATION_RETRY_SECONDS > now);
    pending.create_time + 300 <= now && !tried_lately
}

impl Kms {
    /// Creates a secret holding a database user's credentials, after logging in with them.
    pub fn create_database_secret(
        &self,
        request: CreateDatabaseSecret,
    ) -> Result<(String, String)> {
        self.check_secret_name(&request.name)?;
        validate_description(&request.description)?;
        request.endpoint.validate().map_err(invalid)?;
        if request.password.is_empty() || request.password.len() > PASSWORD_MAX_BYTES {
            return err(
                ErrorCode::InvalidParameterValue,
                crate::text!(
                    "errors.the_password_must_be_1_to",
                    password_max_bytes = PASSWORD_MAX_BYTES
                ),
            );
        }
        if let Some(days) = request.rotate_days {
            validate_rotation_days(days)?;
        }
        test_login(&request.endpoint, &request.password)?;
        self.insert_database_secret(request, Vec::new())
    }

    /// Stores the credentials of `request` as a new secret with `history` as its rotations.
    fn insert_database_secret(
        &self,
        request: CreateDatabaseSecret,
        history: Vec<RotationRecord>,
    ) -> Result<(String, String)> {
        let value = Credentials {
            user: request.endpoint.user.clone(),
            password: request.password.clone(),
        }
        .to_value()?;
        let last_rotation_time = history
            .iter()
            .rev()
            .find(|r| r.succeeded())
            .map_or(0, |r| r.time);
        let database = DatabaseSecret {
            endpoint: request.endpoint,
            current_version: String::new(), // set to the first version's id on insertion
            previous_version: None,
            pending_version: None,
            rotation_enabled: request.rotate_days.is_some(),
            rotate_days: request.rotate_days.unwrap_or(ROTATION_DAYS_DEFAULT),
            next_rotation_time: 0,
            last_rotation_time,
            history,
        };
        self.insert_secret(
            CreateSecret {
                name: request.name,
                version_id: None,
                description: request.description,
                key: request.key,
                value,
            },
            Some(database),
        )
    }

    /// UpdateRotationStatus: turns automatic rotation on (every `days`, first at `begin` or
    /// `days` from now) or off.
    pub fn set_secret_rotation(
        &self,
        name: &str,
        enabled: bool,
        days: Option<u32>,
        begin: Option<i64>,
    ) -> Result<()> {
        if let Some(days) = days {
            validate_rotation_days(days)?;
        }
        self.change_secret(name, |secret, now| {
            if !secret.state.may_change_values() {
                return Err(state_error(
                    secret,
                    crate::text!("errors.change_its_rotation"),
                ));
            }
            let database = secret.database.as_mut().ok_or_else(|| {
                KmsError::new(
                    ErrorCode::UnsupportedOperation,
                    crate::text!("errors.secret_name_does_not_hold_database", name = name),
                )
            })?;
            if let Some(days) = days {
                database.rotate_days = days;
            }
            database.rotation_enabled = enabled;
            database.next_rotation_time = if enabled {
                begin
                    .filter(|&t| t > now)
                    .unwrap_or(now + i64::from(database.rotate_days) * SECONDS_PER_DAY)
            } else {
                0
            };
            Ok(())
        })
    }

    /// DescribeRotationDetail and DescribeRotationHistory.
    pub fn rotation_detail(&self, name: &str) -> Result<RotationDetail> {
        let ring = self.ring();
        let secret = &ring.secrets[find(&ring, name)?];
        let database = database_of(secret)?;
        Ok(RotationDetail {
            enabled: database.rotation_enabled,
            rotate_days: database.rotate_days,
            last_rotation_time: database.last_rotation_time,
            next_rotation_time: if database.rotation_enabled {
                database.next_rotation_time
            } else {
                0
            },
            pending_version: database.pending_version.clone(),
            history: database.history.clone(),
        })
    }

    /// Database secrets whose rotation is due (or was cut off), for the faces to rotate off their
    /// drawing or request threads. Leaves out those this process is rotating.
    pub fn due_secret_rotations(&self) -> Vec<String> {
        let now = self.now();
        self.ring()
            .secrets
            .iter()
            .filter(|s| rotation_due(s, now) && !self.rotations.contains(&s.name))
            .map(|s| s.name.clone())
            .collect()
    }

    /// A rotation maintenance found due (`due_secret_rotations`), with no probe.
    pub fn rotate_due(&self, name: &str) -> Result<RotationRecord> {
        self.rotate_secret(name, &mut |_| ControlFlow::Continue(()))
    }

    /// Whether this process is rotating `name` right now.
    pub fn is_rotating(&self, name: &str) -> bool {
        self.rotations.contains(name)
    }

    /// Rotates a database secret's password in the database and in the keystore (see the module
    /// comment), or finishes a rotation that was cut off. `probe` hears of each step as it
    /// completes; `Break` stops right there, as a crash would (for tests). Returns the attempt as
    /// recorded in the secret's history; a failure is recorded too, and returned as
    /// `FailedOperation` with the database's own words, the current password still working.
    pub fn rotate_secret(
        &self,
        name: &str,
        probe: &mut dyn FnMut(RotationStep) -> ControlFlow<()>,
    ) -> Result<RotationRecord> {
        let _turn = self.rotations.take(name)?;
        let started = Instant::now();
        // Another process may have rotated (or finished a cut-off rotation) since we last read.
        self.refresh()?;
        let stop = |step: RotationStep| {
            KmsError::new(
                ErrorCode::Cancelled,
                crate::text!(
                    "errors.rotation_of_name_stopped_after_step",
                    name = name,
                    step = step.number(),
                    step_done = step.text()
                ),
            )
        };
        // Step 1: a pending version, saved (or the one a cut-off rotation left).
        let pending_id = self
            .pending_version_for_rotation(name)
            .map_err(|e| self.note_early_failure(name, started, e))?;
        if probe(RotationStep::PendingSaved).is_break() {
            return Err(stop(RotationStep::PendingSaved));
        }
        let (endpoint, current, pending) = self
            .rotation_credentials(name, &pending_id)
            .map_err(|e| self.note_early_failure(name, started, e))?;

        // Step 2: the database learns the pending password, unless it already has it.
        if let Err(why) = endpoint.change_own_password(&current.password, &pending.password)
            && endpoint.check_login(&pending.password).is_err()
        {
            return Err(self.record_failure(
                name,
                &pending_id,
                started,
                format!("Setting the new password in {endpoint} failed: {why}"),
            ));
        }
        if probe(RotationStep::SetInDatabase).is_break() {
            return Err(stop(RotationStep::SetInDatabase));
        }

        // Step 3: the new password logs in.
        if let Err(why) = endpoint.check_login(&pending.password) {
            return Err(self.record_failure(
                name,
                &pending_id,
                started,
                format!("The new password was set but does not log in to {endpoint}: {why}"),
            ));
        }
        if probe(RotationStep::LoginTested).is_break() {
            return Err(stop(RotationStep::LoginTested));
        }

        // Step 4: the pending version becomes current.
        let record = self.change_secret(name, |secret, now| {
            let database = secret.database.as_mut().ok_or_else(|| {
                failed(crate::text!(
                    "errors.secret_name_stopped_holding_database_credentials",
                    name = name
                ))
            })?;
            let record = RotationRecord {
                time: now,
                version_id: pending_id.clone(),
                error: String::new(),
                millis: millis_since(started),
            };
            if database.pending_version.as_deref() == Some(pending_id.as_str()) {
                database.previous_version = Some(std::mem::replace(
                    &mut database.current_version,
                    pending_id.clone(),
                ));
                database.pending_version = None;
                database.last_rotation_time = now;
                if database.rotation_enabled {
                    database.next_rotation_time =
                        now + i64::from(database.rotate_days) * SECONDS_PER_DAY;
                }
                push_history(database, record.clone());
            } else if database.current_version != pending_id {
                return Err(failed(crate::text!(
                    "errors.secret_name_changed_during_the_rotation",
                    name = name,
                    pending_id = pending_id
                )));
            } // else: another process finished this very rotation; nothing is left to do.
            Ok(record)
        })?;
        // The probe's answer no longer matters: everything is saved.
        let _ = probe(RotationStep::Finished);
        Ok(record)
    }

    /// Step 1 of a rotation: the id of the pending version, made now (a new random password,
    /// sealed and saved) unless a cut-off rotation left one.
    fn pending_version_for_rotation(&self, name: &str) -> Result<String> {
        let left_pending = |secret: &SecretRecord| -> Result<Option<String>> {
            let database = database_of(secret)?;
            if !secret.state.may_read() {
                return Err(state_error(secret, crate::text!("errors.rotate_it")));
            }
            Ok(database
                .pending_version
                .clone()
                .filter(|id| secret.version(id).is_some()))
        };
        {
            // Resuming needs no save.
            let ring = self.ring();
            if let Some(pending) = left_pending(&ring.secrets[find(&ring, name)?])? {
                return Ok(pending);
            }
        }
        self.transact(|ring, now| {
            let index = find(ring, name)?;
            if let Some(pending) = left_pending(&ring.secrets[index])? {
                return Ok(pending);
            }
            let secret = &mut ring.secrets[index];
            let database = database_of(secret)?;
            let (current, previous) = (
                database.current_version.clone(),
                database.previous_version.clone(),
            );
            let user = database.endpoint.user.clone();
            // Room for the new version: drop the oldest that is neither current nor previous.
            while secret.versions.len() >= VERSIONS_MAX {
                let Some(oldest) = secret.versions.iter().position(|v| {
                    v.version_id != current && Some(&v.version_id) != previous.as_ref()
                }) else {
                    break;
                };
                secret.versions.remove(oldest);
            }
            let version_id = next_version_id(secret);
            let value = Credentials {
                user,
                password: random_password(),
            }
            .to_value()?;
            let key = key_index(ring, &ring.secrets[index])?;
            let version = seal_value(&mut ring.keys[key], name, &version_id, &value, now)?;
            let secret = &mut ring.secrets[index];
            secret.versions.push(version);
            if let Some(database) = &mut secret.database {
                database.pending_version = Some(version_id.clone());
            }
            Ok(version_id)
        })
    }

    /// The database's address and the current and pending credentials, read from the keystore.
    fn rotation_credentials(
        &self,
        name: &str,
        pending_id: &str,
    ) -> Result<(DbEndpoint, Credentials, Credentials)> {
        let ring = self.ring();
        let secret = &ring.secrets[find(&ring, name)?];
        let database = database_of(secret)?;
        let credentials_of = |version_id: &str| -> Result<Credentials> {
            let version = secret.version(version_id).ok_or_else(|| {
                failed(crate::text!(
                    "errors.secret_name_lost_its_version_version",
                    name = name,
                    version_id = version_id
                ))
            })?;
            let value = open_version(self, secret, version)?;
            Credentials::from_value(name, version_id, &value)
        };
        Ok((
            database.endpoint.clone(),
            credentials_of(&database.current_version)?,
            credentials_of(pending_id)?,
        ))
    }

    /// A rotation that failed before reaching the database (its CMK cannot be used, a save
    /// failed): kept in the history and put off like any failure, so a schedule that is due does
    /// not try again every second. The error is returned as it was (a secret that is gone,
    /// disabled, or being rotated is not an attempt).
    fn note_early_failure(&self, name: &str, started: Instant, e: KmsError) -> KmsError {
        let not_an_attempt = matches!(
            e.code,
            ErrorCode::SecretNotExist
                | ErrorCode::UnsupportedOperation
                | ErrorCode::OperationDenied
                | ErrorCode::ResourceDisabled
                | ErrorCode::ResourcePendingDeleted
        );
        if !not_an_attempt {
            let _ = self.record_attempt(name, "-", started, format!("{}: {}", e.code, e.message));
        }
        e
    }

    /// Records a failed attempt (retried by maintenance after `ROTATION_RETRY_SECONDS`) and
    /// returns it as the error to report.
    fn record_failure(
        &self,
        name: &str,
        version_id: &str,
        started: Instant,
        message: String,
    ) -> KmsError {
        match self.record_attempt(name, version_id, started, message.clone()) {
            Ok(()) => failed(message),
            Err(e) => failed(crate::text!(
                "errors.message_the_attempt_was_not_recorded",
                message = message,
                e = e
            )),
        }
    }

    /// Keeps a failed attempt in the history and puts the schedule off by the retry interval.
    fn record_attempt(
        &self,
        name: &str,
        version_id: &str,
        started: Instant,
        message: String,
    ) -> Result<()> {
        self.change_secret(name, |secret, now| {
            if let Some(database) = &mut secret.database {
                if database.rotation_enabled {
                    database.next_rotation_time = now + ROTATION_RETRY_SECONDS;
                }
                push_history(
                    database,
                    RotationRecord {
                        time: now,
                        version_id: version_id.to_owned(),
                        error: message.clone(),
                        millis: millis_since(started),
                    },
                );
            }
            Ok(())
        })
    }
}

fn push_history(database: &mut DatabaseSecret, record: RotationRecord) {
    database.history.push(record);
    let excess = database.history.len().saturating_sub(ROTATION_HISTORY_MAX);
    database.history.drain(..excess);
}

fn millis_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(any(test, feature = "testing"))]
impl Kms {
    /// For screenshots and fixtures only: a database secret made without logging in (a snapshot
    /// shows a fixed host and port, not a test server's), with `history` as its rotations.
    pub fn create_database_secret_unchecked(
        &self,
        request: CreateDatabaseSecret,
        history: Vec<RotationRecord>,
    ) -> Result<(String, String)> {
        self.insert_database_secret(request, history)
    }
}
