//! Maintenance that falls due with time: key material destroyed when its deletion date passes,
//! automatic rotation, and reservations of encryptions topped up before they run out. Runs at unlock and on the
//! one tick every long-running face shares (`SharedKms::tick`).

use super::error::Result;
use super::keys::rules::ROTATE_AFTER_ENCRYPTIONS;
use super::keys::{KeyRecord, KeyState, rotate};
use super::usage::reserve_block;
use super::{Kms, secrets};

/// What automatic maintenance did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintenance {
    pub rotated: Vec<String>,
    pub destroyed: Vec<String>,
    /// Secrets whose recovery window ended.
    pub destroyed_secrets: Vec<String>,
    /// EXTERNAL keys whose imported material passed its ValidTo (now PendingImport).
    pub material_expired: Vec<String>,
}

impl Maintenance {
    pub fn is_empty(&self) -> bool {
        self.rotated.is_empty()
            && self.destroyed.is_empty()
            && self.destroyed_secrets.is_empty()
            && self.material_expired.is_empty()
    }
}

impl Kms {
    /// Is there due rotation, deletion, or a reservation of encryptions running low?
    pub(crate) fn maintenance_due(&self, now: i64) -> bool {
        let ring = self.ring();
        ring.secrets.iter().any(|s| secrets::deletion_due(s, now))
            || ring.keys.iter().any(|k| {
                deletion_due(k, now)
                    || crate::keys::import::material_expired(k, now)
                    || (k.state == KeyState::Enabled
                        && (rotation_due(k, now) || k.newest_version().1.reservation.runs_low()))
            })
    }

    /// The one maintenance tick: catch up with changes other processes saved, then carry out the
    /// rotations and deletions that fell due (and save piled-up encryption counts). Blocks while
    /// another change of this process saves, so run it off the request path.
    pub fn tick(&self) -> Result<Maintenance> {
        if self.is_current() && !self.maintenance_due(self.now()) {
            return Ok(Maintenance::default());
        }
        self.refresh()?;
        self.maintain()
    }

    /// Destroys keys whose deletion date has passed and rotates keys that are due. Runs at unlock;
    /// long-running faces call it now and then (it is a no-op when nothing is due).
    pub fn maintain(&self) -> Result<Maintenance> {
        if !self.maintenance_due(self.clock.now()) {
            return Ok(Maintenance::default());
        }
        let done = self.carry_out_maintenance()?;
        // Each thing done is an event of its own, by maintenance (the save above already failed
        // if the trail could not be written).
        let caller =
            crate::Caller::local(crate::Face::Engine, keyconsole_base::util::i18n::current());
        let events = [
            ("RotateKey", &done.rotated),
            ("DeleteKey", &done.destroyed),
            ("DeleteSecret", &done.destroyed_secrets),
            ("ImportedKeyMaterialExpired", &done.material_expired),
        ];
        for (operation, targets) in events {
            for target in targets {
                let _ = self.audited(&caller, operation, target, None, Ok(()));
            }
        }
        Ok(done)
    }

    fn carry_out_maintenance(&self) -> Result<Maintenance> {
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
                .filter(|k| crate::keys::import::material_expired(k, now))
            {
                crate::keys::import::drop_material(record);
                done.material_expired.push(record.key_id.to_string());
            }
            let credits = &mut ring.credits;
            for record in ring
                .keys
                .iter_mut()
                .filter(|k| k.state == KeyState::Enabled)
            {
                if rotation_due(record, now) {
                    rotate(record, now)?;
                    done.rotated.push(record.key_id.to_string());
                } else if record.newest_version().1.reservation.runs_low() {
                    // Topped up before it runs out, so requests never wait for this save. A
                    // version at its limit gets nothing; its encryptions are refused.
                    let alias = record.alias.clone();
                    if let Some(version) = record.versions.last_mut() {
                        let _ = reserve_block(credits, version, &alias);
                    }
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
}

pub(crate) fn deletion_due(key: &KeyRecord, now: i64) -> bool {
    key.state == KeyState::PendingDelete && key.deletion_date <= now
}

/// Only keys whose material keyconsole makes rotate (imported material is the user's; a key pair
/// has no nonces to run out of and a public key others hold).
fn rotation_due(key: &KeyRecord, now: i64) -> bool {
    key.origin == crate::keys::KeyOrigin::Generated
        && key.usage == crate::keys::KeyUsage::EncryptDecrypt
        && ((key.rotation_enabled && key.next_rotate_time <= now)
            || key.newest_version().1.total_encryptions() >= ROTATE_AFTER_ENCRYPTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::rules::REFUSE_AFTER_ENCRYPTIONS;
    use crate::testing::FAST_KDF as FAST;
    use crate::{CanonicalContext, CreateKey, ErrorCode};

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
        assert!(
            kms.keys()[0].versions[0].encryptions >= ROTATE_AFTER_ENCRYPTIONS,
            "the count was reserved on disk"
        );

        set_saved_encryptions(&kms, 1, REFUSE_AFTER_ENCRYPTIONS);
        let refused = kms.encrypt("busy", b"x", &ctx).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InternalError);
        assert_eq!(
            kms.keys()[0].versions[1].total_encryptions(),
            REFUSE_AFTER_ENCRYPTIONS
        );
    }

    /// Maintenance tops up a reservation running low, so a busy process's requests never wait
    /// for a save; a thread that must not wait gets `ReservationNeeded` instead of saving.
    #[test]
    fn maintenance_tops_up_a_reservation_before_it_runs_out() {
        use crate::keys::rules::RESERVE_FIRST;
        use crate::usage::without_waiting;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.kcks");
        let kms = Kms::create(&path, b"pw", FAST).unwrap();
        kms.create_key(CreateKey {
            alias: "k".into(),
            ..CreateKey::default()
        })
        .unwrap();
        let ctx = CanonicalContext::none();
        let refused = without_waiting(|| kms.encrypt("k", b"x", &ctx)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::ReservationNeeded);
        kms.encrypt("k", b"x", &ctx).unwrap(); // reserves the first block
        let on_disk = || Kms::open(&path, b"pw").unwrap().keys()[0].versions[0].encryptions;
        assert_eq!(on_disk(), RESERVE_FIRST);
        assert!(kms.maintain().unwrap().is_empty(), "plenty left");
        assert_eq!(on_disk(), RESERVE_FIRST);
        // Down to below a quarter of the next block (twice the first): topped up.
        while kms.keys()[0].versions[0].encryptions_by_this_process() < RESERVE_FIRST / 2 + 1 {
            without_waiting(|| kms.encrypt("k", b"x", &ctx)).unwrap();
        }
        kms.maintain().unwrap();
        assert_eq!(on_disk(), 3 * RESERVE_FIRST);
        for _ in 0..RESERVE_FIRST {
            without_waiting(|| kms.encrypt("k", b"x", &ctx)).unwrap();
        }
    }

    /// A clean stop gives back what was reserved and not used: the count on disk goes down to
    /// the encryptions made (still an upper bound), and no encryption uses a given-back block.
    #[test]
    fn unused_reservations_are_given_back() {
        use crate::keys::rules::RESERVE_FIRST;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.kcks");
        let kms = Kms::create(&path, b"pw", FAST).unwrap();
        for alias in ["a", "b"] {
            kms.create_key(CreateKey {
                alias: alias.into(),
                ..CreateKey::default()
            })
            .unwrap();
        }
        let ctx = CanonicalContext::none();
        for _ in 0..3 {
            kms.encrypt("a", b"x", &ctx).unwrap();
        }
        let on_disk = |alias: &str| {
            let reopened = Kms::open(&path, b"pw").unwrap();
            reopened.describe_key(alias).unwrap();
            let keys = reopened.keys();
            let key = keys.iter().find(|k| k.alias == alias).unwrap();
            key.versions[0].encryptions
        };
        assert_eq!(on_disk("a"), RESERVE_FIRST);
        let generation = kms.generation();
        kms.release_reservations().unwrap();
        assert_eq!(on_disk("a"), 3);
        assert_eq!(on_disk("b"), 0);
        kms.release_reservations().unwrap();
        assert_eq!(
            kms.generation(),
            generation + 1,
            "nothing left: no second save"
        );
        // The next encryption reserves anew, on top of the three.
        kms.encrypt("a", b"x", &ctx).unwrap();
        assert!(on_disk("a") > 3);
        assert_eq!(kms.keys()[0].versions[0].encryptions_by_this_process(), 4);
    }
}
