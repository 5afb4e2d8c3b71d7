//! Screenshots of each main screen, rendered with wgpu (software Vulkan here) and compared with
//! tests/snapshots/*.png; the same PNGs are the README's screenshots.
//! `UPDATE_SNAPSHOTS=1 scripts/test.sh` rewrites them after an intended change.
//!
//! Everything shown is fixed: KeyIds, key material, times, the ciphertext's nonce, and a relative
//! keystore path, so the pictures are the same on every machine and every run.

use std::path::PathBuf;
use std::sync::Arc;

use crate::harness::{Console, PASSWORD};
use egui_kittest::kittest::Queryable;
use keyconsole::crypto::seal_in_place;
use keyconsole::kms::{
    Blob, CanonicalContext, KeyOrigin, KeyRecord, KeyState, KeyUsage, KeyVersion,
};
use keyconsole::store::Store;
use keyconsole::testing::{FAST_KDF, START, TestClock};
use keyconsole::ui::Theme;
use keyconsole::util::ZeroizingWriter;
use keyconsole::util::i18n::Language;
use zeroize::Zeroizing;

const DAY: i64 = 86_400;

fn record(
    id: &str,
    alias: &str,
    description: &str,
    state: KeyState,
    created: i64,
    material: u8,
) -> KeyRecord {
    KeyRecord {
        key_id: uuid::Uuid::parse_str(id).unwrap(),
        alias: alias.to_owned(),
        description: description.to_owned(),
        state,
        usage: KeyUsage::EncryptDecrypt,
        spec: Default::default(),
        origin: KeyOrigin::Generated,
        create_time: created,
        rotation_enabled: false,
        rotate_days: 365,
        last_rotate_time: 0,
        next_rotate_time: 0,
        deletion_date: 0,
        versions: vec![KeyVersion::new(&[material; 32], created)],
        tags: Vec::new(),
        owner: Default::default(),
        import: None,
    }
}

fn fixture_keys() -> Vec<KeyRecord> {
    let mut payment = record(
        "7c1f0e2d-5b3a-4e8f-9d6c-2a1b0c9d8e7f",
        "payment-api",
        "Card tokenization service",
        KeyState::Enabled,
        START - 20 * DAY,
        2,
    );
    payment.rotation_enabled = true;
    payment.rotate_days = 90;
    payment.next_rotate_time = START + 70 * DAY;
    let mut retired = record(
        "e4d3c2b1-a098-4765-8432-10fedcba9876",
        "retired-2025",
        "",
        KeyState::PendingDelete,
        START - 2 * DAY,
        5,
    );
    retired.deletion_date = START + 5 * DAY;
    let mut db_password = record(
        "3b5e8c9a-4f1d-4c2e-9a7b-1d2e3f4a5b6c",
        "db-password",
        "MySQL production password",
        KeyState::Enabled,
        START - 30 * DAY,
        1,
    );
    db_password.tags = vec![
        keyconsole::kms::Tag::new("env", "prod"),
        keyconsole::kms::Tag::new("项目", "支付"),
    ];
    vec![
        db_password,
        payment,
        record(
            "a1b2c3d4-e5f6-4789-8abc-def012345678",
            "legacy-config",
            "Config bundle of the old billing system",
            KeyState::Disabled,
            START - 10 * DAY,
            3,
        ),
        record(
            "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e",
            "old-backups",
            "Backups before 2025",
            KeyState::Archived,
            START - 5 * DAY,
            4,
        ),
        retired,
    ]
}

/// A keystore at a relative path (so the path on screen is the same everywhere) with the fixture keys.
fn fixture(name: &str) -> (PathBuf, Arc<TestClock>) {
    fixture_with(name, Vec::new())
}

/// An SM2 signing key with fixed material (its public key and signatures, deterministic in SM2's
/// RFC 6979 signing, are the same every run) and an EXTERNAL key waiting for its material.
fn key_kind_records() -> Vec<KeyRecord> {
    let mut signer = record(
        "5d2c1b0a-9e8f-4d7c-8b6a-5f4e3d2c1b0a",
        "invoice-signer",
        "Signs e-invoices (国密)",
        KeyState::Enabled,
        START - 3 * DAY,
        3,
    );
    signer.usage = KeyUsage::SignSm2;
    signer.spec = keyconsole::kms::KeySpec::Sm2;
    let mut external = record(
        "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        "hsm-imported",
        "Material from the bank's HSM",
        KeyState::PendingImport,
        START - DAY,
        0,
    );
    external.origin = KeyOrigin::External;
    external.versions.clear();
    external.import = Some(Default::default());
    vec![signer, external]
}

fn fixture_with(name: &str, extra: Vec<KeyRecord>) -> (PathBuf, Arc<TestClock>) {
    let dir = PathBuf::from("target/snapshot-fixtures").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keystore.kcks");
    let mut body = ZeroizingWriter::with_capacity(4096);
    let credentials = serde_json::json!({
        "secret_id": "AKIDkeyconsoleSnapshot00000000000000",
        "secret_key": "snapshotSecretKey000000000000000",
        "created": START - 3 * DAY,
    });
    let mut keys = fixture_keys();
    keys.extend(extra);
    // Huawei's and JD's pairs too, each in its cloud's shape.
    let cloud_credentials = serde_json::json!([
        {"cloud": "Huawei", "secret_id": "HWSNAPSHOT0000000000",
         "secret_key": "snapshotHuaweiSecretKey00000000000000000", "created": START - 2 * DAY},
        {"cloud": "Jd", "secret_id": "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
         "secret_key": "F9E8D7C6B5A4938271605F4E3D2C1B0A", "created": START - DAY},
    ]);
    // Two users of a team, one with a key rotated within its grace period.
    let users = serde_json::json!([
        {"name": "alice", "created": START - 2 * DAY, "disabled": false,
         "policy": keyconsole::kms::policy::Preset::CryptoUser.policy(&["3b5e8c9a-4f1d-4c2e-9a7b-1d2e3f4a5b6c".to_owned()]),
         "keys": [
            {"cloud": "Tencent", "secret_id": "AKIDaliceSnapshotOld00000000000000000", "secret_key": "aliceOldSecretKey000000000000000",
             "created": START - 2 * DAY, "expires": START + DAY},
            {"cloud": "Tencent", "secret_id": "AKIDaliceSnapshotNew00000000000000000", "secret_key": "aliceNewSecretKey000000000000000",
             "created": START - DAY, "expires": 0}]},
        {"name": "bob", "created": START - DAY, "disabled": true,
         "policy": keyconsole::kms::policy::Preset::ReadOnly.policy(&[]),
         "keys": [
            {"cloud": "Tencent", "secret_id": "AKIDbobSnapshot0000000000000000000000", "secret_key": "bobSecretKey00000000000000000000",
             "created": START - DAY, "expires": 0}]},
    ]);
    let body_json = serde_json::json!({
        "keys": keys,
        "api_credentials": credentials,
        "cloud_credentials": cloud_credentials,
        "users": users,
    });
    serde_json::to_writer(&mut body, &body_json).unwrap();
    Store::create(
        &path,
        PASSWORD.as_bytes(),
        FAST_KDF,
        body.into_inner().into(),
    )
    .unwrap();
    (path, TestClock::new(START))
}

/// The db-password key's ciphertext of a secret, with a fixed nonce (the engine always draws a random one).
fn fixed_blob(plaintext: &[u8]) -> String {
    let key_id = uuid::Uuid::parse_str("3b5e8c9a-4f1d-4c2e-9a7b-1d2e3f4a5b6c").unwrap();
    let nonce = [7u8; 12];
    let mut sealed = plaintext.to_vec();
    seal_in_place(
        &[1; 32],
        &nonce,
        &Blob::aad(&key_id, 1, &CanonicalContext::none()),
        &mut sealed,
    )
    .unwrap();
    Blob {
        key_id,
        version: 1,
        nonce,
        sealed,
    }
    .encode()
}

fn console(name: &str) -> Console {
    let (path, clock) = fixture(name);
    Console::start_at(tempfile::tempdir().unwrap(), path, clock)
}

fn unlock(console: &mut Console) {
    console.type_into("Password", PASSWORD);
    console.click("Unlock");
    console.wait_until("the unlock", |c| !c.app().is_locked());
}

/// Switches the console to Simplified Chinese in Settings (it does so at once).
fn in_chinese(console: &mut Console) {
    console.click("⚙ Settings");
    console.click("简体中文");
    console.harness.key_press(egui::Key::Escape);
    console.settle();
}

/// Lets toasts expire, moves the pointer away, and takes the picture as the console is now.
fn snapshot_one(console: &mut Console, name: &str) {
    console.clock.advance(16);
    console.harness.remove_cursor();
    console.settle();
    console.harness.snapshot(name);
}

/// The page in both languages and both themes: `name` (English, dark), `name_light`, `name_zh`
/// and `name_zh_light`.
fn snapshot(console: &mut Console, name: &str) {
    for (language, in_language) in [
        (Language::English, String::new()),
        (Language::SimplifiedChinese, "_zh".to_owned()),
    ] {
        console.harness.state_mut().set_language(Some(language));
        for (theme, in_theme) in [(Theme::Dark, ""), (Theme::Light, "_light")] {
            console.harness.state_mut().set_theme(theme);
            snapshot_one(console, &format!("{name}{in_language}{in_theme}"));
        }
    }
    console
        .harness
        .state_mut()
        .set_language(Some(Language::English));
    console.harness.state_mut().set_theme(Theme::Dark);
    console.settle();
}

#[test]
fn unlock_screen() {
    let mut console = console("unlock");
    console.settle();
    snapshot(&mut console, "unlock");
}

/// The unlock screen's *Connect to a server* form, filled in as a teammate would.
#[test]
fn connect_to_a_server() {
    let mut console = console("connect");
    console.settle();
    console.click("Connect to a server");
    console.type_into("Endpoint", "https://kms.team.lan:8443");
    console.type_into("SecretId", "AKIDkeyconsoleSnapshotId000000000");
    console.type_into("CA certificate", "team-ca.pem");
    snapshot(&mut console, "connect");
}

#[test]
fn key_list() {
    let mut console = console("key_list");
    unlock(&mut console);
    snapshot(&mut console, "key_list");
}

#[test]
fn key_list_light_theme_with_a_selection() {
    let mut console = console("key_list_light");
    unlock(&mut console);
    console.click("⚙ Settings");
    console.click("Light");
    console.harness.key_press(egui::Key::Escape);
    console.click("Select db-password");
    console.click("Select payment-api");
    snapshot_one(&mut console, "key_list_selection_light");
}

#[test]
fn key_detail_with_ciphertext() {
    let mut console = console("key_detail");
    unlock(&mut console);
    console.click("db-password");
    console.click("Decrypt");
    console.type_into("Ciphertext to decrypt", &fixed_blob(b"S3cr3t!pass"));
    console.click("Execute");
    assert_eq!(console.value_of("Plaintext"), "S3cr3t!pass");
    console.harness.get_by_label("Online tools").click(); // away from the text field: no cursor
    snapshot(&mut console, "key_detail");
}

#[test]
fn create_dialog_with_a_validation_error() {
    let mut console = console("create_dialog");
    unlock(&mut console);
    console.click("➕ Create key");
    console.type_into("Alias", "kms-orders");
    console.type_into("Description (optional)", "Order service secrets");
    console.click("Rotate automatically every");
    snapshot(&mut console, "create_dialog");
}

#[test]
fn create_dialog_in_chinese() {
    let mut console = console("create_dialog_zh");
    unlock(&mut console);
    in_chinese(&mut console);
    console.click("➕ 创建密钥");
    console.type_into("别名", "kms-orders");
    console.type_into("描述（可选）", "订单服务的密钥");
    console.click("自动轮换周期");
    snapshot_one(&mut console, "create_dialog_typed_in_chinese");
}

#[test]
fn first_run() {
    let dir = PathBuf::from("target/snapshot-fixtures/first_run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clock = TestClock::new(START);
    let mut console = Console::start_at(
        tempfile::tempdir().unwrap(),
        dir.join("keystore.kcks"),
        clock,
    );
    console.type_into("Password", "hunter2");
    snapshot(&mut console, "first_run");
}

#[test]
fn file_tools() {
    let mut console = console("file_tools");
    unlock(&mut console);
    console.click("db-password");
    console.click("Encrypt a file…");
    console.type_into("File", "backups/orders-2026-11.sql");
    console
        .harness
        .get_by_label_contains("Envelope encryption for files")
        .click(); // away from the field: it applies, no cursor
    console.settle();
    snapshot(&mut console, "file_tools");
}

/// The Audit page over a trail of the fixture's keystore: the owner at the CLI, alice over the
/// Tencent API (a decryption allowed, a change refused), a key disabled and a failed decryption.
#[test]
fn audit_trail() {
    use keyconsole::kms::service::{Caller, Face, KeyChange, KmsService};
    let (path, clock) = fixture("audit");
    {
        let kms = keyconsole::kms::Kms::open_with_clock(&path, PASSWORD.as_bytes(), clock.clone())
            .unwrap();
        let cli = Caller::local(Face::Cli, Language::English);
        let none = CanonicalContext::none();
        let blob = KmsService::encrypt(&kms, &cli, "db-password", b"x", &none)
            .unwrap()
            .ciphertext_blob;
        clock.advance(60);
        let alice = Caller::api(
            "AKIDaliceSnapshotNew00000000000000000",
            Language::English,
            "snapshot-1",
            true,
        )
        .from_address("10.0.0.7".parse().ok())
        .in_dialect("tencent");
        assert!(KmsService::decrypt(&kms, &alice, &blob, &none).is_ok());
        clock.advance(60);
        let refused =
            KmsService::change_keys(&kms, &alice, &["db-password".into()], KeyChange::Disable);
        assert!(refused.is_err());
        clock.advance(60);
        KmsService::change_keys(&kms, &cli, &["payment-api".into()], KeyChange::Disable).unwrap();
        clock.advance(60);
        let _ = KmsService::decrypt(&kms, &cli, "bm90IGEgY2lwaGVydGV4dA==", &none);
        clock.advance(60);
    }
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("Audit");
    console.wait_until("the trail read", |c| c.shows("Decrypt"));
    console.settle();
    snapshot(&mut console, "audit");
}

#[test]
fn api_access() {
    let mut console = console("api_access");
    unlock(&mut console);
    console.click("API access");
    console.harness.get_by_label("Client snippets").click();
    console.settle();
    snapshot(&mut console, "api_access");
}

/// The API access page's Users section: two users, one with a key in its grace period, one
/// disabled.
#[test]
fn api_access_users() {
    let mut console = console("api_access_users");
    unlock(&mut console);
    console.click("API access");
    console.harness.get_by_label("Create user").scroll_to_me();
    console.settle();
    snapshot(&mut console, "api_access_users");
}

/// The API access page on one cloud's tab (`tab`, its label), its client snippets open.
fn api_access_tab(tab: &str, name: &str) {
    let mut console = console(name);
    unlock(&mut console);
    console.click("API access");
    console.click(tab);
    console.harness.get_by_label("Client snippets").click();
    console.settle();
    snapshot(&mut console, name);
}

/// Huawei Cloud's tab: its AK/SK and the Python snippet.
#[test]
fn api_access_huawei() {
    api_access_tab("Huawei Cloud", "api_access_huawei");
}

/// JD Cloud's tab: its AccessKey/SecretKey and the Python snippet with its quiet logger.
#[test]
fn api_access_jd() {
    api_access_tab("JD Cloud", "api_access_jd");
}

#[test]
fn secrets_with_one_chosen() {
    let (path, clock) = fixture("secrets");
    {
        let kms = keyconsole::kms::Kms::open_with_clock(&path, PASSWORD.as_bytes(), clock.clone())
            .unwrap();
        let secrets = [
            ("orders-db", "MySQL orders database, app user", -6),
            (
                "payment-gateway-token",
                "API token of the payment gateway",
                -2,
            ),
        ];
        for (name, description, days) in secrets {
            clock.advance(days * DAY);
            kms.create_secret(keyconsole::kms::CreateSecret {
                name: name.to_owned(),
                version_id: None,
                description: description.to_owned(),
                key: Some("db-password".to_owned()),
                value: keyconsole::kms::SecretValue::Text(Zeroizing::new("not shown".to_owned())),
                tags: vec![keyconsole::kms::Tag::new("team", "orders")],
            })
            .unwrap();
            clock.advance(-days * DAY);
        }
        clock.advance(-DAY);
        kms.put_secret_value(
            "orders-db",
            "v2",
            keyconsole::kms::SecretValue::Text(Zeroizing::new("not shown".to_owned())),
        )
        .unwrap();
        clock.advance(DAY);
    }
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("Secrets");
    console.click("orders-db");
    snapshot(&mut console, "secrets");
}

/// A signing key pair's page, its Sign tab with a message signed.
#[test]
fn a_signing_key_pair() {
    let (path, clock) = fixture_with("key_pair_sign", key_kind_records());
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("invoice-signer");
    console.click("Sign");
    console.type_into("Message", "e-invoice 2027-0001, ¥1,024.00");
    console.click("Sign the message");
    assert!(!console.value_of("Signature (base64)").is_empty());
    console.harness.get_by_label("Online tools").click(); // away from the text field: no cursor
    snapshot(&mut console, "key_pair_sign");
}

/// An EXTERNAL key's page during its import: the wrapping key and token handed out.
#[test]
fn an_external_key_during_its_import() {
    let (path, clock) = fixture_with("key_import", key_kind_records());
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("hsm-imported");
    console.click("Get wrapping key and token");
    assert!(console.shows("Token valid until"));
    snapshot(&mut console, "key_import");
}

/// An SSH key-pair secret's page: its pair's id, name and public key (a fixed seed, so the
/// picture is the same every run).
#[test]
fn an_ssh_key_pair_secret() {
    let (path, clock) = fixture("secret_ssh");
    {
        let kms = keyconsole::kms::Kms::open_with_clock(&path, PASSWORD.as_bytes(), clock.clone())
            .unwrap();
        kms.create_ssh_key_pair_secret_seeded(
            keyconsole::kms::CreateSshKeyPairSecret {
                name: "deploy-key".to_owned(),
                description: "Deploys the orders service".to_owned(),
                key: Some("db-password".to_owned()),
                key_name: Some("deploy_orders".to_owned()),
                project_id: 0,
                tags: vec![keyconsole::kms::Tag::new("env", "prod")],
            },
            [42; 32],
        )
        .unwrap();
    }
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("Secrets");
    console.click("deploy-key");
    snapshot(&mut console, "secret_ssh");
}

/// A database secret's page: its connection and rotation schedule. Made without a database, so
/// the picture never changes with a test server's port.
#[test]
fn a_database_secret_with_its_connection_and_schedule() {
    use keyconsole::kms::secrets::CreateDatabaseSecret;
    use keyconsole::util::database::{DbEndpoint, DbEngine};
    let (path, clock) = fixture("secret_database");
    {
        let kms = keyconsole::kms::Kms::open_with_clock(&path, PASSWORD.as_bytes(), clock.clone())
            .unwrap();
        kms.create_database_secret_unchecked(
            CreateDatabaseSecret {
                name: "orders-mysql".to_owned(),
                description: "Orders database, app user".to_owned(),
                key: Some("db-password".to_owned()),
                endpoint: DbEndpoint {
                    engine: DbEngine::MySql,
                    host: "db.internal".to_owned(),
                    port: 3306,
                    user: "orders".to_owned(),
                },
                password: Zeroizing::new("not shown".to_owned()),
                rotate_days: Some(30),
            },
            Vec::new(),
        )
        .unwrap();
    }
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("Secrets");
    console.click("orders-mysql");
    snapshot(&mut console, "secret_database");
}

/// The create form for database credentials, filled in up to the password.
#[test]
fn the_create_form_for_database_credentials() {
    let (path, clock) = fixture("secret_create_database");
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("Secrets");
    console.click("➕ Create secret");
    console.type_into("Name", "orders-db");
    console.click("Database credentials");
    console.replace_in("Host", "db.internal");
    console.type_into("User", "orders");
    console.type_into("Description", "Orders database, app user");
    snapshot(&mut console, "secret_create_database");
}

/// The form for an account keyconsole makes through a registered instance (registered here
/// through the in-memory databases: the form itself talks to no database).
#[test]
fn the_create_form_for_a_database_account() {
    use keyconsole::util::database::{DbEndpoint, DbEngine};
    let (path, clock) = fixture("secret_create_product");
    {
        let kms = keyconsole::kms::Kms::open_with_clock(&path, PASSWORD.as_bytes(), clock.clone())
            .unwrap();
        let databases = keyconsole::testing::database::FakeDatabases::default();
        let admin = DbEndpoint {
            engine: DbEngine::MySql,
            host: "db.internal".to_owned(),
            port: 3306,
            user: "dba".to_owned(),
        };
        databases.create_user(&admin, "admin password");
        kms.set_database_driver(std::sync::Arc::new(databases));
        kms.add_db_instance("orders-mysql", admin, "admin password")
            .unwrap();
    }
    let mut console = Console::start_at(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    console.click("Secrets");
    console.click("➕ Create secret");
    console.type_into("Name", "reports-db");
    console.click("Database account made here");
    console
        .harness
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, "Instance")
        .click();
    console.settle();
    console.click("orders-mysql (mysql://dba@db.internal:3306)");
    console.type_into("Account name prefix", "reports");
    console.type_into("Database name", "shop");
    console.replace_in("Privilege names", "SELECT, INSERT");
    snapshot(&mut console, "secret_create_product");
}

/// keyconsole's own file dialog (a desktop without a portal or zenity), opening a ciphertext file
/// for Decrypt, with the fixture's folder as the recent place.
#[test]
fn the_in_app_file_dialog() {
    let (path, clock) = fixture("in_app_dialog");
    let folder = path.parent().unwrap().to_path_buf();
    let mut console =
        Console::start_without_accessibility_check(tempfile::tempdir().unwrap(), path, clock);
    unlock(&mut console);
    let file = folder.join("orders.kc");
    std::fs::write(&file, fixed_blob(b"S3cr3t!pass")).unwrap();
    console.click("db-password");
    console.click("Decrypt");
    // The desktop's dialog once (its folder becomes a recent place), then none.
    console.dialogs.answer_next(Some(file));
    console.click("🗁 Open file…");
    console
        .dialogs
        .unavailable_next("no desktop portal with a file chooser and no zenity");
    console.click("🗁 Open file…");
    console.click("🗋 orders.kc");
    // Its words are set when it opens: each language's pictures open it in that language.
    for theme in [Theme::Dark, Theme::Light] {
        console.harness.state_mut().set_theme(theme);
        let suffix = if theme == Theme::Light { "_light" } else { "" };
        snapshot_one(&mut console, &format!("in_app_dialog{suffix}"));
    }
    console.harness.key_press(egui::Key::Escape);
    console.settle();
    console
        .harness
        .state_mut()
        .set_language(Some(Language::SimplifiedChinese));
    console.settle();
    console.click("🗁 打开文件…");
    console.click("🗋 orders.kc");
    for theme in [Theme::Dark, Theme::Light] {
        console.harness.state_mut().set_theme(theme);
        let suffix = if theme == Theme::Light { "_light" } else { "" };
        snapshot_one(&mut console, &format!("in_app_dialog_zh{suffix}"));
    }
}

/// The smallest window the console is made for, 900×700: the key list keeps every row's
/// operations in sight, and the key's page stacks its online tools.
#[test]
fn the_key_list_and_a_key_at_900_by_700() {
    let mut console = console("narrow");
    console.harness.set_size(egui::vec2(900.0, 700.0));
    unlock(&mut console);
    snapshot(&mut console, "narrow_key_list");
    console.click("db-password");
    snapshot(&mut console, "narrow_key_detail");
}
