//! A team's users (sub-accounts) of one keystore: each has a policy (see `policy`) and its own API
//! credentials per cloud dialect, sealed in the keystore like the owner's. The keystore's owner
//! (who holds its password, and whose credentials are the keystore's own) may do everything; a
//! user only what its policy allows. A user's key rotated with a grace period keeps working until
//! the grace ends, then is refused; a disabled user's keys are all refused.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Kms;
use super::credentials::{ApiCredentials, Cloud};
use super::error::{ErrorCode, KmsError, Result};
use super::policy::{Decision, Policy, Request};
use super::service::{Caller, Face};

/// At most this many users in a keystore.
pub const USERS_MAX: usize = 1000;

#[derive(Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: String,
    pub policy: Policy,
    #[serde(default)]
    pub disabled: bool,
    pub created: i64,
    pub keys: Vec<UserKey>,
}

/// One access key of a user; `expires` 0 never (a rotated-out key gets the grace's end).
#[derive(Clone, Serialize, Deserialize)]
pub struct UserKey {
    pub cloud: Cloud,
    pub secret_id: String,
    pub secret_key: Zeroizing<String>,
    pub created: i64,
    #[serde(default)]
    pub expires: i64,
}

impl UserKey {
    fn valid_at(&self, now: i64) -> bool {
        self.expires == 0 || now < self.expires
    }

    fn credentials(&self) -> ApiCredentials {
        ApiCredentials {
            cloud: self.cloud,
            secret_id: self.secret_id.clone(),
            secret_key: self.secret_key.clone(),
            created: self.created,
        }
    }
}

/// A user as listed: never a secret key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub disabled: bool,
    pub created: i64,
    pub policy: Policy,
    /// Each key: its cloud, access key, creation and expiry (0 never).
    pub keys: Vec<(Cloud, String, i64, i64)>,
    /// When one of its keys last signed a request, and from where (the audit trail's newest
    /// event of the user's keys); `None` when never.
    pub last_used: Option<(i64, String)>,
}

impl UserRecord {
    /// A new key for `cloud`, kept with the user; answers it.
    fn add_key(&mut self, cloud: Cloud, now: i64) -> ApiCredentials {
        let fresh = ApiCredentials::generate(cloud, now);
        self.keys.push(UserKey {
            cloud,
            secret_id: fresh.secret_id.clone(),
            secret_key: fresh.secret_key.clone(),
            created: now,
            expires: 0,
        });
        fresh
    }

    fn info(&self) -> UserInfo {
        UserInfo {
            name: self.name.clone(),
            disabled: self.disabled,
            created: self.created,
            policy: self.policy.clone(),
            keys: self
                .keys
                .iter()
                .map(|k| (k.cloud, k.secret_id.clone(), k.created, k.expires))
                .collect(),
            last_used: None,
        }
    }
}

/// A change to the team's users, as the console and the CLI ask it.
#[derive(Debug, Clone)]
pub enum UserChange {
    Create {
        name: String,
        policy: Policy,
    },
    Disable(String),
    Enable(String),
    /// A new key for `cloud`; the old one works `grace_hours` more.
    RotateKey {
        name: String,
        cloud: Cloud,
        grace_hours: u32,
    },
    SetPolicy {
        name: String,
        policy: Policy,
    },
    Delete(String),
    /// The user's key for `cloud` (made on first ask).
    Credentials {
        name: String,
        cloud: Cloud,
    },
}

impl UserChange {
    pub fn operation(&self) -> &'static str {
        match self {
            UserChange::Create { .. } => "CreateUser",
            UserChange::Disable(_) => "DisableUser",
            UserChange::Enable(_) => "EnableUser",
            UserChange::RotateKey { .. } => "RotateUserKey",
            UserChange::SetPolicy { .. } => "SetUserPolicy",
            UserChange::Delete(_) => "DeleteUser",
            UserChange::Credentials { .. } => "GetUserCredentials",
        }
    }

    pub fn user(&self) -> &str {
        match self {
            UserChange::Create { name, .. }
            | UserChange::RotateKey { name, .. }
            | UserChange::SetPolicy { name, .. }
            | UserChange::Credentials { name, .. } => name,
            UserChange::Disable(name) | UserChange::Enable(name) | UserChange::Delete(name) => name,
        }
    }
}

fn check_name(name: &str) -> Result<()> {
    let fine = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'));
    if fine {
        Ok(())
    } else {
        Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.user_name_not_valid", name = name),
        ))
    }
}

fn no_such_user(name: &str) -> KmsError {
    KmsError::new(
        ErrorCode::UserNotFound,
        keyconsole_base::text!("errors.no_such_user", name = name),
    )
}

impl Kms {
    /// A new user with `policy` and a Tencent key pair (the other clouds' on first ask).
    pub fn create_user(&self, name: &str, policy: Policy) -> Result<ApiCredentials> {
        check_name(name)?;
        policy.check()?;
        self.transact(|ring, now| {
            if ring.users.iter().any(|u| u.name.eq_ignore_ascii_case(name)) {
                return Err(KmsError::new(
                    ErrorCode::UserExists,
                    keyconsole_base::text!("errors.user_exists", name = name),
                ));
            }
            if ring.users.len() >= USERS_MAX {
                return Err(KmsError::new(
                    ErrorCode::LimitExceeded,
                    keyconsole_base::text!("errors.too_many_users", max = USERS_MAX),
                ));
            }
            let mut user = UserRecord {
                name: name.to_owned(),
                policy,
                disabled: false,
                created: now,
                keys: Vec::new(),
            };
            let fresh = user.add_key(Cloud::Tencent, now);
            ring.users.push(user);
            Ok(fresh)
        })
    }

    /// Carries out a change; a new key (Create, RotateKey) is answered, once.
    pub fn change_user_as(&self, change: UserChange) -> Result<Option<ApiCredentials>> {
        match change {
            UserChange::Create { name, policy } => self.create_user(&name, policy).map(Some),
            UserChange::Disable(name) => self.set_user_disabled(&name, true).map(|()| None),
            UserChange::Enable(name) => self.set_user_disabled(&name, false).map(|()| None),
            UserChange::RotateKey {
                name,
                cloud,
                grace_hours,
            } => self.rotate_user_key(&name, cloud, grace_hours).map(Some),
            UserChange::SetPolicy { name, policy } => {
                self.set_user_policy(&name, policy).map(|()| None)
            }
            UserChange::Delete(name) => self.delete_user(&name).map(|()| None),
            UserChange::Credentials { name, cloud } => {
                self.user_credentials(&name, cloud).map(Some)
            }
        }
    }

    pub fn users(&self) -> Vec<UserInfo> {
        let last_use = self.credential_last_use();
        self.ring()
            .users
            .iter()
            .map(|user| {
                let mut info = user.info();
                info.last_used = user
                    .keys
                    .iter()
                    .filter_map(|k| last_use.get(&k.secret_id))
                    .max_by_key(|(time, _)| *time)
                    .cloned();
                info
            })
            .collect()
    }

    fn with_user<T>(
        &self,
        name: &str,
        change: impl FnOnce(&mut UserRecord, i64) -> Result<T>,
    ) -> Result<T> {
        self.transact(|ring, now| {
            let user = ring
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or_else(|| no_such_user(name))?;
            change(user, now)
        })
    }

    pub fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<()> {
        self.with_user(name, |user, _| {
            user.disabled = disabled;
            Ok(())
        })
    }

    pub fn set_user_policy(&self, name: &str, policy: Policy) -> Result<()> {
        policy.check()?;
        self.with_user(name, |user, _| {
            user.policy = policy;
            Ok(())
        })
    }

    pub fn delete_user(&self, name: &str) -> Result<()> {
        self.transact(|ring, _| {
            let before = ring.users.len();
            ring.users.retain(|u| u.name != name);
            if ring.users.len() == before {
                return Err(no_such_user(name));
            }
            Ok(())
        })
    }

    /// The user's current key for `cloud`, made on first ask.
    pub fn user_credentials(&self, name: &str, cloud: Cloud) -> Result<ApiCredentials> {
        let now_key = |user: &UserRecord| {
            user.keys
                .iter()
                .rev()
                .find(|k| k.cloud == cloud && k.expires == 0)
                .map(UserKey::credentials)
        };
        if let Some(user) = self.ring().users.iter().find(|u| u.name == name)
            && let Some(current) = now_key(user)
        {
            return Ok(current);
        }
        self.with_user(name, |user, now| {
            if let Some(current) = now_key(user) {
                return Ok(current);
            }
            Ok(user.add_key(cloud, now))
        })
    }

    /// A new key for the user's `cloud`; the current one keeps working `grace_hours` more (0:
    /// refused at once), then is refused. Keys whose grace has ended are dropped here.
    pub fn rotate_user_key(
        &self,
        name: &str,
        cloud: Cloud,
        grace_hours: u32,
    ) -> Result<ApiCredentials> {
        self.with_user(name, |user, now| {
            user.keys.retain(|k| k.valid_at(now));
            let ends = now + i64::from(grace_hours) * 3600;
            if grace_hours == 0 {
                user.keys.retain(|k| k.cloud != cloud);
            }
            for key in user.keys.iter_mut().filter(|k| k.cloud == cloud) {
                if key.expires == 0 || key.expires > ends {
                    key.expires = ends;
                }
            }
            Ok(user.add_key(cloud, now))
        })
    }

    /// The secret key of a user's valid key (`cloud`, access key `secret_id`), if there is one.
    pub(crate) fn user_secret_key(
        &self,
        cloud: Cloud,
        secret_id: &str,
    ) -> Option<Zeroizing<String>> {
        let now = self.now();
        self.ring()
            .users
            .iter()
            .filter(|u| !u.disabled)
            .flat_map(|u| u.keys.iter())
            .find(|k| k.cloud == cloud && k.secret_id == secret_id && k.valid_at(now))
            .map(|k| k.secret_key.clone())
    }

    /// Whether `caller` may do `action` (`kms:Encrypt`) on `resource`: the owner (the console and
    /// CLI on this machine, the keystore's own credentials) always; a user as its policy says. A
    /// refusal names the user, the action and the resource, as the cloud's does.
    pub fn authorize(&self, caller: &Caller, request: &Request<'_>) -> Result<()> {
        if caller.face != Face::Api {
            return Ok(());
        }
        let ring = self.ring();
        let Some(user) = ring.user_signing_with(&caller.principal) else {
            // The keystore's own credentials (the only others that authenticate).
            return Ok(());
        };
        let request = Request {
            source_ip: caller.source,
            ..request.clone()
        };
        match user.policy.evaluate(&request) {
            Decision::Allow => Ok(()),
            Decision::ExplicitDeny(_) | Decision::ImplicitDeny => Err(KmsError::new(
                ErrorCode::UnauthorizedOperation,
                keyconsole_base::text!(
                    "errors.user_may_not",
                    user = user.name,
                    action = request.action,
                    resource = request.resource
                ),
            )),
        }
    }
}
