//! The Secrets page through egui_kittest, by role and label: create, show and copy a value (the
//! clipboard is cleared later), add a version, disable, delete with a recovery window, restore.

use egui_kittest::kittest::Queryable;
use keyconsole::kms::{SecretState, SecretValue};

use crate::harness::Console;

twice! {
    fn a_secret_is_created_shown_copied_versioned_disabled_deleted_and_restored(start) {
        let mut console = start(&["app"]);
        console.click("Secrets");
        console.click("➕ Create secret");
        console.type_into("Name", "orders-db");
        console.type_into("Value", "S3cr3t!pass");
        console.type_into("Description", "MySQL orders");
        console.click("Create");
        assert!(console.shows("Created secret orders-db"));
        assert_eq!(
            console
                .kms()
                .get_secret_value("orders-db", "SSM_v1")
                .unwrap(),
            SecretValue::Text("S3cr3t!pass".to_owned().into())
        );
        // The new secret is chosen; its value stays hidden until asked for.
        assert!(!console.shows("S3cr3t!pass"));
        console.click("Show");
        assert_eq!(console.value_of("Value of SSM_v1"), "S3cr3t!pass");
        console.click("🗐 Copy value");
        assert_eq!(console.clipboard.contents().as_deref(), Some("S3cr3t!pass"));
        console.click("Hide");
        assert!(!console.shows("S3cr3t!pass"));

        console.type_into("New version", "v2");
        console.type_into("New value", "rotated-pass");
        console.click("Add version");
        assert!(console.shows("Added version v2 to orders-db"));
        assert_eq!(console.kms().secret_versions("orders-db").unwrap().len(), 2);

        console.click("✏ Edit description");
        console.replace_in("Description", "MySQL orders, app user");
        console.click("Save");
        assert!(console.shows("Saved the description of orders-db."));
        assert_eq!(
            console
                .kms()
                .describe_secret("orders-db")
                .unwrap()
                .description,
            "MySQL orders, app user"
        );
        // Two versions, two Delete buttons: the first deletes SSM_v1, once confirmed.
        let delete_first = |console: &mut Console| {
            console
                .harness
                .get_all_by_label("Delete")
                .next()
                .expect("a Delete button")
                .click();
            console.settle();
        };
        delete_first(&mut console);
        assert!(console.shows("Delete version SSM_v1 of orders-db?"));
        console.click("Cancel");
        assert_eq!(console.kms().secret_versions("orders-db").unwrap().len(), 2);
        delete_first(&mut console);
        console.click("Delete version");
        assert!(console.shows("Deleted version SSM_v1 of orders-db."));
        let versions = console.kms().secret_versions("orders-db").unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].0, "v2");
        assert!(
            console.harness.query_by_label("Delete").is_none(),
            "the last version has no Delete"
        );

        console.click("Disable");
        assert_eq!(
            console.kms().describe_secret("orders-db").unwrap().state,
            SecretState::Disabled
        );
        // Deleting needs the typed name.
        console.type_into("Type the name to confirm", "orders-db");
        console.click("🗑 Delete secret");
        assert!(console.shows("can be restored until then"));
        assert_eq!(
            console.kms().describe_secret("orders-db").unwrap().state,
            SecretState::PendingDelete
        );
        console.click("Restore");
        assert_eq!(
            console.kms().describe_secret("orders-db").unwrap().state,
            SecretState::Disabled
        );
    }
}

twice! {
    fn the_create_form_says_what_is_wrong_with_a_name(start) {
        let mut console = start(&["app"]);
        console.click("Secrets");
        console.click("➕ Create secret");
        console.type_into("Name", "bad name");
        assert!(console.shows("contains ' '"));
        console.replace_in("Name", "taken");
        console
            .kms()
            .create_secret(keyconsole::kms::CreateSecret {
                name: "taken".into(),
                version_id: None,
                description: String::new(),
                key: None,
                value: SecretValue::Text("x".to_owned().into()),
                tags: Vec::new(),
            })
            .unwrap();
        // Seen at the next refresh (a server's console asks every five seconds).
        console.clock.advance(5);
        console.settle();
        assert!(console.shows("A secret named taken already exists."));
    }
}

twice! {
    /// A binary value typed as base64, and one read from a file chosen in the (fake) dialog.
    fn binary_values_from_base64_and_from_a_file(start) {
        let mut console = start(&["app"]);
        console.click("Secrets");
        console.click("➕ Create secret");
        console.type_into("Name", "tls-key");
        console.click("Binary (base64)");
        console.type_into("Value", "not base64!");
        console.click("Create");
        assert!(console.shows("InvalidParameterValue"));
        console.replace_in("Value", "AAEC/w==");
        console.click("Create");
        assert!(console.shows("Created secret tls-key"));
        assert_eq!(
            console.kms().get_secret_value("tls-key", "SSM_v1").unwrap(),
            SecretValue::Binary(vec![0, 1, 2, 255].into())
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cert.der");
        std::fs::write(&file, [0x30u8, 0x82, 0xff, 0x00]).unwrap();
        console.click("➕ Create secret");
        console.type_into("Name", "cert");
        console.dialogs.answer_next(Some(file));
        console.click("🗁 From file…");
        assert!(console.shows("Read 4 bytes"));
        console.click("Create");
        assert_eq!(
            console.kms().get_secret_value("cert", "SSM_v1").unwrap(),
            SecretValue::Binary(vec![0x30, 0x82, 0xff, 0x00].into())
        );
    }
}

/// Database credentials against a private MariaDB: *Test connection* (a wrong password gets the
/// server's words), create, *Rotate now* (the new password logs in, the old does not), the
/// history, and the schedule.
#[test]
fn a_database_secret_is_tested_created_rotated_and_scheduled() {
    use keyconsole::testing::database::PrivateDatabase;
    use keyconsole::util::database::DbEngine;

    let database = PrivateDatabase::start(DbEngine::MySql).expect("a private MariaDB");
    database.create_user("orders", "first password 1").unwrap();
    let endpoint = database.endpoint("orders");
    let mut console = Console::unlocked(&["app"]);
    console.click("Secrets");
    console.click("➕ Create secret");
    console.type_into("Name", "orders-db");
    console.click("Database credentials");
    console.replace_in("Port", &database.port.to_string());
    console.type_into("User", "orders");
    console.type_into("Password", "wrong password");
    console.click("🔌 Test connection");
    console.wait_until("the failed test", |c| {
        c.shows("wrong user name or password")
    });
    console.replace_in("Password", "first password 1");
    console.click("🔌 Test connection");
    console.wait_until("the test", |c| {
        c.shows(&format!("Logged in to {endpoint}."))
    });
    console.click("Create");
    console.wait_until("the secret", |c| {
        c.shows("Created database secret orders-db")
    });
    assert!(console.shows(&endpoint.to_string()));
    let password = |console: &Console| -> String {
        let SecretValue::Text(json) = console
            .kms()
            .get_secret_value("orders-db", "SSM_Current")
            .unwrap()
        else {
            panic!("text")
        };
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        json["Password"].as_str().unwrap().to_owned()
    };
    assert_eq!(password(&console), "first password 1");

    // The current password, shown before the rotation, goes when the rotation makes another
    // version current: it is never shown under a version it does not belong to.
    console.click("Show");
    assert!(
        console
            .value_of("Value of SSM_v1")
            .contains("first password 1")
    );
    console.click("🔄 Rotate now");
    assert!(console.shows("Rotate the password of orders-db now?"));
    assert!(console.shows("Applications using this password must fetch it again"));
    console.click("Rotate now");
    console.wait_until("the rotation", |c| c.shows("Rotated secret orders-db"));
    assert!(
        console.harness.query_by_label("Value of SSM_v1").is_none(),
        "the old password is hidden once SSM_v2 is current"
    );
    assert!(!console.field_holds("first password 1"));
    let new = password(&console);
    assert!(endpoint.check_login(&new).is_ok());
    assert!(endpoint.check_login("first password 1").is_err());
    assert!(console.shows("✔ rotated"));
    assert!(console.shows("SSM_v2 (current)") && console.shows("SSM_v1 (previous)"));

    console.click("Rotate automatically every");
    console.click("Save schedule");
    assert!(console.shows("rotates every 30 days"));
    let meta = console.kms().describe_secret("orders-db").unwrap();
    assert!(meta.database.unwrap().rotation_enabled);
}

twice! {
    /// The secrets manager's default key is listed apart, as the cloud consoles list their
    /// services' keys, and disabling, archiving or deleting any key that protects secrets first
    /// says which secrets stop working.
    fn keys_that_protect_secrets_are_shown_apart_and_warn_before_a_change(start) {
        let mut console = start(&["app"]);
        console.click("Secrets");
        console.click("➕ Create secret");
        console.type_into("Name", "orders-db");
        console.type_into("Value", "S3cr3t!pass");
        console.click("Create");
        assert!(console.shows("Created secret orders-db"));

        console.click("Keys");
        assert!(console.shows("Customer keys (1)") && console.shows("Service keys (1)"));
        assert!(
            console.harness.query_by_label("ssm-default").is_none(),
            "the customer keys do not list it"
        );
        console.click("Service keys (1)");
        assert!(console.harness.query_by_label("app").is_none());
        console.click("ssm-default");
        assert!(console.shows("Default key of the secrets manager: it protects 1 secret(s)."));

        console.click("Disable");
        assert!(console.shows("Disable ssm-default?"));
        assert!(console.shows("It protects 1 secret(s), which cannot be read or changed meanwhile: orders-db"));
        assert!(console.shows("This is the secrets manager's default key"));
        console.click("Cancel");
        assert_eq!(
            console.kms().describe_key("ssm-default").unwrap().key_state,
            keyconsole::kms::KeyState::Enabled,
            "nothing happens without a yes"
        );
        console.click("Archive");
        assert!(console.shows("Archive ssm-default?"));
        assert!(console.shows("orders-db"));
        console.click("Cancel");
        console.click("Schedule deletion…");
        assert!(console.shows("It protects 1 secret(s)"));
        console.click("Cancel");
        assert_eq!(
            console.kms().describe_key("ssm-default").unwrap().key_state,
            keyconsole::kms::KeyState::Enabled
        );
    }
}

/// The create form by keyboard: it opens with the focus in the name, Enter there submits it,
/// Escape closes it.
#[test]
fn the_create_form_submits_on_enter_and_closes_on_escape() {
    let mut console = Console::unlocked(&["app"]);
    console.click("Secrets");
    console.click("➕ Create secret");
    assert!(
        console.field("Name").is_focused(),
        "the first field has the focus"
    );
    console.harness.key_press(egui::Key::Escape);
    console.settle();
    assert!(
        console.harness.query_by_label("Name").is_none(),
        "Escape closed it"
    );
    console.click("➕ Create secret");
    console.type_into("Value", "token 42");
    console.type_into("Name", "api-token");
    console.harness.key_press(egui::Key::Enter);
    console.settle();
    assert!(console.shows("Created secret api-token"));
}

twice! {
    /// An SSH key pair made from the form: its public key copied, its private key downloaded only
    /// after the warning (and then the very key the public half belongs to), no new version offered.
    fn an_ssh_key_pair_is_made_its_public_key_copied_and_private_key_downloaded(start) {
        let mut console = start(&["app"]);
        console.click("Secrets");
        console.click("➕ Create secret");
        console.type_into("Name", "deploy");
        console.click("SSH key pair");
        console.type_into("Key pair name", "deploy_1");
        console.click("Create");
        assert!(console.shows("with the SSH key pair skey-"));
        assert!(console.shows("deploy_1"));
        assert!(!console.shows("Add version"), "a key pair's private key is not replaced");
        if console.harness.query_by_label("Show public key").is_some() {
            // On a server the public key is fetched when asked for.
            console.click("Show public key");
        }
        console.click("🗐 Copy public key");
        let public = console.clipboard.contents().unwrap();
        assert!(public.starts_with("ssh-ed25519 AAAA"), "{public}");

        console.click("⬇ Download private key…");
        assert!(console.shows("Download the private key of deploy?"));
        assert!(console.dialogs.requests().is_empty(), "no dialog before the warning");
        let target = console.dir.path().join("id_deploy_1");
        console.dialogs.answer_next(Some(target.clone()));
        console.click("Choose where to save…");
        console.wait_until("the private key to be written", |_| target.exists());
        let private = std::fs::read_to_string(&target).unwrap();
        assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let parsed = ssh_key::PrivateKey::from_openssh(&private).unwrap();
        assert_eq!(parsed.public_key().to_openssh().unwrap(), public);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

twice! {
    /// The secrets manager's own key stays apart after its last secret is gone: the key says who
    /// made it (the cloud's `Owner`), not only the secrets that use it.
    fn the_service_key_stays_apart_once_its_secrets_are_gone(start) {
        let mut console = start(&["app"]);
        console.click("Secrets");
        console.click("➕ Create secret");
        console.type_into("Name", "short-lived");
        console.type_into("Value", "x");
        console.click("Create");
        assert!(console.shows("Created secret short-lived"));
        console.kms().disable_secret("short-lived").unwrap();
        console.kms().delete_secret("short-lived", 0).unwrap();
        // A server's console looks again every few seconds.
        for _ in 0..20 {
            if console.shows("No secrets yet.") {
                break;
            }
            console.clock.advance(1);
            console.settle();
        }
        assert!(console.shows("No secrets yet."), "the console saw the secret go");
        console.click("Keys");
        assert!(console.shows("Customer keys (1)") && console.shows("Service keys (1)"));
    }
}

/// A product account against a private MariaDB: an administrator registered from the form, an
/// account made with one table's SELECT, its privileges on the secret's page.
#[test]
fn a_database_account_is_made_through_a_registered_instance() {
    use keyconsole::testing::database::PrivateDatabase;
    use keyconsole::util::database::DbEngine;

    let database = PrivateDatabase::start(DbEngine::MySql).expect("a private MariaDB");
    for sql in [
        "CREATE USER 'dba'@'%' IDENTIFIED BY 'dba password 1'",
        "GRANT ALL ON *.* TO 'dba'@'%' WITH GRANT OPTION",
        "CREATE DATABASE shop",
        "CREATE TABLE shop.orders (id INT)",
    ] {
        database.admin_execute(sql).unwrap();
    }
    let mut console = Console::unlocked(&["app"]);
    console.click("Secrets");
    console.click("➕ Create secret");
    console.type_into("Name", "reports-db");
    console.click("Database account made here");
    console.click("Register an instance…");
    console.type_into("Instance ID", "main-db");
    console.type_into("Administrator", &database.endpoint("dba").to_string());
    console.type_into("Administrator password", "dba password 1");
    console.click("Register");
    console.wait_until("the instance", |c| c.shows("Registered instance main-db"));
    console.type_into("Account name prefix", "reports");
    console
        .harness
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, "Applies to")
        .click();
    console.settle();
    console
        .harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "A table")
        .click();
    console.settle();
    console.type_into("Database name", "shop");
    console.type_into("Table name", "orders");
    console.replace_in("Privilege names", "select");
    console.click("Create");
    console.wait_until("the account", |c| c.shows("Created secret reports-db"));
    let secret = console.kms().describe_secret("reports-db").unwrap();
    let product = secret.database.unwrap().product.unwrap();
    assert_eq!(product.instance_id, "main-db");
    assert_eq!(product.grants[0].to_string(), "SELECT ON shop.orders");
    assert!(
        console.shows("SELECT ON shop.orders"),
        "the page shows the privileges"
    );
    assert!(console.shows("instance main-db, logs in from %"));
}
