//! Maintenance that falls due with time: key material destroyed when its deletion date passes,
//! automatic rotation, and encryption counts saved once enough pile up. Runs at unlock and on the
//! one tick every long-running face shares (`SharedKms::tick`).

use std::sync::atomic::Ordering;

use super::error::Result;
use super::keys::rules::{ROTATE_AFTER_ENCRYPTIONS, SAVE_USAGE_AFTER};
use super::keys::{KeyRecord, KeyState, rotate};
use super::{Kms, secrets};

/// What automatic maintenance did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintenance {
    pub rotated: Vec<String>,
    pub destroyed: Vec<String>,
    /// Secrets whose recovery window ended.
    pub destroyed_secrets: Vec<String>,
}

impl Maintenance {
    pub fn is_empty(&self) -> bool {
        self.rotated.is_empty() && self.destroyed.is_empty() && self.destroyed_secrets.is_empty()
    }
}

impl Kms {
    /// Is there due rotation, deletion, or a pile of unsaved encryption counts?
    pub(crate) fn maintenance_due(&self, now: i64) -> bool {
        let ring = self.ring();
        ring.secrets.iter().any(|s| secrets::deletion_due(s, now))
            || ring.keys.iter().any(|k| {
                deletion_due(k, now)
                    || (k.state == KeyState::Enabled && rotation_due(k, now))
                    || k.versions
                        .iter()
                        .any(|v| v.unsaved_encryptions.load(Ordering::Relaxed) >= SAVE_USAGE_AFTER)
            })
    }

    /// Destroys keys whose deletion date has passed and rotates keys that are due. Runs at unlock;
    /// long-running faces call it now and then (it is a no-op when nothing is due).
    pub fn maintain(&self) -> Result<Maintenance> {
        if !self.maintenance_due(self.clock.now()) {
            return Ok(Maintenance::default());
        }
        self.transact(|ring, now| {
            let mut done = Maintenance::default();
            ring.keys.retain(|k| {
                let expired = deletion_due(k, now);
                if expired {
                    done.destroyed.push(k.key_id.to_string());
                }
                !expired // dropping the record wipes its key material
            });
            for record in ring
                .keys
                .iter_mut()
                .filter(|k| k.state == KeyState::Enabled)
            {
                if rotation_due(record, now) {
                    rotate(record, now);
                    done.rotated.push(record.key_id.to_string());
                }
            }
            if !done.destroyed.is_empty() {
                ring.reindex();
            }
            ring.secrets.retain(|s| {
                let due = secrets::deletion_due(s, now);
                if due {
                    done.destroyed_secrets.push(s.name.clone());
                }
                !due
            });
            Ok(done)
        })
    }

    /// Saves the encryption counts of this process now (long-running faces call it on exit).
    pub fn flush_usage(&self) -> Result<()> {
        if !self.ring().has_unsaved_usage() {
            return Ok(());
        }
        self.transact(|_, _| Ok(()))
    }
}

pub(crate) fn deletion_due(key: &KeyRecord, now: i64) -> bool {
    key.state == KeyState::PendingDelete && key.deletion_date <= now
}

fn rotation_due(key: &KeyRecord, now: i64) -> bool {
    (key.rotation_enabled && key.next_rotate_time <= now)
        || key.newest_version().1.total_encryptions() >= ROTATE_AFTER_ENCRYPTIONS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::keys::rules::REFUSE_AFTER_ENCRYPTIONS;
    use crate::kms::{CanonicalContext, CreateKey, ErrorCode};
    use crate::testing::FAST_KDF as FAST;

    fn set_saved_encryptions(kms: &Kms, version: usize, n: u64) {
        kms.transact(|ring, _| {
            ring.keys[0].versions[version].encryptions = n;
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_version_is_rotated_at_half_its_nonce_budget_and_refused_near_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let kms = Kms::create(&dir.path().join("k.kcks"), b"pw", FAST).unwrap();
        kms.create_key(CreateKey {
            alias: "busy".into(),
            ..CreateKey::default()
        })
        .unwrap();
        let ctx = CanonicalContext::none();
        set_saved_encryptions(&kms, 0, ROTATE_AFTER_ENCRYPTIONS - 1);
        kms.encrypt("busy", b"x", &ctx).unwrap();
        assert_eq!(kms.maintain().unwrap().rotated.len(), 1);
        assert_eq!(kms.describe_key("busy").unwrap().version_count, 2);
        assert_eq!(
            kms.keys()[0].versions[0].encryptions,
            ROTATE_AFTER_ENCRYPTIONS,
            "the count was saved"
        );

        set_saved_encryptions(&kms, 1, REFUSE_AFTER_ENCRYPTIONS);
        let refused = kms.encrypt("busy", b"x", &ctx).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InternalError);
        assert_eq!(
            kms.keys()[0].versions[1].total_encryptions(),
            REFUSE_AFTER_ENCRYPTIONS
        );
    }

    #[test]
    fn many_unsaved_encryptions_are_saved_by_maintenance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.kcks");
        let kms = Kms::create(&path, b"pw", FAST).unwrap();
        kms.create_key(CreateKey {
            alias: "k".into(),
            ..CreateKey::default()
        })
        .unwrap();
        for _ in 0..SAVE_USAGE_AFTER {
            kms.encrypt("k", b"x", &CanonicalContext::none()).unwrap();
        }
        kms.maintain().unwrap();
        let reopened = Kms::open(&path, b"pw").unwrap();
        assert_eq!(reopened.keys()[0].versions[0].encryptions, SAVE_USAGE_AFTER);
    }
}
