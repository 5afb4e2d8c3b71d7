//! Encryption counts, reserved ahead. Every key version may seal at most
//! `REFUSE_AFTER_ENCRYPTIONS` values (random 96-bit nonces), so the count must never fall short,
//! not even after a crash, and counting must not rewrite the keystore on the request path.
//!
//! A process reserves a block of encryptions for a version by saving the version's count raised
//! by the block, and only then uses them, from memory. A crash loses the unused rest of the block,
//! so the count on disk is always an upper bound of the encryptions ever made. Blocks start at
//! `RESERVE_FIRST` (a one-shot CLI run wastes little) and double, up to `RESERVE_MAX`, while the
//! process keeps using the version; maintenance tops up a block that runs low before it runs out,
//! so a busy server saves once per block (every few minutes at full speed) instead of once per few
//! thousand requests. A server that stops cleanly gives back what it did not use.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use super::Kms;
use super::error::{ErrorCode, KmsError, Result, err};
use super::keyring::Keyring;
use super::keys::KeyVersion;
use super::keys::rules::{REFUSE_AFTER_ENCRYPTIONS, RESERVE_FIRST, RESERVE_MAX};

/// A version's reservation in this process. Shared by the copies of the version in successive
/// keyrings, so a count taken from the keyring a reader still holds is the same count.
#[derive(Debug, Default)]
pub(crate) struct Reservation {
    /// Reserved (saved) and not used yet.
    left: AtomicU64,
    /// Used by this process.
    used: AtomicU64,
    /// The next block to reserve (0: not reserved yet, `RESERVE_FIRST`).
    next_block: AtomicU64,
}

impl Reservation {
    /// Takes one encryption from the reservation; false when none is left. The one that makes
    /// it run low notes so for this thread (see `Kms::reserving`), to have it topped up now.
    pub(crate) fn take_one(&self) -> bool {
        let Ok(before) = self
            .left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(1)
            })
        else {
            return false;
        };
        self.used.fetch_add(1, Ordering::Relaxed);
        if before == self.block() / 4 {
            RAN_LOW.with(|low| low.set(true));
        }
        true
    }

    pub(crate) fn block(&self) -> u64 {
        match self.next_block.load(Ordering::Relaxed) {
            0 => RESERVE_FIRST,
            n => n,
        }
    }

    /// A long-running process starts with a bigger block, so its first seconds under load do
    /// not run through a dozen small ones.
    fn start_at_least(&self, block: u64) {
        let _ = self
            .next_block
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < block).then_some(block.min(RESERVE_MAX))
            });
    }

    /// In use by this process and below a quarter of the next block: time to top it up.
    pub(crate) fn runs_low(&self) -> bool {
        self.used.load(Ordering::Relaxed) > 0
            && self.left.load(Ordering::Relaxed) < self.block() / 4
    }

    /// A reservation of `n` was saved: use it, and reserve twice as much next time.
    fn credit(&self, n: u64) {
        self.left.fetch_add(n, Ordering::AcqRel);
        let next = self.block().saturating_mul(2).min(RESERVE_MAX);
        self.next_block.store(next, Ordering::Relaxed);
    }

    /// Takes back what is reserved and not used: no encryption can use it after this.
    fn take_back(&self) -> u64 {
        self.left.swap(0, Ordering::AcqRel)
    }

    /// Encryptions this process made under the version.
    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// Reservations a keyring raised, credited once it is saved (and dropped with it otherwise).
/// Never copied: a clone of the keyring starts with none.
#[derive(Default)]
pub(crate) struct Credits(Vec<(Arc<Reservation>, u64)>);

impl Clone for Credits {
    fn clone(&self) -> Self {
        Credits::default()
    }
}

impl Credits {
    pub(crate) fn credit_all(&mut self) {
        for (reservation, n) in self.0.drain(..) {
            reservation.credit(n);
        }
    }
}

/// Whether this process still holds reserved encryptions for `version`.
pub(crate) fn has_reserved(version: &KeyVersion) -> bool {
    version.reservation.left.load(Ordering::Acquire) > 0
}

/// Raises `version`'s count by its next block (less near the limit), credited to this process
/// once the keyring is saved. Refused when the version has no encryptions left.
pub(crate) fn reserve_block(
    credits: &mut Credits,
    version: &mut KeyVersion,
    alias: &str,
) -> Result<()> {
    let room = REFUSE_AFTER_ENCRYPTIONS.saturating_sub(version.encryptions);
    if room == 0 {
        return err(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.key_alias_has_reached_the_safe", alias = alias),
        );
    }
    let block = version.reservation.block().min(room);
    version.encryptions += block;
    credits.0.push((version.reservation.clone(), block));
    Ok(())
}

/// One encryption counted in `version` of a keyring that is about to be saved: for seals made
/// inside a change (secrets), whose result exists only if the save succeeds.
pub(crate) fn count_in_change(version: &mut KeyVersion, alias: &str) -> Result<()> {
    if version.encryptions >= REFUSE_AFTER_ENCRYPTIONS {
        return err(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.key_alias_has_reached_the_safe", alias = alias),
        );
    }
    version.encryptions += 1;
    Ok(())
}

/// The error a seal returns when its version has nothing reserved; carries the KeyId.
pub(crate) fn reservation_needed(key_id: &Uuid) -> KmsError {
    KmsError::new(ErrorCode::ReservationNeeded, key_id.to_string())
}

thread_local! {
    /// Set while a request runs on an async worker, which must never wait for a save.
    static NO_WAITING: Cell<bool> = const { Cell::new(false) };
    /// Set by an encryption that left its reservation running low.
    static RAN_LOW: Cell<bool> = const { Cell::new(false) };
}

/// What a long-running face does when a reservation runs low: wake its maintenance now rather
/// than at the next tick (the API server's housekeeping).
pub type TopUpWaker = Box<dyn Fn() + Send + Sync>;

/// Runs `f` as a caller that must not wait (`Caller::may_wait` false: a server's async worker): an
/// encryption that finds its reservation used up fails with `ReservationNeeded` instead of saving
/// one; the caller runs it again where waiting is allowed.
pub(crate) fn without_waiting<T>(f: impl FnOnce() -> T) -> T {
    let before = NO_WAITING.with(|w| w.replace(true));
    let out = f();
    NO_WAITING.with(|w| w.set(before));
    out
}

impl Keyring {
    /// After re-reading the file: keep the reservations of the versions we already had.
    pub(crate) fn adopt_reservations(&mut self, previous: &Keyring) {
        for key in &mut self.keys {
            let Some(&old) = previous.by_id.get(&key.key_id) else {
                continue;
            };
            for (version, old_version) in key.versions.iter_mut().zip(&previous.keys[old].versions)
            {
                version.reservation = old_version.reservation.clone();
            }
        }
    }
}

impl Kms {
    /// Runs `op`; when it needs encryptions reserved for a key, reserves them (a save) and runs
    /// it again, unless this thread must not wait (see `without_waiting`).
    pub(crate) fn reserving<T>(&self, mut op: impl FnMut() -> Result<T>) -> Result<T> {
        let out = self.reserving_inner(&mut op);
        if RAN_LOW.with(|low| low.replace(false))
            && let Some(wake) = self.top_up_waker.load().as_ref()
        {
            wake();
        }
        out
    }

    fn reserving_inner<T>(&self, op: &mut impl FnMut() -> Result<T>) -> Result<T> {
        for _ in 0..8 {
            match op() {
                Err(e) if e.code == ErrorCode::ReservationNeeded => {
                    if NO_WAITING.with(Cell::get) {
                        return Err(e);
                    }
                    let key_id = Uuid::parse_str(&e.message).map_err(|_| {
                        KmsError::new(
                            ErrorCode::InternalError,
                            keyconsole_base::text!("errors.a_reservation_named_no_key"),
                        )
                    })?;
                    self.reserve_encryptions(&key_id)?;
                }
                other => return other,
            }
        }
        err(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.encryptions_could_not_be_reserved_other"),
        )
    }

    /// Has maintenance woken (`waker`) as soon as a reservation runs low, and makes every
    /// version's first block at least `first_block`: for `serve` and the console's API server.
    pub fn serve_encryptions(&self, first_block: u64, waker: TopUpWaker) {
        self.top_up_waker.store(Some(Arc::new(waker)));
        self.first_block.store(first_block, Ordering::Relaxed);
    }

    /// Reserves a first block for the newest version of every enabled key that has none, in one
    /// save: a server does this as it starts, so its first requests do not wait for one each.
    pub fn reserve_for_every_key(&self) -> Result<()> {
        let first_block = self.first_block.load(Ordering::Relaxed);
        self.transact_if_needed(|ring, _| {
            let credits = &mut ring.credits;
            let mut reserved = false;
            for key in ring.keys.iter_mut().filter(|k| k.state.may_encrypt()) {
                let alias = key.alias.clone();
                if let Some(version) = key.versions.last_mut()
                    && !has_reserved(version)
                {
                    version.reservation.start_at_least(first_block);
                    reserved |= reserve_block(credits, version, &alias).is_ok();
                }
            }
            Ok(reserved.then_some(()))
        })
        .map(drop)
    }

    /// Gives back what this process reserved and did not use, lowering the counts on disk by as
    /// much (one save, none when nothing is left): for a server that stops cleanly, whose last
    /// blocks (up to `RESERVE_MAX` a version) would otherwise be spent as a crash spends them.
    /// The count stays an upper bound: the disk's count includes this process's blocks, and what
    /// is given back can no longer be used. An encryption after this reserves anew.
    pub fn release_reservations(&self) -> Result<()> {
        self.transact_if_needed(|ring, _| {
            let mut released = false;
            for version in ring.keys.iter_mut().flat_map(|key| key.versions.iter_mut()) {
                let unused = version.reservation.take_back();
                if unused > 0 {
                    version.encryptions = version.encryptions.saturating_sub(unused);
                    released = true;
                }
            }
            Ok(released.then_some(()))
        })
        .map(drop)
    }

    /// Reserves the next block of encryptions for the newest version of `key_id` (one save),
    /// unless another thread of this process just did.
    pub fn reserve_encryptions(&self, key_id: &Uuid) -> Result<()> {
        let ring = self.ring();
        if let Some(&index) = ring.by_id.get(key_id)
            && ring.keys[index].versions.last().is_some_and(has_reserved)
        {
            return Ok(()); // another request's reservation was saved meanwhile
        }
        drop(ring);
        let first_block = self.first_block.load(Ordering::Relaxed);
        self.transact_if_needed(|ring, _| {
            let Some(&index) = ring.by_id.get(key_id) else {
                return err(
                    ErrorCode::CmkNotFound,
                    keyconsole_base::text!("errors.key_key_id_does_not_exist", key_id = key_id),
                );
            };
            let key = &mut ring.keys[index];
            let alias = key.alias.clone();
            let version = key.versions.last_mut().ok_or_else(|| {
                KmsError::new(
                    ErrorCode::InternalError,
                    keyconsole_base::text!("errors.a_key_without_versions"),
                )
            })?;
            if has_reserved(version) {
                return Ok(None); // reserved by another thread while this one waited its turn
            }
            version.reservation.start_at_least(first_block);
            reserve_block(&mut ring.credits, version, &alias).map(Some)
        })
        .map(drop)
    }
}
