//! The other half of the service boundary: what only the owner of a keystore on this machine does
//! (its password, its upkeep, the loopback API's credentials and the local CA). Faces reach it
//! through [`KeystoreAdmin`] with a caller, and each change emits an event as the service's calls
//! do, so an audit trail records a new password or API key as it records a key's deletion. A
//! remote session has none of it: a server's owner does these on that machine.

use keyconsole_base::crypto::certs::ServerIdentity;
use keyconsole_store::KdfParams;

use super::Kms;
use super::credentials::{ApiCredentials, Cloud};
use super::error::Result;
use super::local_ca::LocalCa;
use super::maintenance::Maintenance;
use super::secrets::product::DbInstance;
use super::service::{Caller, KmsService};
use super::users::{UserChange, UserInfo};
use keyconsole_base::util::database::DbEndpoint;

/// What one round of upkeep did, and what it left to the face.
#[derive(Debug, Default)]
pub struct Upkeep {
    pub done: Maintenance,
    /// Database secrets whose rotation fell due: the face rotates them on a worker of its own (a
    /// rotation waits for a database), through `SecretChange::Rotate`.
    pub due_rotations: Vec<String>,
}

pub trait KeystoreAdmin: KmsService {
    /// Catches up with what other processes saved and carries out the key rotations and
    /// deletions that fell due. Blocks while another change of this process saves: run it off
    /// drawing and request threads.
    fn upkeep(&self, caller: &Caller) -> Result<Upkeep>;
    /// Moves on with every change saved or read from disk; one atomic read, so a face can ask
    /// every frame whether its snapshot is stale.
    fn keystore_generation(&self) -> u64;
    /// What went wrong without failing (upkeep that could not be saved), oldest first; taken by
    /// the face that shows them.
    fn keystore_warnings(&self) -> Vec<String>;
    /// A new keystore password (the current one proven again); `new_master_key` also seals every
    /// record anew and deletes the backups the old password opened.
    fn set_keystore_password(
        &self,
        caller: &Caller,
        current: &[u8],
        new: &[u8],
        kdf: Option<KdfParams>,
        new_master_key: bool,
    ) -> Result<()>;
    /// A cloud dialect's API credentials, made on first use; `rotate` replaces both halves and
    /// the old secret key is refused at once.
    fn api_credential(&self, caller: &Caller, cloud: Cloud, rotate: bool)
    -> Result<ApiCredentials>;
    /// A cloud's credentials if they were ever made (shown, never created; no event).
    fn existing_api_credential(&self, cloud: Cloud) -> Option<ApiCredentials>;
    /// The local CA, made on first use; `renew` replaces it (clients must trust the new one).
    fn local_ca_cert(&self, caller: &Caller, renew: bool) -> Result<LocalCa>;
    /// A server certificate for `names` from the local CA, its key only in the returned value.
    fn server_identity(&self, caller: &Caller, names: &[String]) -> Result<ServerIdentity>;
    /// Registers a database administrator's connection as an instance product secrets make
    /// accounts through (after logging in with it from here).
    fn add_db_instance(
        &self,
        caller: &Caller,
        instance_id: &str,
        endpoint: DbEndpoint,
        password: &str,
    ) -> Result<DbInstance>;
    fn remove_db_instance(&self, caller: &Caller, instance_id: &str) -> Result<()>;
    /// The registered instances (never their passwords; no event).
    fn db_instances(&self) -> Vec<DbInstance>;
    /// The team's users (never a secret key; no event).
    fn users(&self) -> Vec<UserInfo>;
    /// A change to the team's users; a new key (create, rotate) is answered, once.
    fn change_user(&self, caller: &Caller, change: UserChange) -> Result<Option<ApiCredentials>>;
    /// Checks the audit trail's chain against the head the keystore saved.
    fn verify_audit_trail(&self) -> Result<crate::audit::VerifyReport>;
    /// Removes the trail's segments whose every event is older than `before` (Unix seconds),
    /// after checking the chain; without `apply`, only what would go (no event).
    fn prune_audit_trail(
        &self,
        caller: &Caller,
        before: i64,
        apply: bool,
    ) -> Result<crate::audit::AuditPrune>;
}

impl KeystoreAdmin for Kms {
    fn upkeep(&self, caller: &Caller) -> Result<Upkeep> {
        let result = self.tick().map(|done| Upkeep {
            done,
            due_rotations: self.due_secret_rotations(),
        });
        // Only rounds that did something are events (the trail has one per thing done, written
        // by `maintain`): upkeep runs every second.
        if result.as_ref().map_or(true, |u| !u.done.is_empty()) {
            self.emit(caller, "Maintenance", "", &result);
        }
        result
    }

    fn keystore_generation(&self) -> u64 {
        self.generation()
    }

    fn keystore_warnings(&self) -> Vec<String> {
        self.take_warnings()
    }

    fn set_keystore_password(
        &self,
        caller: &Caller,
        current: &[u8],
        new: &[u8],
        kdf: Option<KdfParams>,
        new_master_key: bool,
    ) -> Result<()> {
        let operation = if new_master_key {
            "RekeyKeystore"
        } else {
            "ChangeKeystorePassword"
        };
        let result = self.audit_ready(operation).and_then(|()| {
            if new_master_key {
                self.rekey(current, new, kdf)
            } else {
                self.change_password(current, new, kdf)
            }
        });
        self.audited(caller, operation, "", None, result)
    }

    fn api_credential(
        &self,
        caller: &Caller,
        cloud: Cloud,
        rotate: bool,
    ) -> Result<ApiCredentials> {
        let operation = if rotate {
            "RotateApiCredentials"
        } else {
            "GetApiCredentials"
        };
        let result = self.audit_ready(operation).and_then(|()| {
            if rotate {
                self.rotate_api_credentials_for(cloud)
            } else {
                self.api_credentials_for(cloud)
            }
        });
        let target = result
            .as_ref()
            .map_or("", |c| c.secret_id.as_str())
            .to_owned();
        self.audited(caller, operation, &target, None, result)
    }

    fn existing_api_credential(&self, cloud: Cloud) -> Option<ApiCredentials> {
        self.existing_api_credentials_for(cloud)
    }

    fn local_ca_cert(&self, caller: &Caller, renew: bool) -> Result<LocalCa> {
        let operation = if renew { "RenewLocalCa" } else { "GetLocalCa" };
        let result = self.audit_ready(operation).and_then(|()| {
            if renew {
                self.renew_local_ca()
            } else {
                self.local_ca()
            }
        });
        self.audited(caller, operation, "", None, result)
    }

    fn server_identity(&self, caller: &Caller, names: &[String]) -> Result<ServerIdentity> {
        let result = self
            .audit_ready("IssueServerCertificate")
            .and_then(|()| self.issue_server_identity(names));
        self.audited(
            caller,
            "IssueServerCertificate",
            &names.join(","),
            None,
            result,
        )
    }

    fn add_db_instance(
        &self,
        caller: &Caller,
        instance_id: &str,
        endpoint: DbEndpoint,
        password: &str,
    ) -> Result<DbInstance> {
        let result = self
            .audit_ready("AddDatabaseInstance")
            .and_then(|()| Kms::add_db_instance(self, instance_id, endpoint, password));
        self.audited(caller, "AddDatabaseInstance", instance_id, None, result)
    }

    fn remove_db_instance(&self, caller: &Caller, instance_id: &str) -> Result<()> {
        let result = self
            .audit_ready("RemoveDatabaseInstance")
            .and_then(|()| Kms::remove_db_instance(self, instance_id));
        self.audited(caller, "RemoveDatabaseInstance", instance_id, None, result)
    }

    fn db_instances(&self) -> Vec<DbInstance> {
        Kms::db_instances(self)
    }

    fn users(&self) -> Vec<UserInfo> {
        Kms::users(self)
    }

    fn change_user(&self, caller: &Caller, change: UserChange) -> Result<Option<ApiCredentials>> {
        let (operation, user) = (change.operation(), change.user().to_owned());
        let result = self
            .audit_ready(operation)
            .and_then(|()| self.change_user_as(change));
        self.audited(caller, operation, &user, None, result)
    }

    fn verify_audit_trail(&self) -> Result<crate::audit::VerifyReport> {
        self.verify_audit()
    }

    fn prune_audit_trail(
        &self,
        caller: &Caller,
        before: i64,
        apply: bool,
    ) -> Result<crate::audit::AuditPrune> {
        if !apply {
            return self.prune_audit(before, false);
        }
        let operation = "PruneAuditTrail";
        let result = self
            .audit_ready(operation)
            .and_then(|()| self.prune_audit(before, true));
        self.audited(caller, operation, "", None, result)
    }
}
