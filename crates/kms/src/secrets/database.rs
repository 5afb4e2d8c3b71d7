//! Database credentials as secrets (the cloud's product secrets) and their rotation.
//!
//! The value is JSON `{"UserName": …, "Password": …}`. A rotation takes four steps, each saved
//! or checked before the next, so that a kill between any two never leaves the database with a
//! password the keystore lacks:
//! 1. the rotation **claims** the secret and seals a new random password as a **pending**
//!    version, in one save;
//! 2. logged in with the current password, the user sets its own password to the pending one;
//! 3. the pending password is tried by logging in with it;
//! 4. the pending version becomes current (the old one previous) and the claim is given back, in
//!    one save.
//!
//! One rotation at a time per secret, across processes: the claim lives in the keystore (taken and
//! renewed under its lock) with its owner and a lease (`ROTATION_CLAIM_SECONDS`), so a console, a
//! CLI and two servers sharing a keystore never set passwords over each other. Right before step 2
//! the claim is renewed and the pending version checked to be the one this rotation set out with;
//! right after, checked again: a rotation that lost its claim while it was hung (its lease ran
//! out, another rotation went on) puts the database back on the keystore's current password
//! itself, since it holds both.
//!
//! When step 2 does not go as planned (no answer, a connection that broke after the password was
//! sent, a current password that no longer logs in), the rotation asks the database which of the
//! passwords it may hold logs in, all at once: the pending one (the change went through), the
//! current one (it did not), or an older one (something set a stale password): then it sets the
//! pending password with that one. A version made within `ROTATION_VERSION_KEEP_SECONDS` is never
//! pruned, so whatever the database may hold is at hand. An outcome the database could not tell
//! is retried within a minute (`ROTATION_UNCERTAIN_RETRY_SECONDS`), not an hour.
//!
//! The network calls run outside the engine's writer turn: the steps that save are ordinary
//! changes, readers and other changes never wait for a database.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::driver::{DatabaseDriver, RealDatabases};
use super::record::{DatabaseSecret, ProductAccount, RotationClaim, RotationRecord, SecretRecord};
use super::rules::*;
use super::{CreateSecret, SecretValue, find, key_index, open_version, seal_value};
use crate::Kms;
use crate::error::{ErrorCode, KmsError, Result, err};
use crate::keyring::Keyring;
use crate::keys::rules::SECONDS_PER_DAY;
use keyconsole_base::crypto;
use keyconsole_base::util::database::{DbEndpoint, DbError};
use keyconsole_base::util::i18n::Text;

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
            RotationStep::PendingSaved => {
                keyconsole_base::text!("errors.rotation_step_pending_saved")
            }
            RotationStep::SetInDatabase => {
                keyconsole_base::text!("errors.rotation_step_set_in_database")
            }
            RotationStep::LoginTested => {
                keyconsole_base::text!("errors.rotation_step_login_tested")
            }
            RotationStep::Finished => keyconsole_base::text!("errors.rotation_step_finished"),
        }
    }

    /// What the step did, in English (the CLI's progress lines).
    pub fn label(self) -> String {
        self.text()
            .render(keyconsole_base::util::i18n::Language::English)
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
    /// Newest last, the last `ROTATION_HISTORY_MAX` only.
    pub history: Vec<RotationRecord>,
    /// Every attempt ever recorded (the API's FlowID), however many the history kept.
    pub attempts: u64,
    /// This process is rotating it right now.
    pub rotating: bool,
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
                    keyconsole_base::text!("errors.encoding_credentials_failed"),
                )
            })
    }

    fn from_value(name: &str, version_id: &str, value: &SecretValue) -> Result<Credentials> {
        serde_json::from_slice(value.bytes()).map_err(|_| {
            KmsError::new(
                ErrorCode::FailedOperation,
                keyconsole_base::text!(
                    "errors.version_version_id_of_secret_name",
                    version_id = version_id,
                    name = name
                ),
            )
        })
    }
}

/// Rotations under way in this process, by keystore and secret: every engine of the process
/// shares them, so two engines on one keystore never rotate one secret at once.
#[derive(Debug)]
pub(crate) struct RotationsInProgress {
    keystore: std::path::PathBuf,
}

type RotationKey = (std::path::PathBuf, String);

fn rotations_here() -> &'static Mutex<HashSet<RotationKey>> {
    static HERE: std::sync::OnceLock<Mutex<HashSet<RotationKey>>> = std::sync::OnceLock::new();
    HERE.get_or_init(Default::default)
}

/// This process in a claim: its id and a random tag (ids are reused; the tag is not).
fn this_process() -> &'static str {
    static OWNER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OWNER.get_or_init(|| {
        format!(
            "process {} ({})",
            std::process::id(),
            keyconsole_base::util::hex(&crypto::random_bytes::<6>())
        )
    })
}

/// A secret's turn to rotate in this process, given back when dropped.
struct RotationTurn {
    key: RotationKey,
}

impl Drop for RotationTurn {
    fn drop(&mut self) {
        rotations_here()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl RotationsInProgress {
    pub(crate) fn new(keystore: &std::path::Path) -> Self {
        Self {
            keystore: keystore.to_path_buf(),
        }
    }

    fn take(&self, name: &str) -> Result<RotationTurn> {
        let key = (self.keystore.clone(), name.to_owned());
        let mut here = rotations_here()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !here.insert(key.clone()) {
            return err(
                ErrorCode::OperationDenied,
                keyconsole_base::text!("errors.secret_name_is_being_rotated_already", name = name),
            );
        }
        Ok(RotationTurn { key })
    }

    fn contains(&self, name: &str) -> bool {
        rotations_here()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&(self.keystore.clone(), name.to_owned()))
    }
}

/// This machine's boot id (Linux), empty where there is none: claims name it beside their
/// process id, so a process that is gone is recognised only on the machine it ran on.
fn this_boot() -> &'static str {
    static BOOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|id| id.trim().to_owned())
            .unwrap_or_default()
    })
}

/// A claim for this process, held for `ROTATION_CLAIM_SECONDS` from `now`.
fn new_claim(now: i64) -> RotationClaim {
    RotationClaim {
        owner: this_process().to_owned(),
        until: now + ROTATION_CLAIM_SECONDS,
        pid: std::process::id(),
        boot: this_boot().to_owned(),
    }
}

/// The claim that stops a rotation of this process now: another process's, not run out, and not
/// of a process that is gone from this machine (killed mid-rotation). A claim of this process is
/// left over from a rotation that stopped (this process holds the secret's turn), so it never
/// stops one.
fn claim_blocks(claim: Option<&RotationClaim>, now: i64) -> Option<&RotationClaim> {
    let owner_gone = |c: &RotationClaim| {
        !c.boot.is_empty()
            && c.boot == this_boot()
            && c.pid != 0
            && keyconsole_base::util::atomic_file::process_is_gone(Some(c.pid))
    };
    claim.filter(|c| c.owner != this_process() && c.until > now && !owner_gone(c))
}

/// Logs in to check a connection, as *Test connection* does (the real server).
pub fn test_login(endpoint: &DbEndpoint, password: &str) -> Result<()> {
    login_with(&RealDatabases, endpoint, password)
}

pub(crate) fn login_with(
    driver: &dyn DatabaseDriver,
    endpoint: &DbEndpoint,
    password: &str,
) -> Result<()> {
    endpoint.validate().map_err(invalid)?;
    driver.check_login(endpoint, password).map_err(|why| {
        failed(keyconsole_base::text!(
            "errors.cannot_log_in_to_endpoint_why",
            endpoint = endpoint,
            why = why.text()
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
        keyconsole_base::text!(
            "errors.secret_name_does_not_hold_database",
            name = secret.name
        ),
    )
}

fn database_of(secret: &SecretRecord) -> Result<&DatabaseSecret> {
    secret.database.as_ref().ok_or_else(|| not_database(secret))
}

/// A password of letters and digits, each drawn uniformly (bytes ≥ 248 are redrawn).
pub(crate) fn random_password() -> Zeroizing<String> {
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

/// Whether maintenance should rotate (or finish rotating) `secret` now: its schedule is due, or a
/// rotation was cut off (a pending version that no live claim of another process covers) and was
/// not tried within its retry interval. Never while another process's rotation holds the claim.
pub(crate) fn rotation_due(secret: &SecretRecord, now: i64) -> bool {
    let Some(database) = &secret.database else {
        return false;
    };
    if !secret.state.may_read() || claim_blocks(database.rotation_claim.as_ref(), now).is_some() {
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
        .is_some_and(|r| r.time >= pending.create_time && r.time + r.retry_after() > now);
    !tried_lately
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
                keyconsole_base::text!(
                    "errors.the_password_must_be_1_to",
                    password_max_bytes = PASSWORD_MAX_BYTES
                ),
            );
        }
        if let Some(days) = request.rotate_days {
            validate_rotation_days(days)?;
        }
        login_with(
            &*self.database_driver(),
            &request.endpoint,
            &request.password,
        )?;
        self.insert_database_secret(request, Vec::new(), None)
    }

    /// Logs in as *Test connection* does, through this engine's driver.
    pub fn check_database_login(&self, endpoint: &DbEndpoint, password: &str) -> Result<()> {
        login_with(&*self.database_driver(), endpoint, password)
    }

    /// Stores the credentials of `request` as a new secret with `history` as its rotations.
    pub(crate) fn insert_database_secret(
        &self,
        request: CreateDatabaseSecret,
        history: Vec<RotationRecord>,
        product: Option<ProductAccount>,
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
            rotation_claim: None,
            attempts: 0,
            product,
        };
        self.insert_secret(
            CreateSecret {
                name: request.name,
                version_id: None,
                description: request.description,
                key: request.key,
                value,
                tags: Vec::new(),
            },
            Some(database),
            None,
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
                    keyconsole_base::text!("errors.change_its_rotation"),
                ));
            }
            let database = secret.database.as_mut().ok_or_else(|| {
                KmsError::new(
                    ErrorCode::UnsupportedOperation,
                    keyconsole_base::text!(
                        "errors.secret_name_does_not_hold_database",
                        name = name
                    ),
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

    /// How this engine reaches databases.
    pub(crate) fn database_driver(&self) -> std::sync::Arc<dyn DatabaseDriver> {
        self.database_driver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Tests: reach databases through `driver` (a fake) instead of the network.
    #[cfg(any(test, feature = "testing"))]
    pub fn set_database_driver(&self, driver: std::sync::Arc<dyn DatabaseDriver>) {
        *self
            .database_driver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = driver;
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
            attempts: database.attempts.max(database.history.len() as u64),
            rotating: self.rotations.contains(name),
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
    /// `FailedOperation` with what the database said, the current password still working.
    pub fn rotate_secret(
        &self,
        name: &str,
        probe: &mut dyn FnMut(RotationStep) -> ControlFlow<()>,
    ) -> Result<RotationRecord> {
        let _turn = self.rotations.take(name)?;
        let started = Instant::now();
        let stop = |step: RotationStep| {
            KmsError::new(
                ErrorCode::Cancelled,
                keyconsole_base::text!(
                    "errors.rotation_of_name_stopped_after_step",
                    name = name,
                    step = step.number(),
                    step_done = step.text()
                ),
            )
        };
        // Step 1: the claim, and a pending version (or the one a cut-off rotation left), saved.
        let pending_id = self
            .claim_rotation(name)
            .map_err(|e| self.note_early_failure(name, started, e))?;
        if probe(RotationStep::PendingSaved).is_break() {
            return Err(stop(RotationStep::PendingSaved));
        }
        let credentials = self
            .rotation_credentials(name, &pending_id)
            .map_err(|e| self.give_up(name, &pending_id, started, e))?;

        // Step 2: the database learns the pending password, unless it has it already. Right
        // before, the claim is renewed (and found still ours, the pending version unchanged).
        self.renew_claim(name, &pending_id)
            .map_err(|e| self.give_up(name, &pending_id, started, e))?;
        let driver = self.database_driver();
        let set = credentials.set_pending(&*driver);
        // Right after: if the claim was lost meanwhile (this process hung past its lease), this
        // rotation may have set its password over a newer one; it puts the current one back.
        if let Err(e) = self.still_claimed(name, &pending_id) {
            self.put_back_current(name, &credentials);
            return Err(e);
        }
        if let Err(failure) = set {
            return Err(self.record_failure(name, &pending_id, started, failure));
        }
        if probe(RotationStep::SetInDatabase).is_break() {
            return Err(stop(RotationStep::SetInDatabase));
        }

        // Step 3: the new password logs in.
        if let Err(why) = driver.check_login(&credentials.endpoint, &credentials.pending.password) {
            let failure = RotationFailure {
                text: keyconsole_base::text!(
                    "errors.rotation_new_password_does_not_log_in",
                    endpoint = credentials.endpoint,
                    why = why.text()
                ),
                uncertain: !why.is_refusal(),
            };
            return Err(self.record_failure(name, &pending_id, started, failure));
        }
        if probe(RotationStep::LoginTested).is_break() {
            return Err(stop(RotationStep::LoginTested));
        }

        // Step 4: the pending version becomes current, and the claim goes.
        let record = self.change_secret(name, |secret, now| {
            let database = secret.database.as_mut().ok_or_else(|| {
                failed(keyconsole_base::text!(
                    "errors.secret_name_stopped_holding_database_credentials",
                    name = name
                ))
            })?;
            let record = RotationRecord {
                time: now,
                version_id: pending_id.clone(),
                error: String::new(),
                error_zh: String::new(),
                millis: millis_since(started),
                uncertain: false,
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
                return Err(failed(keyconsole_base::text!(
                    "errors.secret_name_changed_during_the_rotation",
                    name = name,
                    pending_id = pending_id
                )));
            } // else: another process finished this very rotation; nothing is left to do.
            release_claim(database);
            Ok(record)
        })?;
        // The probe's answer no longer matters: everything is saved.
        let _ = probe(RotationStep::Finished);
        Ok(record)
    }

    /// Step 1 of a rotation: the secret's claim for this process, and the id of the pending
    /// version, made now (a new random password, sealed) unless a cut-off rotation left one; one
    /// save. Refused while another process's rotation holds the claim.
    fn claim_rotation(&self, name: &str) -> Result<String> {
        self.transact(|ring, now| {
            let index = find(ring, name)?;
            let secret = &ring.secrets[index];
            let database = database_of(secret)?;
            if !secret.state.may_read() {
                return Err(state_error(
                    secret,
                    keyconsole_base::text!("errors.rotate_it"),
                ));
            }
            if let Some(claim) = claim_blocks(database.rotation_claim.as_ref(), now) {
                return err(
                    ErrorCode::OperationDenied,
                    keyconsole_base::text!(
                        "errors.secret_name_is_being_rotated_by_owner",
                        name = name,
                        owner = claim.owner,
                        seconds = claim.until - now
                    ),
                );
            }
            let left_pending = database
                .pending_version
                .clone()
                .filter(|id| secret.version(id).is_some());
            let pending = match left_pending {
                Some(pending) => pending,
                None => add_pending_version(ring, index, name, now)?,
            };
            if let Some(database) = &mut ring.secrets[index].database {
                database.rotation_claim = Some(new_claim(now));
            }
            Ok(pending)
        })
    }

    /// Renews this rotation's claim right before it talks to the database, after checking that it
    /// still holds it and that `pending_id` is still pending.
    fn renew_claim(&self, name: &str, pending_id: &str) -> Result<()> {
        self.change_secret(name, |secret, now| {
            let database = database_of_mut(secret)?;
            check_claimed(database, name, pending_id, now)?;
            database.rotation_claim = Some(new_claim(now));
            Ok(())
        })
    }

    /// Checks, with what the disk holds now, that this rotation still holds its claim and that
    /// `pending_id` is still pending.
    fn still_claimed(&self, name: &str, pending_id: &str) -> Result<()> {
        self.refresh()?;
        let ring = self.ring();
        let secret = &ring.secrets[find(&ring, name)?];
        check_claimed(database_of(secret)?, name, pending_id, self.now())
    }

    /// After losing the claim in the middle of step 2: whatever this rotation set, the database
    /// goes back to the keystore's current password (best effort; the next rotation repairs the
    /// rest, since the versions it may need are kept).
    fn put_back_current(&self, name: &str, stale: &RotationCredentials) {
        let ring = self.ring();
        let Ok(index) = find(&ring, name) else {
            return;
        };
        let secret = &ring.secrets[index];
        let Some(database) = &secret.database else {
            return;
        };
        let current = secret
            .version(&database.current_version)
            .and_then(|v| open_version(self, &secret.name, v).ok())
            .and_then(|v| Credentials::from_value(name, &database.current_version, &v).ok());
        if let Some(current) = current
            && current.password != stale.pending.password
        {
            let _ = self.database_driver().change_own_password(
                &stale.endpoint,
                &stale.pending.password,
                &current.password,
            );
        }
    }

    /// A rotation that cannot go on after step 1: recorded like any failure (its claim given
    /// back), unless it lost the claim to another rotation; returned as it was.
    fn give_up(&self, name: &str, version_id: &str, started: Instant, e: KmsError) -> KmsError {
        if e.code != ErrorCode::OperationDenied {
            let _ = self.record_attempt(name, version_id, started, RotationFailure::from_error(&e));
        }
        e
    }

    /// The database's address and the passwords it may hold, read from the keystore: the current
    /// and pending ones, and the secret's other versions (newest first).
    fn rotation_credentials(&self, name: &str, pending_id: &str) -> Result<RotationCredentials> {
        let ring = self.ring();
        let secret = &ring.secrets[find(&ring, name)?];
        let database = database_of(secret)?;
        let credentials_of = |version_id: &str| -> Result<Credentials> {
            let version = secret.version(version_id).ok_or_else(|| {
                failed(keyconsole_base::text!(
                    "errors.secret_name_lost_its_version_version",
                    name = name,
                    version_id = version_id
                ))
            })?;
            let value = open_version(self, &secret.name, version)?;
            Credentials::from_value(name, version_id, &value)
        };
        let older = secret
            .versions
            .iter()
            .rev()
            .filter(|v| v.version_id != database.current_version && v.version_id != pending_id)
            .filter_map(|v| credentials_of(&v.version_id).ok())
            .map(|c| c.password)
            .collect();
        Ok(RotationCredentials {
            endpoint: database.endpoint.clone(),
            current: credentials_of(&database.current_version)?,
            pending: credentials_of(pending_id)?,
            older,
        })
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
            let _ = self.record_attempt(name, "-", started, RotationFailure::from_error(&e));
        }
        e
    }

    /// Records a failed attempt (retried by maintenance after `ROTATION_RETRY_SECONDS`, or
    /// `ROTATION_UNCERTAIN_RETRY_SECONDS` when the database could not tell) and returns it as the
    /// error to report.
    fn record_failure(
        &self,
        name: &str,
        version_id: &str,
        started: Instant,
        failure: RotationFailure,
    ) -> KmsError {
        let message = failure.text.clone();
        match self.record_attempt(name, version_id, started, failure) {
            Ok(()) => failed(message),
            Err(e) => failed(keyconsole_base::text!(
                "errors.message_the_attempt_was_not_recorded",
                message = message,
                e = e
            )),
        }
    }

    /// Keeps a failed attempt in the history, puts the schedule off by its retry interval, and
    /// gives back this process's claim.
    fn record_attempt(
        &self,
        name: &str,
        version_id: &str,
        started: Instant,
        failure: RotationFailure,
    ) -> Result<()> {
        self.change_secret(name, |secret, now| {
            if let Some(database) = &mut secret.database {
                let record = RotationRecord {
                    time: now,
                    version_id: version_id.to_owned(),
                    error: failure
                        .text
                        .render(keyconsole_base::util::i18n::Language::English),
                    error_zh: failure
                        .text
                        .render(keyconsole_base::util::i18n::Language::SimplifiedChinese),
                    millis: millis_since(started),
                    uncertain: failure.uncertain,
                };
                if database.rotation_enabled {
                    database.next_rotation_time = now + record.retry_after();
                }
                push_history(database, record);
                if database
                    .rotation_claim
                    .as_ref()
                    .is_some_and(|c| c.owner == this_process())
                {
                    release_claim(database);
                }
            }
            Ok(())
        })
    }
}

/// Why a rotation did not finish, and whether the database may hold the new password all the
/// same (then it is tried again soon).
struct RotationFailure {
    text: Text,
    uncertain: bool,
}

impl RotationFailure {
    fn from_error(e: &KmsError) -> Self {
        Self {
            text: keyconsole_base::text!(
                "errors.code_message",
                code = e.code,
                message = e.text.clone()
            ),
            uncertain: false,
        }
    }
}

/// What a rotation logs in with: the database, and every password of the secret's it may hold.
struct RotationCredentials {
    endpoint: DbEndpoint,
    current: Credentials,
    pending: Credentials,
    /// The secret's other versions' passwords, newest first.
    older: Vec<Zeroizing<String>>,
}

impl RotationCredentials {
    /// Step 2: the database's password becomes the pending one. Set with the current password;
    /// when that does not go as planned, the database is asked which password it holds (every
    /// one the keystore has, at once): the pending one means done, the current one means not done
    /// (retried soon when the answer was uncertain), an older one (a stale rotation's) sets the
    /// pending password with it.
    fn set_pending(&self, driver: &dyn DatabaseDriver) -> std::result::Result<(), RotationFailure> {
        let endpoint = &self.endpoint;
        let Err(why) =
            driver.change_own_password(endpoint, &self.current.password, &self.pending.password)
        else {
            return Ok(());
        };
        let mut candidates: Vec<&str> = vec![&self.pending.password, &self.current.password];
        candidates.extend(self.older.iter().map(|p| p.as_str()));
        let set_failed = |why: &DbError, uncertain: bool| RotationFailure {
            text: keyconsole_base::text!(
                "errors.rotation_setting_the_new_password_failed",
                endpoint = endpoint,
                why = why.text()
            ),
            uncertain,
        };
        match driver.which_logs_in(endpoint, &candidates) {
            Ok(Some(0)) => Ok(()),
            Ok(Some(1)) => Err(set_failed(&why, !why.is_refusal())),
            Ok(Some(stale)) => driver
                .change_own_password(endpoint, candidates[stale], &self.pending.password)
                .map_err(|again| set_failed(&again, !again.is_refusal())),
            Ok(None) => Err(RotationFailure {
                text: keyconsole_base::text!(
                    "errors.rotation_no_stored_password_logs_in",
                    endpoint = endpoint,
                    why = why.text()
                ),
                uncertain: false,
            }),
            Err(asking) => Err(set_failed(&asking, true)),
        }
    }
}

/// Step 1's new version: a random password, sealed and added as pending. Room is made by dropping
/// the oldest version that is neither current nor previous and is older than
/// `ROTATION_VERSION_KEEP_SECONDS`; when every such version is newer, the rotation is refused (the
/// database may still be told any of them by a rotation that hung).
fn add_pending_version(ring: &mut Keyring, index: usize, name: &str, now: i64) -> Result<String> {
    let secret = &mut ring.secrets[index];
    let database = database_of(secret)?;
    let (current, previous) = (
        database.current_version.clone(),
        database.previous_version.clone(),
    );
    let user = database.endpoint.user.clone();
    let in_use = |id: &String| *id == current || Some(id) == previous.as_ref();
    while secret.versions.len() >= VERSIONS_MAX {
        let prunable = secret.versions.iter().position(|v| {
            !in_use(&v.version_id) && v.create_time + ROTATION_VERSION_KEEP_SECONDS <= now
        });
        let Some(oldest) = prunable else {
            let oldest_kept = secret
                .versions
                .iter()
                .filter(|v| !in_use(&v.version_id))
                .map(|v| v.create_time)
                .min()
                .unwrap_or(now);
            return err(
                ErrorCode::LimitExceeded,
                keyconsole_base::text!(
                    "errors.secret_name_was_rotated_versions_times_within",
                    name = name,
                    versions = VERSIONS_MAX,
                    minutes = (oldest_kept + ROTATION_VERSION_KEEP_SECONDS - now).max(60) / 60
                ),
            );
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
}

fn database_of_mut(secret: &mut SecretRecord) -> Result<&mut DatabaseSecret> {
    let name = secret.name.clone();
    secret.database.as_mut().ok_or_else(|| {
        KmsError::new(
            ErrorCode::UnsupportedOperation,
            keyconsole_base::text!("errors.secret_name_does_not_hold_database", name = name),
        )
    })
}

/// This process holds `database`'s claim (nobody else took it, run out or not) and `pending_id`
/// is still its pending version.
fn check_claimed(database: &DatabaseSecret, name: &str, pending_id: &str, now: i64) -> Result<()> {
    let ours = database
        .rotation_claim
        .as_ref()
        .is_some_and(|c| c.owner == this_process());
    if ours && database.pending_version.as_deref() == Some(pending_id) {
        return Ok(());
    }
    let owner = claim_blocks(database.rotation_claim.as_ref(), now)
        .map_or_else(|| "-".to_owned(), |c| c.owner.clone());
    err(
        ErrorCode::OperationDenied,
        keyconsole_base::text!(
            "errors.rotation_of_name_was_taken_over",
            name = name,
            owner = owner
        ),
    )
}

fn release_claim(database: &mut DatabaseSecret) {
    database.rotation_claim = None;
}

fn push_history(database: &mut DatabaseSecret, record: RotationRecord) {
    // Keystores from before the count: their history is every attempt they remember.
    database.attempts = database.attempts.max(database.history.len() as u64) + 1;
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
        self.insert_database_secret(request, history, None)
    }
}
