//! Keystores, ciphertexts and files made before the code was reshaped into layers (by the binary
//! of commit 14f5ec7, with `tests/fixtures/compat/make.sh`) still open, decrypt and keep their
//! states and credentials.

use std::path::Path;

use keyconsole::kms::{CanonicalContext, KeyState, Kms};

use keyconsole::testing::compat::{PASSWORD, PLAINTEXT, file_plaintext};

fn open_copy() -> (tempfile::TempDir, Kms) {
    keyconsole::testing::compat::open_copy(std::sync::Arc::new(keyconsole::kms::SystemClock))
}

#[test]
fn a_keystore_from_before_opens_with_its_keys_states_and_credentials() {
    let (_dir, kms) = open_copy();
    let state = |alias: &str| kms.describe_key(alias).unwrap().key_state;
    assert_eq!(state("compat-key"), KeyState::Enabled);
    assert_eq!(state("compat-disabled"), KeyState::Disabled);
    assert_eq!(state("compat-archived"), KeyState::Archived);
    assert_eq!(kms.describe_key("compat-key").unwrap().version_count, 2);
    assert_eq!(
        kms.describe_key("compat-key").unwrap().description,
        "made before the layers"
    );
    let credentials = kms.existing_api_credentials().expect("credentials kept");
    assert!(credentials.secret_id.starts_with("AKID"));
}

#[test]
fn ciphertexts_from_before_decrypt_under_both_versions() {
    let (_dir, kms) = open_copy();
    let context = CanonicalContext::parse(Some(r#"{"app":"compat"}"#)).unwrap();
    for name in ["blob-v1.kc", "blob-v2.kc", "blob-archived.kc"] {
        let blob = std::fs::read_to_string(Path::new("tests/fixtures/compat").join(name)).unwrap();
        let decrypted = kms.decrypt(&blob, &context).unwrap();
        assert_eq!(&decrypted.plaintext[..], PLAINTEXT, "{name}");
    }
}

#[test]
fn a_file_from_before_decrypts() {
    let (dir, kms) = open_copy();
    let output = dir.path().join("secret.txt");
    kms.file_decryptor(Path::new("tests/fixtures/compat/secret.txt.kc"))
        .unwrap()
        .decrypt(&output, false, &mut |_, _| true)
        .unwrap();
    assert_eq!(std::fs::read(&output).unwrap(), file_plaintext());
}

#[test]
fn a_keystore_from_before_is_saved_with_the_schema_version_and_opens_again() {
    let (dir, kms) = open_copy();
    kms.create_key(keyconsole::kms::CreateKey {
        alias: "after".into(),
        ..Default::default()
    })
    .unwrap();
    drop(kms);
    let again = Kms::open(&dir.path().join("keystore.kcks"), PASSWORD).unwrap();
    assert_eq!(again.keys().len(), 4);
}
