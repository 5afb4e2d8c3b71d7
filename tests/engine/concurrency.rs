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
    kms.flush_usage().unwrap();
    let disk = ks.reopen();
    assert_eq!(disk.keys().len(), 40);
    let counted: u64 = disk.keys().iter().map(|k| k.versions[0].encryptions).sum();
    assert_eq!(counted, 40, "no encryption count was lost between keyrings");
}
