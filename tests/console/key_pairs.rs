//! Key kinds in the console: the create dialog's key types and import choice, a key pair's public
//! key, Sign and Verify, Decrypt of what was encrypted to the public key, and an EXTERNAL key's
//! import walk-through, driven by role and label on a local keystore and on a team's server.

use crate::harness::Console;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use egui_kittest::kittest::Queryable;
use keyconsole::crypto::asymmetric::{
    MessageType, PublicEncryption, SignAlgorithm, encrypt_to_public_key, verify_with_public_key,
};
use keyconsole::kms::{CreateKey, KeyState};

/// Makes a key through the managed engine and lets the console pick it up.
fn key_made_elsewhere(console: &mut Console, request: CreateKey) -> String {
    let id = console.kms().create_key(request).unwrap().key_id;
    console.clock.advance(5);
    console.settle();
    id
}

fn open_key(console: &mut Console, alias: &str) {
    console.click(alias);
    assert!(console.shows("Online tools"), "the page of {alias} is open");
}

/// Scrolls the page to the widget labelled `label` (the tools are at the page's foot), then
/// clicks it as a pointer would.
fn click_in_view(console: &mut Console, label: &str) {
    console.harness.get_by_label(label).scroll_to_me();
    console.settle();
    console.click(label);
}

twice! {
    fn the_create_dialog_makes_each_kind_of_key(start) {
        let mut console = start(&["existing"]);
        for (kind, alias, usage, spec) in [
            ("Symmetric, SM4 (国密): encrypt and decrypt", "sm4-key", "ENCRYPT_DECRYPT", "SM4"),
            ("ECC P-256 key pair: sign and verify", "ecc-key", "ASYMMETRIC_SIGN_VERIFY_ECC", "EC_P256"),
            ("SM2 key pair (国密): decrypt", "sm2-key", "ASYMMETRIC_DECRYPT_SM2", "SM2"),
        ] {
            console.click("➕ Create key");
            console.choose("Key type", kind);
            console.type_into("Alias", alias);
            console.click("Create");
            let key = console.kms().describe_key(alias).unwrap();
            assert_eq!((key.key_usage.as_str(), key.key_spec.as_str()), (usage, spec));
        }
        // An EXTERNAL key: the rotation choice goes away and the key waits for its material.
        console.click("➕ Create key");
        console.click("Import my own key material (EXTERNAL; the key waits until you import it)");
        assert!(!console.shows("Rotate automatically every"));
        console.type_into("Alias", "byok");
        console.click("Create");
        let key = console.kms().describe_key("byok").unwrap();
        assert_eq!((key.key_state, key.origin.as_str()), (KeyState::PendingImport, "EXTERNAL"));
        // The list says what keys do in words, and filters by it.
        assert!(console.shows("Sign/verify") && console.shows("Asymmetric decryption"));
        console.choose("Usage", "Sign/verify");
        assert!(console.shows("1 of 5 keys"), "{:?}", console.texts());
    }
}

twice! {
    fn a_signing_key_signs_and_verifies_and_shows_its_public_key(start) {
        let mut console = start(&["plain"]);
        key_made_elsewhere(&mut console, CreateKey {
            alias: "signer".into(),
            key_usage: Some("ASYMMETRIC_SIGN_VERIFY_RSA_2048".into()),
            ..CreateKey::default()
        });
        open_key(&mut console, "signer");
        // The public key, as the engine gives it, copied as it is shown.
        let public = console.kms().public_key("signer").unwrap();
        assert!(console.field_holds("-----BEGIN PUBLIC KEY-----"));
        console.click("🗐 Copy public key");
        assert_eq!(console.clipboard.contents().as_deref(), Some(public.pem.as_str()));
        let target = console.dir.path().join("signer.pem");
        console.dialogs.answer_next(Some(target.clone()));
        console.click("⬇ Download .pem…");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), public.pem);

        console.click("Sign");
        console.choose("Algorithm", "RSA_PKCS1_SHA_256");
        console.type_into("Message", "pay 100 to alice");
        console.click("Sign the message");
        let signature = STANDARD.decode(console.value_of("Signature (base64)")).unwrap();
        assert!(verify_with_public_key(
            SignAlgorithm::RsaPkcs1Sha256,
            &public.der,
            MessageType::Raw,
            b"pay 100 to alice",
            &signature,
        ).unwrap(), "the console's signature verifies outside the console");
        click_in_view(&mut console, "Check it in Verify");
        click_in_view(&mut console, "Verify the signature");
        assert!(console.shows("✔ The signature is valid."));
        // Another message: not valid.
        console.replace_in("Message", "pay 900 to alice");
        click_in_view(&mut console, "Verify the signature");
        assert!(console.shows("✖ The signature is NOT valid for this message and key."));
    }
}

twice! {
    fn a_decryption_key_opens_what_was_encrypted_to_its_public_key(start) {
        let mut console = start(&["plain"]);
        key_made_elsewhere(&mut console, CreateKey {
            alias: "inbox".into(),
            key_usage: Some("ASYMMETRIC_DECRYPT_RSA_2048".into()),
            ..CreateKey::default()
        });
        let pem = console.kms().public_key("inbox").unwrap().pem;
        let ciphertext = encrypt_to_public_key(&pem, PublicEncryption::RsaesOaepSha256, b"for your eyes").unwrap();
        open_key(&mut console, "inbox");
        console.click("Decrypt");
        console.type_into("Ciphertext (base64)", &STANDARD.encode(&ciphertext));
        console.click("Decrypt the ciphertext");
        assert_eq!(console.value_of("Plaintext"), "for your eyes");
        // The wrong padding is an error with the cloud's code, and nothing is shown.
        console.choose("Algorithm", "RSAES_PKCS1_V1_5");
        console.click("Decrypt the ciphertext");
        assert!(console.shows("FailedOperation.DecryptError"), "{:?}", console.texts());
    }
}

twice! {
    fn an_external_key_walks_through_the_import(start) {
        let mut console = start(&["plain"]);
        key_made_elsewhere(&mut console, CreateKey {
            alias: "byok".into(),
            external: true,
            ..CreateKey::default()
        });
        open_key(&mut console, "byok");
        assert!(console.shows("Pending import"));
        console.click("Get wrapping key and token");
        let pem_path = console.dir.path().join("wrapping.pem");
        console.dialogs.answer_next(Some(pem_path.clone()));
        console.click("⬇ Download wrapping key (.pem)…");
        let pem = std::fs::read_to_string(&pem_path).unwrap();
        // The user wraps their material with the downloaded key, outside keyconsole.
        let material = [7u8; 32];
        let wrapped = encrypt_to_public_key(&pem, PublicEncryption::RsaesOaepSha256, &material).unwrap();
        let wrapped_path = console.dir.path().join("material.bin");
        std::fs::write(&wrapped_path, wrapped).unwrap();
        console.dialogs.answer_next(Some(wrapped_path));
        console.click("🗁 Choose wrapped material…");
        console.click("Import");
        assert_eq!(console.kms().describe_key("byok").unwrap().key_state, KeyState::Enabled);
        assert!(console.shows("Imported key material; it never expires."));
        // Deleting the material asks first.
        console.click("Delete key material…");
        assert!(console.shows("Delete the key material?"));
        console.click("Delete the material");
        assert_eq!(
            console.kms().describe_key("byok").unwrap().key_state,
            KeyState::PendingImport
        );
    }
}
