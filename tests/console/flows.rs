//! The console's flows, driven by role and label through egui_kittest, on a real keystore.

use crate::harness::{Console, PASSWORD};
use egui_kittest::kittest::{NodeT as _, Queryable};
use keyconsole::kms::{CanonicalContext, CreateKey, KeyState, Kms};
use keyconsole::ui::app::CLIPBOARD_CLEAR_SECONDS;

fn state_of(console: &Console, alias: &str) -> KeyState {
    console.kms().describe_key(alias).unwrap().key_state
}

fn open_key(console: &mut Console, alias: &str) {
    console.click(alias);
    assert!(
        console.shows("Online tools"),
        "the detail page of {alias} is open"
    );
}

#[test]
fn first_run_creates_a_keystore() {
    let mut console = Console::start(None);
    assert!(console.shows("Create a keystore"));
    console.type_into("Password", "a fine long password 1");
    console.type_into("Confirm password", "a different one");
    assert!(console.shows("The passwords differ."));
    assert!(
        console
            .harness
            .get_by_label("Create keystore")
            .accesskit_node()
            .is_disabled()
    );
    console.replace_in("Confirm password", "a fine long password 1");
    console.click("Create keystore");
    console.wait_until("the keystore to be created", |c| !c.app().is_locked());
    assert!(console.path.exists());
    assert!(console.shows("0 of 0 keys"));
    drop(console.harness);
    assert!(Kms::open(&console.path, b"a fine long password 1").is_ok());
}

#[test]
fn a_weak_password_gets_a_hint() {
    let mut console = Console::start(None);
    console.type_into("Password", "abc");
    assert!(console.shows("Weak:"));
}

#[test]
fn wrong_then_right_password() {
    let mut console = Console::start(Some(&["db-password"]));
    assert!(console.shows("Unlock your keystore"));
    console.type_into("Password", "not it");
    console.click("Unlock");
    console.wait_until("the unlock to fail", |c| c.shows("Wrong password"));
    assert!(console.shows("FailedOperation.WrongPassword"));
    assert!(console.app().is_locked());
    console.type_into("Password", PASSWORD);
    console.click("Unlock");
    console.wait_until("the unlock", |c| !c.app().is_locked());
    assert!(console.shows("db-password"));
}

#[test]
fn a_damaged_keystore_says_so() {
    let console = Console::start(Some(&["k"]));
    let mut bytes = std::fs::read(&console.path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&console.path, bytes).unwrap();
    let mut console = console;
    console.type_into("Password", PASSWORD);
    console.click("Unlock");
    console.wait_until("the unlock to fail", |c| c.shows("damaged"));
    assert!(console.shows("FailedOperation.KeystoreDamaged"));
    assert!(!console.shows("Wrong password"));
}

twice! {
    fn create_a_key_with_an_invalid_then_a_valid_alias(start) {
        let mut console = start(&["existing"]);
        console.click("➕ Create key");
        assert!(console.shows("A symmetric customer master key"));
        console.type_into("Alias", "kms-reserved");
        assert!(
            console.shows("reserved prefix"),
            "live validation explains the rule"
        );
        console.replace_in("Alias", "EXISTING");
        assert!(console.shows("already used"));
        console.click("Create");
        assert!(
            console.shows("InvalidParameterValue.AliasAlreadyExists"),
            "the engine's refusal is shown with its code"
        );
        assert_eq!(console.kms().keys().len(), 1);

        console.replace_in("Alias", "db-password");
        assert!(console.shows("This alias is free."));
        console.type_into("Description (optional)", "MySQL production");
        assert!(console.shows("16/1024 bytes"));
        console.click("Create");
        let key = console.kms().describe_key("db-password").unwrap();
        assert_eq!(key.description, "MySQL production");
        assert!(console.shows("2 of 2 keys"));
        assert!(
            !console.shows("A symmetric customer master key"),
            "the dialog closed"
        );
    }
}

twice! {
    fn search_and_filter(start) {
        let mut console = start(&["web-frontend", "web-backend", "db-main"]);
        assert!(console.shows("3 of 3 keys"));
        console.type_into("Search", "WEB");
        assert!(console.shows("2 of 3 keys"));
        assert!(!console.shows("db-main"));
        let id = console.kms().describe_key("db-main").unwrap().key_id;
        console.replace_in("Search", &id[..13]);
        assert!(console.shows("1 of 3 keys"), "search by KeyId");
        assert!(console.shows("db-main"));

        console.replace_in("Search", "");
        let kms = Kms::open(console.managed_keystore(), PASSWORD.as_bytes()).unwrap();
        kms.disable_key("web-backend").unwrap();
        drop(kms);
        // The console picks up the CLI's (another process's) change within its refresh period
        // (a second locally, five seconds from a server).
        console.clock.advance(5);
        console.settle();
        console
            .harness
            .get_by_role_and_label(egui::accesskit::Role::ComboBox, "State")
            .click();
        console.settle();
        console
            .harness
            .get_by_role_and_label(egui::accesskit::Role::Button, "Disabled")
            .click();
        console.settle();
        assert!(
            console.shows("1 of 3 keys"),
            "{:?} server: {:?}",
            console.texts(),
            console.kms().describe_key("web-backend").map(|k| k.key_state)
        );
        assert!(console.shows("web-backend"));
    }
}

#[test]
fn changes_from_another_process_appear() {
    let mut console = Console::unlocked(&["first"]);
    let other = Kms::open(&console.path, PASSWORD.as_bytes()).unwrap();
    other
        .create_key(CreateKey {
            alias: "from-the-cli".into(),
            ..CreateKey::default()
        })
        .unwrap();
    assert!(!console.shows("from-the-cli"));
    console.clock.advance(1);
    console.settle();
    assert!(console.shows("from-the-cli"));
}

twice! {
    fn batch_disable_and_enable(start) {
        let mut console = start(&["a", "b", "c"]);
        console.click("Select a");
        console.click("Select c");
        assert!(console.shows("2 selected"));
        // A batch disable asks first; cancelling changes nothing.
        console.click("Disable selected");
        assert!(console.shows("Disable 2 keys?"));
        console.click("Cancel");
        assert_eq!(state_of(&console, "a"), KeyState::Enabled);
        console.click("Disable selected");
        console.click("Disable keys");
        assert_eq!(state_of(&console, "a"), KeyState::Disabled);
        assert_eq!(state_of(&console, "b"), KeyState::Enabled);
        assert_eq!(state_of(&console, "c"), KeyState::Disabled);
        assert!(console.shows("Disabled 2 key(s)."));
        console.click("Select a");
        console.click("Enable selected");
        assert_eq!(state_of(&console, "a"), KeyState::Enabled);
    }
}

twice! {
    fn encrypt_copy_and_download(start) {
        let mut console = start(&["db-password"]);
        open_key(&mut console, "db-password");
        console.type_into("Plaintext", "S3cr3t!pass");
        assert!(console.shows("11/4096 bytes"));
        console.click("Execute");
        let blob = console.value_of("Ciphertext");
        assert!(blob.starts_with("S0MB"), "a CiphertextBlob: {blob}");
        assert_eq!(console.plaintext_of(&blob), b"S3cr3t!pass");

        console.click("🗐 Copy");
        assert_eq!(console.clipboard.contents().as_deref(), Some(blob.as_str()));

        let target = console.dir.path().join("db-password.kc");
        console.dialogs.answer_next(Some(target.clone()));
        console.click("⬇ Download…");
        let request = console.dialogs.requests().pop().unwrap();
        assert_eq!(
            request.default_name.as_deref(),
            Some("db-password.kc"),
            "named after the alias"
        );
        let saved = std::fs::read_to_string(&target).unwrap();
        assert_eq!(saved, blob);
        let kms = console.kms();
        assert_eq!(
            *kms.decrypt(&saved, &CanonicalContext::none())
                .unwrap()
                .plaintext,
            b"S3cr3t!pass"
        );

        console.click("Clear");
        assert_eq!(console.value_of("Plaintext"), "");
        assert_eq!(console.value_of("Ciphertext"), "");
    }
}

twice! {
    fn ctrl_enter_executes_and_context_is_bound(start) {
        let mut console = start(&["k"]);
        open_key(&mut console, "k");
        console.type_into("Plaintext", "with context");
        console.type_into("Encryption context", r#"{"app":"billing"}"#);
        console.shortcut(egui::Key::Enter);
        let blob = console.value_of("Ciphertext");
        let context = CanonicalContext::parse(Some(r#"{"app":"billing"}"#)).unwrap();
        assert_eq!(
            *console.kms().decrypt(&blob, &context).unwrap().plaintext,
            b"with context"
        );
        assert!(
            console
                .kms()
                .decrypt(&blob, &CanonicalContext::none())
                .is_err()
        );
    }
}

twice! {
    fn a_disabled_key_refuses_to_encrypt_with_its_code_visible(start) {
        let mut console = start(&["db-password"]);
        open_key(&mut console, "db-password");
        console.click("Disable");
        assert!(console.shows("Disable db-password?"));
        console.click("Disable key");
        assert_eq!(state_of(&console, "db-password"), KeyState::Disabled);
        console.type_into("Plaintext", "secret");
        console.click("Execute");
        assert!(console.shows("ResourceUnavailable.CmkDisabled"));
        assert_eq!(console.value_of("Ciphertext"), "");
        // Enabled again, the panel no longer says it is disabled (the notification stays until
        // dismissed).
        let told = |console: &Console| {
            console
                .harness
                .query_all_by_label_contains("ResourceUnavailable.CmkDisabled")
                .count()
        };
        let before = told(&console);
        console.click("Enable");
        assert_eq!(state_of(&console, "db-password"), KeyState::Enabled);
        assert_eq!(told(&console), before - 1, "the panel's message went");
    }
}

twice! {
    fn decrypt_a_pasted_blob_and_a_file(start) {
        let mut console = start(&["k"]);
        let blob = console
            .kms()
            .encrypt("k", "pâssword é".as_bytes(), &CanonicalContext::none())
            .unwrap()
            .ciphertext_blob;
        let binary = console
            .kms()
            .encrypt("k", &[0xff, 0x00, 0x80], &CanonicalContext::none())
            .unwrap()
            .ciphertext_blob;
        open_key(&mut console, "k");
        console.click("Decrypt");
        console.type_into("Ciphertext to decrypt", &blob);
        console.click("Execute");
        assert_eq!(console.value_of("Plaintext"), "pâssword é");
        console.click("🗐 Copy plaintext");
        assert_eq!(console.clipboard.contents().as_deref(), Some("pâssword é"));

        let file = console.dir.path().join("binary.kc");
        std::fs::write(&file, format!("{binary}\n")).unwrap();
        console.dialogs.answer_next(Some(file));
        console.click("🗁 Open file…");
        console.click("Execute");
        assert_eq!(
            console.value_of("Plaintext (not UTF-8; shown as base64)"),
            "/wCA"
        );

        console.replace_in("Ciphertext to decrypt", "not a ciphertext");
        console.click("Execute");
        assert!(console.shows("InvalidParameterValue.InvalidCiphertext"));
    }
}

#[test]
fn saving_plaintext_asks_first() {
    let mut console = Console::unlocked(&["k"]);
    let blob = console
        .kms()
        .encrypt("k", b"to disk", &CanonicalContext::none())
        .unwrap()
        .ciphertext_blob;
    open_key(&mut console, "k");
    console.click("Decrypt");
    console.type_into("Ciphertext to decrypt", &blob);
    console.click("Execute");
    console.click("⬇ Save plaintext to file…");
    assert!(console.shows("Save the plaintext to disk?"));
    assert!(
        console.dialogs.requests().is_empty(),
        "no dialog before the warning is confirmed"
    );
    let target = console.dir.path().join("plain.txt");
    console.dialogs.answer_next(Some(target.clone()));
    console.click("Save plaintext anyway");
    assert_eq!(std::fs::read(&target).unwrap(), b"to disk");
}

twice! {
    fn data_keys(start) {
        let mut console = start(&["k"]);
        open_key(&mut console, "k");
        console.click("Data key");
        console.click("Generate");
        let plaintext = console.value_of("Plaintext data key (base64)");
        let blob = console.value_of("Encrypted data key (CiphertextBlob)");
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD
            .decode(&plaintext)
            .unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(
            *console
                .kms()
                .decrypt(&blob, &CanonicalContext::none())
                .unwrap()
                .plaintext,
            key
        );
    }
}

/// Types the alias into the open deletion dialog and presses the dialog's Schedule deletion.
fn confirm_deletion(console: &mut Console, alias: &str) {
    console.type_into(&format!("Type the alias ({alias}) to confirm"), alias);
    console
        .harness
        .get_all_by_label("Schedule deletion")
        .last()
        .unwrap()
        .click();
    console.settle();
}

twice! {
    fn schedule_and_cancel_deletion(start) {
        let mut console = start(&["doomed"]);
        open_key(&mut console, "doomed");
        console.click("Schedule deletion…");
        assert!(console.shows("The key must be disabled first."));
        console.click("Cancel");
        console.click("Disable");
        console.click("Disable key");
        console.click("Schedule deletion…");
        let schedule = console
            .harness
            .get_all_by_label("Schedule deletion")
            .last()
            .unwrap()
            .accesskit_node()
            .is_disabled();
        assert!(schedule, "disabled until the alias is typed");
        confirm_deletion(&mut console, "doomed");
        let key = console.kms().describe_key("doomed").unwrap();
        assert_eq!(key.key_state, KeyState::PendingDelete);
        assert_eq!(
            key.deletion_date,
            console.kms().now() + 30 * 86_400,
            "30 days by default"
        );
        assert!(console.shows("Deletion date"));
        console.click("Cancel deletion");
        assert_eq!(state_of(&console, "doomed"), KeyState::Disabled);
    }
}

twice! {
    fn edit_alias_and_description_in_place(start) {
        let mut console = start(&["old-name", "taken"]);
        open_key(&mut console, "old-name");
        console
            .harness
            .get_all_by_label("✏")
            .next()
            .unwrap()
            .click(); // the alias's pencil
        console.settle();
        console.replace_in("Alias", "taken");
        assert!(console.shows("already used"));
        console.replace_in("Alias", "new-name");
        console.click("Save");
        assert!(console.kms().describe_key("new-name").is_ok());
    }
}

#[test]
fn archive_rotate_and_rotation_settings() {
    let mut console = Console::unlocked(&["k"]);
    open_key(&mut console, "k");
    console.click("Rotate now");
    assert_eq!(console.kms().describe_key("k").unwrap().version_count, 2);
    console.click("Rotate automatically every");
    console.click("Apply rotation settings");
    let key = console.kms().describe_key("k").unwrap();
    assert!(key.key_rotation_enabled);
    assert_eq!(key.rotate_days, 365);
    console.click("Archive");
    assert!(console.shows("Archive k?"));
    console.click("Archive key");
    assert_eq!(state_of(&console, "k"), KeyState::Archived);
    console.click("Unarchive");
    assert_eq!(state_of(&console, "k"), KeyState::Enabled);
}

#[test]
fn copying_clears_the_clipboard_after_30_seconds() {
    let mut console = Console::unlocked(&["k"]);
    open_key(&mut console, "k");
    console.type_into("Plaintext", "x");
    console.click("Execute");
    console.click("🗐 Copy");
    assert!(console.clipboard.contents().is_some());
    console.clock.advance(CLIPBOARD_CLEAR_SECONDS - 1);
    console.settle();
    assert!(console.clipboard.contents().is_some());
    console.clock.advance(1);
    console.settle();
    assert_eq!(console.clipboard.contents(), None);

    // Something else copied in between is left alone.
    console.click("🗐 Copy");
    console.clipboard.replace("the user's own text");
    console.clock.advance(CLIPBOARD_CLEAR_SECONDS);
    console.settle();
    assert_eq!(
        console.clipboard.contents().as_deref(),
        Some("the user's own text")
    );
}

#[test]
fn auto_lock_after_idle_and_lock_button() {
    let mut console = Console::unlocked(&["k"]);
    open_key(&mut console, "k");
    console.type_into("Plaintext", "typed secret");
    console.clock.advance(4 * 60);
    console.settle();
    assert!(!console.app().is_locked());
    console.harness.get_by_label("Plaintext").hover(); // activity resets the idle timer
    console.settle();
    console.clock.advance(4 * 60);
    console.settle();
    assert!(!console.app().is_locked());
    console.clock.advance(61);
    console.settle();
    assert!(console.app().is_locked(), "locked after 5 idle minutes");
    assert!(console.shows("Unlock your keystore"));
    assert!(!console.shows("typed secret"));
    // It says why, and what the user goes on typing does not land in the password field.
    assert!(console.shows("Locked after 5 minutes without use."));
    assert!(!console.field("Password").is_focused());
    // (Had "ab" landed in the field, the password below would be wrong and the unlock fail.)
    console.harness.event(egui::Event::Text("ab".to_owned()));
    console.settle();

    console.type_into("Password", PASSWORD);
    console.click("Unlock");
    console.wait_until("the unlock", |c| !c.app().is_locked());
    // Back on the page it locked on: the key's page, its online tools emptied.
    console.wait_until("the key's page again", |c| c.shows("Online tools"));
    assert!(!console.shows("typed secret"));
    console.type_into("Plaintext", "x");
    console.click("Execute");
    console.click("🗐 Copy");
    assert!(console.clipboard.contents().is_some());
    console.click("🔒 Lock");
    assert!(console.app().is_locked());
    assert_eq!(
        console.clipboard.contents(),
        None,
        "locking takes our copy off the clipboard"
    );
}

#[test]
fn keyboard_shortcuts() {
    let mut console = Console::unlocked(&["k"]);
    console.shortcut(egui::Key::N);
    assert!(
        console.shows("A symmetric customer master key"),
        "Ctrl+N opens the create dialog"
    );
    console.click("Cancel");
    open_key(&mut console, "k");
    console.shortcut(egui::Key::F);
    assert!(
        console.harness.get_by_label("Search").is_focused(),
        "Ctrl+F goes to the search box"
    );
    console.shortcut(egui::Key::L);
    assert!(console.app().is_locked(), "Ctrl+L locks");
}

/// eframe's storage, in memory.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn preferences_persist_and_no_secret_does() {
    use eframe::App as _;
    let mut console = Console::unlocked(&["k"]);
    console.click("⚙ Settings");
    console.click("Light");
    open_key(&mut console, "k");
    console.type_into("Plaintext", "persisted-secret-4711");
    console.type_into("Encryption context", r#"{"tenant":"ctx-secret-99"}"#);
    console.click("Execute");
    let blob = console.value_of("Ciphertext");
    console.click("API access");
    console.click("Create credentials");
    console.click("Show");
    console.replace_in("Listen address", "127.0.0.1:20001");
    let secret_key = console
        .kms()
        .existing_api_credentials()
        .unwrap()
        .secret_key
        .to_string();

    let mut storage = MemoryStorage::default();
    console.harness.state_mut().save(&mut storage);
    assert!(
        !console.app().persist_egui_memory(),
        "egui memory (text-edit undo history) is never persisted"
    );
    let everything: String = storage.0.values().cloned().collect();
    assert!(
        everything.contains("Light"),
        "the theme is persisted: {everything}"
    );
    assert!(
        everything.contains("keystore.kcks"),
        "so is the keystore path"
    );
    assert!(
        everything.contains("127.0.0.1:20001"),
        "so is the API's listen address"
    );
    for secret in [
        "persisted-secret-4711",
        PASSWORD,
        blob.as_str(),
        secret_key.as_str(),
    ] {
        assert!(
            !everything.contains(secret),
            "the persisted state holds {secret:?}"
        );
    }
}

twice! {
    /// The file stays on this machine either way; a server makes and opens its data key.
    fn encrypt_and_decrypt_a_file_in_the_file_tools(start) {
    let mut console = start(&["backups"]);
    let input = console.dir.path().join("dump.sql");
    let data: Vec<u8> = (0..5 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&input, &data).unwrap();

    open_key(&mut console, "backups");
    console.click("Encrypt a file…");
    assert!(console.shows("File tools"));
    console.dialogs.answer_next(Some(input.clone()));
    console.click("Choose…");
    let sealed = console.dir.path().join("dump.sql.kc");
    assert_eq!(
        console.value_of("Save to"),
        sealed.display().to_string(),
        "the output is suggested next to the input"
    );
    console.click("Encrypt file");
    console.wait_until("the encryption", |c| c.shows("Encrypted 5.0 MiB"));
    assert!(sealed.exists());

    // Decrypt has its own choices: nothing chosen for Encrypt carries over.
    console.click("Decrypt a file");
    assert_eq!(console.value_of("File"), "");
    console.dialogs.answer_next(Some(sealed.clone()));
    console.click("Choose…");
    assert_eq!(
        console.value_of("Save to"),
        input.display().to_string(),
        "dump.sql.kc decrypts to dump.sql by default"
    );
    // That file exists (the original): decrypting asks first, naming it, and Cancel keeps it.
    std::fs::write(&input, b"the original, edited since").unwrap();
    console.click("Decrypt file");
    console.wait_until("the question", |c| c.shows("Replace “dump.sql”?"));
    assert!(console.shows("A file named “dump.sql” already exists"));
    console.click("Cancel");
    assert_eq!(std::fs::read(&input).unwrap(), b"the original, edited since");
    assert!(!console.shows("Replace “dump.sql”?"));

    let back = console.dir.path().join("dump.back.sql");
    console.dialogs.answer_next(Some(back.clone()));
    console.click("Change…");
    console.click("Decrypt file");
    console.wait_until("the decryption", |c| c.shows("Decrypted 5.0 MiB"));
    assert!(std::fs::read(&back).unwrap() == data, "byte-identical");

    // Decrypting again onto that output asks again; Replace replaces it.
    std::fs::write(&back, b"stale").unwrap();
    console.click("Decrypt file");
    console.wait_until("the question", |c| c.shows("Replace “dump.back.sql”?"));
    console.click("Replace");
    // The bytes land before the console hears the job ended: wait for both.
    console.wait_until("the file replaced once asked", |c| {
        std::fs::read(&back).is_ok_and(|b| b == data) && c.enabled("Encrypt a file")
    });

    // The Encrypt tab kept its own choices.
    console.click("Encrypt a file");
    assert_eq!(console.value_of("File"), input.display().to_string());
    console.click("Decrypt a file");

    // A disabled key refuses before anything is written, even when replacing was agreed.
    console.kms().disable_key("backups").unwrap();
    console.clock.advance(2);
    console.settle();
    console.click("Decrypt file");
    console.wait_until("the question", |c| c.shows("Replace “dump.back.sql”?"));
    console.click("Replace");
    console.wait_until("the refusal", |c| {
        c.shows("ResourceUnavailable.CmkDisabled")
    });
    assert!(std::fs::read(&back).unwrap() == data, "untouched by the refusal");
}
}

/// A desktop without a file dialog (no portal, no zenity): the console says so once and opens its
/// own, which saves the ciphertext under the suggested name, asks before replacing it, and opens
/// it again in Decrypt.
#[test]
fn without_a_desktop_dialog_keyconsoles_own_downloads_and_opens() {
    let mut console = Console::unlocked(&["db-password"]);
    open_key(&mut console, "db-password");
    console.type_into("Plaintext", "S3cr3t!pass");
    console.click("Execute");
    let blob = console.value_of("Ciphertext");

    // A first download through the desktop's dialog makes its folder a recent place.
    let first = console.dir.path().join("first.kc");
    console.dialogs.answer_next(Some(first));
    console.click("⬇ Download…");

    console
        .dialogs
        .unavailable_next("no desktop portal with a file chooser (test) and no zenity");
    console.click("⬇ Download…");
    assert!(console.shows("keyconsole's own opens instead"));
    assert!(
        console.field_holds("db-password.kc"),
        "the suggested name is in the name field"
    );
    console.click(&keyconsole::ui::file_dialog::save_button());
    let target = console.dir.path().join("db-password.kc");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), blob);

    // From now on the console's own opens at once; replacing a file is asked first.
    std::fs::write(&target, "older").unwrap();
    console.click("⬇ Download…");
    console.click(&keyconsole::ui::file_dialog::save_button());
    assert!(console.shows("Replace the file?"));
    console.click("Replace");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), blob);
    assert_eq!(
        console.dialogs.requests().len(),
        2,
        "the desktop was asked twice only"
    );

    console.click("Decrypt");
    console.click("🗁 Open file…");
    console.click("🗋 db-password.kc");
    console.click(&keyconsole::ui::file_dialog::open_button());
    console.click("Execute");
    assert_eq!(console.value_of("Plaintext"), "S3cr3t!pass");
}

twice! {
    /// The key list's row operations, as the cloud consoles have them: disable and enable a row,
    /// *Delete…* opens the key's page with the deletion dialog, and a key pending deletion gets
    /// *Cancel deletion* in its row. Each button is named after its key.
    fn the_key_list_has_operations_in_every_row(start) {
        let mut console = start(&["app", "old"]);
        console.click("Disable old");
        console.click("Disable key");
        assert_eq!(state_of(&console, "old"), KeyState::Disabled);
        assert_eq!(
            state_of(&console, "app"),
            KeyState::Enabled,
            "only that row"
        );
        console.click("Enable old");
        assert_eq!(state_of(&console, "old"), KeyState::Enabled);
        console.click("Disable old");
        console.click("Disable key");
        console.click("Delete… old");
        assert!(console.shows("Schedule key deletion"));
        confirm_deletion(&mut console, "old");
        assert_eq!(state_of(&console, "old"), KeyState::PendingDelete);
        console.click("Keys");
        console.click("Cancel deletion old");
        assert_eq!(state_of(&console, "old"), KeyState::Disabled);
    }
}

/// A change waits for the keystore's lock on the console's worker, never in the window: while
/// another process holds the lock the console keeps drawing and taking input and says it is
/// working; the change lands once the lock is free.
#[test]
fn a_change_waits_for_the_keystore_lock_off_the_ui_thread() {
    let mut console = Console::unlocked(&["a", "b"]);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(keyconsole::store::lock::lock_path(&console.path))
        .unwrap();
    lock.lock().unwrap();
    console.click("Select a");
    console.click("Disable selected");
    console.harness.get_by_label("Disable key").click();
    for _ in 0..3 {
        console.harness.step();
    }
    assert!(console.app().is_busy(), "the change waits on the worker");
    assert!(console.shows("Working…"));
    assert_eq!(state_of(&console, "a"), KeyState::Enabled);
    // The window still answers: typing goes into the search field while the change waits.
    console.field("Search").focus();
    console.harness.step();
    console.field("Search").type_text("b");
    console.harness.step();
    assert!(console.field_holds("b"));
    assert!(console.app().is_busy());
    drop(lock);
    console.settle();
    assert!(!console.app().is_busy());
    assert!(!console.shows("Working…"));
    assert_eq!(state_of(&console, "a"), KeyState::Disabled);
    assert!(console.shows("Disabled 1 key(s)."));
}

/// A connection is remembered for next time without its SecretKey: the preferences hold the
/// endpoint, the SecretId and the CA file, and the form after *Lock* asks for the key again.
#[test]
fn a_server_connection_is_remembered_without_its_secret_key() {
    use eframe::App as _;
    let mut console = Console::connected(&["k"]);
    let server = console.server.as_ref().unwrap();
    let (url, secret_id, secret_key) = (
        server.url(),
        server.secret_id.clone(),
        server.secret_key.clone(),
    );
    let mut storage = MemoryStorage::default();
    console.harness.state_mut().save(&mut storage);
    let everything: String = storage.0.values().cloned().collect();
    assert!(
        everything.contains(&url) && everything.contains(&secret_id),
        "{everything}"
    );
    assert!(
        !everything.contains(&secret_key),
        "the SecretKey is never written down"
    );
    console.click("🔒 Lock");
    assert!(console.app().is_locked());
    assert_eq!(console.value_of("Endpoint"), url);
    assert_eq!(console.value_of("SecretId"), secret_id);
    assert_eq!(console.value_of("SecretKey"), "", "asked again");
}
