//! Readers never wait for a writer: while a change waits for the keystore's file lock (another
//! process holds it), Encrypt, Decrypt and the key list go on with the published keyring.

use std::time::Duration;

use keyconsole::kms::{CanonicalContext, KeyState, SharedKms};
use keyconsole::store::lock;
use keyconsole::testing::{TestKeystore, create};

#[test]
fn reads_go_on_while_a_change_waits_for_the_file_lock() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let kms = SharedKms::new(kms);
    // A process that has been encrypting holds reserved encryptions (see kms::usage); a first
    // encryption would have to save its reservation, which waits for the lock like any change.
    kms.encrypt("k", b"warm", &CanonicalContext::none())
        .unwrap();
    // Another process holds the keystore's lock.
    let held = lock::acquire(&ks.path, Duration::from_secs(1)).unwrap();
    let writer = {
        let kms = kms.clone();
        std::thread::spawn(move || kms.disable_key("k"))
    };
    // Give the change time to start waiting (ordering only; nothing is timed).
    std::thread::sleep(Duration::from_millis(200));
    let blob = kms
        .encrypt("k", b"secret", &CanonicalContext::none())
        .expect("encrypt runs while the change waits")
        .ciphertext_blob;
    kms.decrypt(&blob, &CanonicalContext::none()).unwrap();
    assert_eq!(kms.describe_key("k").unwrap().key_state, KeyState::Enabled);
    // Only now does the other process let go; had the reads waited for the change, the change
    // would have given up (KeystoreBusy after 10 s) before they ran.
    drop(held);
    writer
        .join()
        .unwrap()
        .expect("the change goes through once the lock is free");
    assert_eq!(kms.describe_key("k").unwrap().key_state, KeyState::Disabled);
    assert_eq!(
        ks.reopen().describe_key("k").unwrap().key_state,
        KeyState::Disabled
    );
}

#[test]
fn changes_from_two_threads_are_both_kept() {
    let (ks, kms) = TestKeystore::new();
    let kms = SharedKms::new(kms);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let kms = kms.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    create(&kms, &format!("t{t}-{i}"));
                    kms.encrypt(&format!("t{t}-{i}"), b"x", &CanonicalContext::none())
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let disk = ks.reopen();
    assert_eq!(disk.keys().len(), 40);
    for (key, mine) in disk.keys().iter().zip(kms.keys().iter()) {
        assert_eq!(mine.versions[0].encryptions_by_this_process(), 1);
        assert!(
            key.versions[0].encryptions >= 1,
            "every encryption was reserved on disk before it was made"
        );
    }
}

/// Eight threads encrypting under one key at once, through several reservations: the count on
/// disk covers every encryption, and no block was reserved twice for one need by much.
#[test]
fn concurrent_encryptions_are_all_counted_on_disk() {
    let (ks, kms) = TestKeystore::new();
    let kms = SharedKms::new(kms);
    create(&kms, "busy");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let kms = kms.clone();
            std::thread::spawn(move || {
                for _ in 0..500 {
                    kms.encrypt("busy", b"x", &CanonicalContext::none())
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let used = kms.keys()[0].versions[0].encryptions_by_this_process();
    assert_eq!(used, 4000);
    let on_disk = ks.reopen().keys()[0].versions[0].encryptions;
    assert!(on_disk >= used, "{on_disk} on disk for {used} made");
    assert!(
        on_disk <= 4 * used,
        "{on_disk} on disk for {used} made: blocks wasted"
    );
}

/// Every request sees every change another process finished before it came, even while a
/// change of this process waits for the keystore's lock (a busy writer): a key the other process
/// disabled and a SecretKey it rotated are refused on the very next request. Before, the reader
/// skipped catching up whenever this process's writer was busy and answered from the old keyring.
#[test]
fn readers_see_other_processes_changes_while_a_writer_is_busy() {
    use keyconsole::kms::ErrorCode;
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let old_credentials = kms.api_credentials().unwrap();
    let serve = SharedKms::new(kms);
    serve
        .encrypt("k", b"warm", &CanonicalContext::none())
        .unwrap();
    // Another process disables the key and rotates the API credentials; both return.
    let other = ks.reopen();
    other.disable_key("k").unwrap();
    let new_credentials = other.rotate_api_credentials().unwrap();
    // Then a third holds the keystore's lock, and a change of this process waits for it.
    let held = lock::acquire(&ks.path, Duration::from_secs(1)).unwrap();
    let writer = {
        let serve = serve.clone();
        std::thread::spawn(move || create(&serve, "made-meanwhile"))
    };
    std::thread::sleep(Duration::from_millis(200));
    // A request now catches up as the API server does, then runs.
    assert!(!serve.is_current());
    serve.refresh_for_reader().unwrap();
    assert!(serve.is_current());
    let e = serve
        .encrypt("k", b"after the disable", &CanonicalContext::none())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CmkDisabled, "{e}");
    assert_eq!(
        serve
            .api_secret_key(&old_credentials.secret_id)
            .unwrap_err()
            .code,
        ErrorCode::SecretIdNotFound
    );
    assert_eq!(
        *serve.api_secret_key(&new_credentials.secret_id).unwrap(),
        *new_credentials.secret_key
    );
    drop(held);
    writer.join().unwrap();
    // The busy change went through on top of the other process's, and nothing went back.
    assert_eq!(
        serve.describe_key("k").unwrap().key_state,
        KeyState::Disabled
    );
    assert_eq!(serve.keys().len(), 2);
    assert_eq!(ks.reopen().keys().len(), 2);
}
