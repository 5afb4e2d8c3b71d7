//! The command-line face, through the real binary: output, exit status and error codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyconsole::testing::{all_files, contains};

const BIN: &str = env!("CARGO_BIN_EXE_keyconsole");
const PASSWORD: &str = "cli test password 1";

struct Cli {
    dir: tempfile::TempDir,
    keystore: PathBuf,
}

impl Cli {
    /// A fresh keystore made with `init` (cheap KDF settings, so the tests stay fast).
    fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let cli = Cli {
            keystore: dir.path().join("ks").join("keystore.kcks"),
            dir,
        };
        cli.ok(
            &["init", "--kdf-memory-mib", "1", "--kdf-iterations", "1"],
            b"",
        );
        cli
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_remove("KEYCONSOLE_NEW_PASSWORD")
            // Messages in English whatever the machine's locale (one test asks for Chinese).
            .env("LANG", "C.UTF-8")
            .env_remove("LANGUAGE")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("KEYCONSOLE_KEYSTORE", &self.keystore)
            .env("KEYCONSOLE_PASSWORD", PASSWORD)
            // This machine's keystore, never a server a developer's shell names.
            .env_remove("KEYCONSOLE_ENDPOINT")
            .env_remove("KEYCONSOLE_CA");
        command
    }

    fn run_command(mut command: Command, stdin: &[u8]) -> Output {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A command that does not read its input may exit before we finish writing it.
        if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        Self::run_command(self.command(args), stdin)
    }

    fn ok(&self, args: &[&str], stdin: &[u8]) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Asserts exit status 1 and `error: <code>: ` on stderr.
    fn fails(&self, args: &[&str], stdin: &[u8], code: &str) {
        expect_error(self.run(args, stdin), code, args);
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn expect_error(out: Output, code: &str, what: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what:?}: {stderr}");
    assert!(
        stderr.starts_with(&format!("error: {code}: ")),
        "{what:?}: expected {code}, got {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{what:?}: nothing on stdout after an error"
    );
}

/// Errors follow the environment's language, as the console does; the code stays as it is.
#[test]
fn errors_speak_the_environments_language() {
    let cli = Cli::new();
    let in_english = cli.run(&["key", "describe", "no-such-alias"], b"");
    expect_error(in_english, "ResourceUnavailable.CmkNotFound", &["describe"]);
    for (name, value) in [("LANG", "zh_CN.UTF-8"), ("LC_ALL", "zh_CN.UTF-8")] {
        let mut command = cli.command(&["key", "describe", "no-such-alias"]);
        command.env(name, value);
        let out = Cli::run_command(command, b"");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            stderr.trim_end(),
            "error: ResourceUnavailable.CmkNotFound: 没有别名为 no-such-alias 的密钥。",
            "{name}"
        );
        assert_eq!(out.status.code(), Some(1));
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn walkthrough_of_the_seed_scenario() {
    let cli = Cli::new();
    let key_id = cli.ok(
        &[
            "key",
            "create",
            "--alias",
            "db-password",
            "--description",
            "MySQL prod",
        ],
        b"",
    );
    let key_id = key_id.trim();
    assert!(uuid::Uuid::parse_str(key_id).is_ok(), "{key_id}");
    let list = cli.ok(&["key", "list"], b"");
    assert!(list.starts_with("KeyId"), "{list}");
    assert!(list.contains("db-password") && list.contains("Enabled") && list.contains(key_id));

    // Encrypt a database password from a file into a ciphertext file, and back.
    let secret = cli.file("db.txt");
    std::fs::write(&secret, b"S3cr3t!pass").unwrap();
    let blob_file = cli.file("db.kc");
    assert_eq!(
        cli.ok(
            &[
                "encrypt",
                "--key",
                "db-password",
                "--in",
                p(&secret),
                "--out",
                p(&blob_file)
            ],
            b""
        ),
        ""
    );
    let blob = std::fs::read_to_string(&blob_file).unwrap();
    assert!(
        STANDARD.decode(&blob).is_ok(),
        "the file holds the CiphertextBlob: {blob}"
    );
    assert_eq!(
        cli.ok(&["decrypt", "--in", p(&blob_file)], b""),
        "S3cr3t!pass"
    );
    let plain_out = cli.file("db.out");
    cli.ok(
        &["decrypt", "--in", p(&blob_file), "--out", p(&plain_out)],
        b"",
    );
    assert_eq!(std::fs::read(&plain_out).unwrap(), b"S3cr3t!pass");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plain_out).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "plaintext written by request is readable by its owner only"
        );
    }

    // Standard input and output, by KeyId.
    let piped = cli.ok(&["encrypt", "--key", key_id], b"from stdin");
    assert_eq!(cli.ok(&["decrypt"], piped.as_bytes()), "from stdin");

    cli.ok(&["key", "disable", "db-password"], b"");
    cli.fails(
        &["encrypt", "--key", "db-password"],
        b"x",
        "ResourceUnavailable.CmkDisabled",
    );
    cli.fails(
        &["decrypt", "--in", p(&blob_file)],
        b"",
        "ResourceUnavailable.CmkDisabled",
    );
}

/// Tags from the command line: given at creation, filtering listings, edited in one step, and
/// refused by the cloud's rules with its codes.
#[test]
fn tags_on_keys_and_secrets() {
    let cli = Cli::new();
    cli.ok(
        &[
            "key", "create", "--alias", "pay", "--tag", "env=prod", "--tag", "team=pay",
        ],
        b"",
    );
    cli.ok(
        &["key", "create", "--alias", "ops", "--tag", "env=test"],
        b"",
    );
    cli.ok(&["key", "create", "--alias", "bare"], b"");
    let listed = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["key", "list", "--json"];
        all.extend_from_slice(args);
        let page: serde_json::Value = serde_json::from_str(&cli.ok(&all, b"")).unwrap();
        let mut aliases: Vec<String> = page["KeyMetadatas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["Alias"].as_str().unwrap().to_owned())
            .collect();
        aliases.sort();
        aliases
    };
    assert_eq!(listed(&["--tag", "env=prod"]), ["pay"]);
    assert_eq!(
        listed(&["--tag", "env=prod", "--tag", "env=test"]),
        ["ops", "pay"]
    );
    assert_eq!(listed(&["--tag", "env"]), ["ops", "pay"]);
    assert_eq!(listed(&["--tag", "env", "--tag", "team"]), ["pay"]);
    assert_eq!(
        cli.ok(
            &["key", "tag", "pay", "--set", "owner=li", "--remove", "team"],
            b""
        ),
        "env=prod\nowner=li\n"
    );
    assert_eq!(cli.ok(&["key", "tag", "pay"], b""), "env=prod\nowner=li\n");
    let described: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "describe", "pay", "--json"], b"")).unwrap();
    assert_eq!(
        described["Tags"],
        serde_json::json!([{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "owner", "TagValue": "li"}])
    );
    cli.fails(
        &["key", "tag", "pay", "--set", "qcloud:x=1"],
        b"",
        "InvalidParameterValue",
    );
    cli.fails(
        &[
            "key", "create", "--alias", "twice", "--tag", "a=1", "--tag", "a=2",
        ],
        b"",
        "InvalidParameterValue.TagKeysDuplicated",
    );
    // Nothing was made.
    cli.fails(
        &["key", "describe", "twice"],
        b"",
        "ResourceUnavailable.CmkNotFound",
    );

    cli.ok(
        &[
            "secret",
            "create",
            "orders-db",
            "--value-stdin",
            "--tag",
            "env=prod",
        ],
        b"S3cr3t",
    );
    cli.ok(&["secret", "create", "other", "--value-stdin"], b"x");
    let secrets: serde_json::Value =
        serde_json::from_str(&cli.ok(&["secret", "list", "--json", "--tag", "env=prod"], b""))
            .unwrap();
    assert_eq!(secrets.as_array().unwrap().len(), 1);
    assert_eq!(secrets[0]["SecretName"], "orders-db");
    assert_eq!(
        cli.ok(&["secret", "tag", "orders-db", "--set", "env=test"], b""),
        "env=test\n"
    );
}

/// An SSH key pair kept as a secret: made by the CLI, checked by OpenSSH's own ssh-keygen (the
/// private key it writes derives the public key printed), the private key written only where asked
/// and never over a file, and never replaced by a new version.
#[test]
fn ssh_key_pairs_as_secrets() {
    let cli = Cli::new();
    let public = cli.ok(
        &[
            "secret",
            "create-ssh-key",
            "deploy",
            "--ssh-key-name",
            "deploy_1",
            "--tag",
            "env=prod",
        ],
        b"",
    );
    assert!(public.starts_with("ssh-ed25519 AAAA"), "{public}");
    assert_eq!(cli.ok(&["secret", "ssh-key", "deploy"], b""), public);
    let key_file = cli.file("id_deploy");
    cli.ok(
        &[
            "secret",
            "ssh-key",
            "deploy",
            "--private-key",
            "--out",
            p(&key_file),
        ],
        b"",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the private key is readable by its owner only"
        );
    }
    let derived = Command::new("ssh-keygen")
        .args(["-y", "-f"])
        .arg(&key_file)
        .output()
        .expect("ssh-keygen (openssh-client) runs");
    assert!(
        derived.status.success(),
        "{}",
        String::from_utf8_lossy(&derived.stderr)
    );
    let derived = String::from_utf8(derived.stdout).unwrap();
    // ssh-keygen prints the key and its comment, as the secret's public key has them.
    assert_eq!(derived.trim(), public.trim());
    cli.fails(
        &[
            "secret",
            "ssh-key",
            "deploy",
            "--private-key",
            "--out",
            p(&key_file),
        ],
        b"",
        "FailedOperation.FileExists",
    );
    cli.fails(
        &[
            "secret",
            "put",
            "deploy",
            "--version-id",
            "v2",
            "--value-stdin",
        ],
        b"x",
        "UnsupportedOperation",
    );
    cli.fails(
        &[
            "secret",
            "create-ssh-key",
            "bad",
            "--ssh-key-name",
            "has-dash",
        ],
        b"",
        "InvalidParameterValue",
    );
    let described = cli.ok(&["secret", "describe", "deploy"], b"");
    assert!(
        described.contains("deploy_1") && described.contains("skey-"),
        "{described}"
    );
    assert!(cli.ok(&["secret", "list"], b"").contains("ssh key pair"));
}

#[test]
fn json_output_uses_the_api_field_names() {
    let cli = Cli::new();
    let id = cli.ok(
        &["key", "create", "--alias", "a", "--rotate-days", "30"],
        b"",
    );
    cli.ok(&["key", "create", "--alias", "zulu"], b"");
    let list: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "list", "--json"], b"")).unwrap();
    assert_eq!(list["TotalCount"], 2);
    let first = &list["KeyMetadatas"][0];
    for field in [
        "KeyId",
        "Alias",
        "KeyState",
        "CreateTime",
        "KeyUsage",
        "Origin",
        "KeyRotationEnabled",
        "RotateDays",
        "DeletionDate",
    ] {
        assert!(!first[field].is_null(), "missing {field} in {first}");
    }
    let described: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "describe", id.trim(), "--json"], b"")).unwrap();
    assert_eq!(described["Alias"], "a");
    assert_eq!(described["KeyRotationEnabled"], true);
    assert_eq!(described["RotateDays"], 30);
    let human = cli.ok(&["key", "describe", "a"], b"");
    assert!(
        human.contains("KeyState") && human.contains("Enabled"),
        "{human}"
    );

    let filtered: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "list", "--json", "--state", "disabled"], b""))
            .unwrap();
    assert_eq!(filtered["TotalCount"], 0);
    let searched: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "list", "--json", "--search", "ZUL"], b"")).unwrap();
    assert_eq!(searched["TotalCount"], 1);
}

#[test]
fn every_state_rule_and_error_code_through_the_cli() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    cli.ok(&["key", "create", "--alias", "other"], b"");
    cli.fails(
        &["key", "create", "--alias", "K"],
        b"",
        "InvalidParameterValue.AliasAlreadyExists",
    );
    cli.fails(
        &["key", "create", "--alias", "kms-x"],
        b"",
        "InvalidParameterValue.InvalidAlias",
    );
    cli.fails(
        &["key", "create", "--alias", "x", "--rotate-days", "3"],
        b"",
        "InvalidParameterValue",
    );
    cli.fails(
        &["key", "update", "k", "--alias", "other"],
        b"",
        "InvalidParameterValue.AliasAlreadyExists",
    );
    cli.fails(&["key", "update", "k"], b"", "MissingParameter");
    cli.ok(&["key", "update", "k", "--description", "payments"], b"");
    cli.fails(
        &["key", "describe", "missing"],
        b"",
        "ResourceUnavailable.CmkNotFound",
    );
    cli.fails(
        &["key", "describe", "bad id!"],
        b"",
        "InvalidParameterValue.InvalidKeyId",
    );

    cli.fails(
        &["key", "schedule-deletion", "k", "--days", "7"],
        b"",
        "ResourceUnavailable.CmkShouldBeDisabled",
    );
    cli.fails(
        &["key", "cancel-deletion", "k"],
        b"",
        "ResourceUnavailable.CmkNotPendingDelete",
    );
    cli.ok(&["key", "disable", "k", "other"], b"");
    cli.fails(
        &["key", "schedule-deletion", "k", "--days", "6"],
        b"",
        "InvalidParameter.InvalidPendingWindowInDays",
    );
    cli.fails(
        &["key", "schedule-deletion", "k", "--days", "31"],
        b"",
        "InvalidParameter.InvalidPendingWindowInDays",
    );
    let date = cli.ok(&["key", "schedule-deletion", "k", "--days", "7"], b"");
    assert!(date.trim().ends_with("UTC"), "{date}");
    cli.fails(
        &["key", "enable", "k"],
        b"",
        "ResourceUnavailable.CmkStateNotSupport",
    );
    cli.fails(
        &["encrypt", "--key", "k"],
        b"x",
        "ResourceUnavailable.CmkStateNotSupport",
    );
    cli.ok(&["key", "cancel-deletion", "k"], b"");
    let described: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "describe", "k", "--json"], b"")).unwrap();
    assert_eq!(described["KeyState"], "Disabled");
    cli.ok(&["key", "enable", "k", "other"], b"");

    let blob = cli.ok(&["encrypt", "--key", "k"], b"before archive");
    cli.ok(&["key", "archive", "k"], b"");
    cli.fails(
        &["encrypt", "--key", "k"],
        b"x",
        "ResourceUnavailable.CmkArchived",
    );
    assert_eq!(cli.ok(&["decrypt"], blob.as_bytes()), "before archive");
    cli.ok(&["key", "unarchive", "k"], b"");
    cli.fails(
        &["key", "unarchive", "k"],
        b"",
        "ResourceUnavailable.CmkStateNotSupport",
    );

    cli.ok(&["key", "rotate", "k"], b"");
    let described: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "describe", "k", "--json"], b"")).unwrap();
    assert_eq!(described["VersionCount"], 2);
    assert_eq!(
        cli.ok(&["decrypt"], blob.as_bytes()),
        "before archive",
        "old versions still decrypt"
    );
    let reencrypted = cli.ok(&["reencrypt"], blob.as_bytes());
    assert_eq!(
        cli.ok(&["decrypt"], reencrypted.as_bytes()),
        "before archive"
    );
    let moved = cli.ok(
        &[
            "reencrypt",
            "--key",
            "other",
            "--new-context",
            r#"{"to":"other"}"#,
        ],
        blob.as_bytes(),
    );
    cli.fails(
        &["decrypt"],
        moved.as_bytes(),
        "FailedOperation.DecryptError",
    );
    assert_eq!(
        cli.ok(
            &["decrypt", "--context", r#"{"to":"other"}"#],
            moved.as_bytes()
        ),
        "before archive"
    );

    cli.ok(&["key", "rotation", "k", "--enable", "--days", "90"], b"");
    cli.fails(
        &["key", "rotation", "k", "--enable", "--days", "400"],
        b"",
        "InvalidParameterValue",
    );
    cli.ok(&["key", "rotation", "k", "--disable"], b"");

    cli.fails(
        &["encrypt", "--key", "k"],
        &[0; 4097],
        "InvalidParameterValue.InvalidPlaintext",
    );
    cli.fails(
        &["encrypt", "--key", "k"],
        b"",
        "InvalidParameterValue.InvalidPlaintext",
    );
    cli.fails(
        &["encrypt", "--key", "k", "--context", "[1]"],
        b"x",
        "InvalidParameterValue.InvalidEncryptionContext",
    );
    cli.fails(
        &["decrypt"],
        b"definitely not base64!",
        "InvalidParameterValue.InvalidCiphertext",
    );
    let with_context = cli.ok(
        &["encrypt", "--key", "k", "--context", r#"{"app":"pay"}"#],
        b"ctx",
    );
    cli.fails(
        &["decrypt"],
        with_context.as_bytes(),
        "FailedOperation.DecryptError",
    );
    cli.fails(
        &["decrypt", "--context", r#"{"app":"web"}"#],
        with_context.as_bytes(),
        "FailedOperation.DecryptError",
    );
    assert_eq!(
        cli.ok(
            &["decrypt", "--context", r#"{"app":"pay"}"#],
            with_context.as_bytes()
        ),
        "ctx"
    );
}

#[test]
fn data_keys_and_random_bytes() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "dk"], b"");
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["datakey", "--key", "dk", "--json"], b"")).unwrap();
    let plaintext = STANDARD
        .decode(json["Plaintext"].as_str().unwrap())
        .unwrap();
    assert_eq!(plaintext.len(), 32);
    let blob = json["CiphertextBlob"].as_str().unwrap();
    let out = cli.run(&["decrypt"], blob.as_bytes());
    assert_eq!(out.stdout, plaintext);
    let json: serde_json::Value = serde_json::from_str(&cli.ok(
        &["datakey", "--key", "dk", "--spec", "AES_128", "--json"],
        b"",
    ))
    .unwrap();
    assert_eq!(
        STANDARD
            .decode(json["Plaintext"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["datakey", "--key", "dk", "--bytes", "64", "--json"], b""))
            .unwrap();
    assert_eq!(
        STANDARD
            .decode(json["Plaintext"].as_str().unwrap())
            .unwrap()
            .len(),
        64
    );
    cli.fails(
        &["datakey", "--key", "dk", "--bytes", "0"],
        b"",
        "InvalidParameterValue",
    );
    let human = cli.ok(&["datakey", "--key", "dk"], b"");
    assert!(human.contains("CiphertextBlob"), "{human}");

    let random = cli.ok(&["random", "--bytes", "48"], b"");
    assert_eq!(STANDARD.decode(random.trim()).unwrap().len(), 48);
    cli.fails(&["random", "--bytes", "1025"], b"", "InvalidParameterValue");
}

#[test]
fn usage_errors_exit_with_2() {
    let cli = Cli::new();
    for args in [
        &["frobnicate"][..],
        &["encrypt"][..],
        &["key", "rotation", "k"][..],
        &["key", "rotation", "k", "--enable", "--disable"][..],
        &["datakey", "--key", "k", "--spec", "AES_512"][..],
        &["datakey", "--key", "k", "--spec", "AES_128", "--bytes", "3"][..],
        &["key", "enable"][..],
    ] {
        assert_eq!(cli.run(args, b"").status.code(), Some(2), "{args:?}");
    }
    assert_eq!(cli.run(&["--help"], b"").status.code(), Some(0));
}

#[test]
fn password_sources_and_failures() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    let file = cli.file("pw.txt");
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    let mut command = cli.command(&["--password-file", p(&file), "key", "list"]);
    command.env_remove("KEYCONSOLE_PASSWORD");
    assert!(Cli::run_command(command, b"").status.success());

    let mut command = cli.command(&["key", "list"]);
    command.env("KEYCONSOLE_PASSWORD", "wrong");
    expect_error(
        Cli::run_command(command, b""),
        "FailedOperation.WrongPassword",
        &["wrong password"],
    );

    // No password anywhere and no terminal to ask on: a clear error, not a hang.
    let mut command = Command::new("setsid");
    command
        .arg(BIN)
        .args(["key", "list"])
        .env("KEYCONSOLE_KEYSTORE", &cli.keystore)
        .env_remove("KEYCONSOLE_PASSWORD");
    expect_error(
        Cli::run_command(command, b""),
        "MissingParameter",
        &["no password"],
    );

    let mut command = cli.command(&["key", "list"]);
    command.env("KEYCONSOLE_KEYSTORE", cli.file("nowhere.kcks"));
    expect_error(
        Cli::run_command(command, b""),
        "FailedOperation.KeystoreNotFound",
        &["missing keystore"],
    );
    cli.fails(&["init"], b"", "FailedOperation.KeystoreExists");
}

#[test]
fn passwd_changes_the_password() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    let blob = cli.ok(&["encrypt", "--key", "k"], b"survives");
    let mut command = cli.command(&["passwd"]);
    command.env("KEYCONSOLE_NEW_PASSWORD", "the new password 2");
    assert!(Cli::run_command(command, b"").status.success());
    cli.fails(&["key", "list"], b"", "FailedOperation.WrongPassword");
    let mut command = cli.command(&["decrypt"]);
    command.env("KEYCONSOLE_PASSWORD", "the new password 2");
    assert_eq!(
        Cli::run_command(command, blob.as_bytes()).stdout,
        b"survives"
    );
}

#[test]
fn eight_processes_creating_keys_at_once_lose_nothing() {
    let cli = Cli::new();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let keystore = cli.keystore.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let out = Command::new(BIN)
                        .args(["key", "create", "--alias", &format!("w{w}-k{i}")])
                        .env("KEYCONSOLE_KEYSTORE", &keystore)
                        .env("KEYCONSOLE_PASSWORD", PASSWORD)
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let list: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "list", "--json"], b"")).unwrap();
    assert_eq!(list["TotalCount"], 200);
}

#[test]
fn the_cli_leaves_no_secret_on_disk() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    let secret = b"postgres://admin:Zq8-very-secret@db";
    let blob = cli.file("secret.kc");
    cli.ok(&["encrypt", "--key", "k", "--out", p(&blob)], secret);
    let data_key = cli.ok(&["datakey", "--key", "k", "--json"], b"");
    let data_key: serde_json::Value = serde_json::from_str(&data_key).unwrap();
    let data_key = STANDARD
        .decode(data_key["Plaintext"].as_str().unwrap())
        .unwrap();
    cli.ok(&["key", "rotate", "k"], b"");
    for (path, bytes) in all_files(cli.dir.path()) {
        for needle in [&secret[..], PASSWORD.as_bytes(), &data_key] {
            assert!(
                !contains(&bytes, needle),
                "{} holds a secret",
                path.display()
            );
        }
    }
}

#[test]
fn file_encryption_through_the_cli() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "dumps"], b"");
    let plain = cli.file("dump.sql");
    let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    std::fs::write(&plain, &data).unwrap();
    let sealed = cli.file("dump.sql.kc");
    let back = cli.file("dump.back.sql");
    assert_eq!(
        cli.ok(
            &["file", "encrypt", "--key", "dumps", p(&plain), p(&sealed)],
            b""
        ),
        "",
        "quiet when not a terminal"
    );
    assert_eq!(cli.ok(&["file", "decrypt", p(&sealed), p(&back)], b""), "");
    assert_eq!(std::fs::read(&back).unwrap(), data);
    cli.fails(
        &["file", "decrypt", p(&sealed), p(&back)],
        b"",
        "FailedOperation.FileExists",
    );
    cli.ok(&["file", "decrypt", p(&sealed), p(&back), "--force"], b"");
    let mut bytes = std::fs::read(&sealed).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&sealed, &bytes).unwrap();
    let other = cli.file("other.sql");
    cli.fails(
        &["file", "decrypt", p(&sealed), p(&other)],
        b"",
        "FailedOperation.DecryptError",
    );
    assert!(!other.exists());
    cli.ok(&["key", "disable", "dumps"], b"");
    cli.fails(
        &["file", "encrypt", "--key", "dumps", p(&plain), p(&other)],
        b"",
        "ResourceUnavailable.CmkDisabled",
    );
    assert!(!other.exists());
}

#[test]
fn outputs_never_replace_a_file_unasked_nor_the_keystore() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    let blob = cli.ok(&["encrypt", "--key", "k"], b"secret");
    let out = cli.file("plain.txt");
    std::fs::write(&out, b"precious").unwrap();
    cli.fails(
        &["decrypt", "--out", p(&out)],
        blob.as_bytes(),
        "FailedOperation.FileExists",
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    cli.ok(&["decrypt", "--out", p(&out), "--force"], blob.as_bytes());
    assert_eq!(std::fs::read(&out).unwrap(), b"secret");

    // The keystore, its backups and its lock file: refused even with --force, however spelled.
    let keystore = std::fs::read(&cli.keystore).unwrap();
    let folder = cli.keystore.parent().unwrap();
    let dotted = folder.join("..").join("ks").join("keystore.kcks");
    for target in [
        cli.keystore.clone(),
        dotted,
        folder.join("keystore.kcks.1"),
        folder.join("keystore.kcks.lock"),
    ] {
        cli.fails(
            &["decrypt", "--out", p(&target), "--force"],
            blob.as_bytes(),
            "FailedOperation.FileExists",
        );
        cli.fails(
            &["encrypt", "--key", "k", "--out", p(&target), "--force"],
            b"x",
            "FailedOperation.FileExists",
        );
    }
    assert_eq!(std::fs::read(&cli.keystore).unwrap(), keystore);
    let sealed = cli.file("dump.kcf");
    std::fs::write(cli.file("dump"), b"data").unwrap();
    cli.ok(
        &[
            "file",
            "encrypt",
            "--key",
            "k",
            p(&cli.file("dump")),
            p(&sealed),
        ],
        b"",
    );
    // Encrypting counted its encryption in the keystore (a reservation); a refused output
    // changes nothing.
    let keystore = std::fs::read(&cli.keystore).unwrap();
    cli.fails(
        &["file", "decrypt", p(&sealed), p(&cli.keystore), "--force"],
        b"",
        "FailedOperation.FileExists",
    );
    assert_eq!(std::fs::read(&cli.keystore).unwrap(), keystore);
}

#[test]
fn two_decrypts_racing_for_one_output_never_both_win() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    let plain = cli.file("big");
    std::fs::write(&plain, vec![7u8; 3 << 20]).unwrap();
    let sealed = cli.file("big.kcf");
    cli.ok(
        &["file", "encrypt", "--key", "k", p(&plain), p(&sealed)],
        b"",
    );
    for round in 0..5 {
        let out = cli.file(&format!("out-{round}"));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                cli.command(&["file", "decrypt", p(&sealed), p(&out)])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let results: Vec<Output> = racers
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let won = results.iter().filter(|o| o.status.success()).count();
        assert_eq!(won, 1, "round {round}: exactly one output was placed");
        let lost = results.iter().find(|o| !o.status.success()).unwrap();
        assert!(
            String::from_utf8_lossy(&lost.stderr).contains("FailedOperation.FileExists"),
            "{}",
            String::from_utf8_lossy(&lost.stderr)
        );
    }
}

#[test]
fn inputs_are_read_with_a_limit() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    // Before: read until memory ran out.
    cli.fails(
        &["encrypt", "--key", "k", "--in", "/dev/zero"],
        b"",
        "InvalidParameterValue.InvalidPlaintext",
    );
    cli.fails(
        &["decrypt", "--in", "/dev/zero"],
        b"",
        "InvalidParameterValue",
    );
    cli.fails(
        &["key", "list", "--keystore", "/dev/zero"],
        b"",
        "FailedOperation.KeystoreDamaged",
    );
}

#[test]
fn a_password_that_is_not_utf8_is_named_as_such() {
    use std::os::unix::ffi::OsStrExt;
    let cli = Cli::new();
    let mut command = cli.command(&["key", "list"]);
    command.env(
        "KEYCONSOLE_PASSWORD",
        std::ffi::OsStr::from_bytes(b"caf\xe9"),
    );
    let out = Cli::run_command(command, b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
}

#[test]
fn control_characters_in_names_reach_the_terminal_escaped() {
    let cli = Cli::new();
    cli.ok(
        &[
            "key",
            "create",
            "--alias",
            "k",
            "--description",
            "a\u{1b}]0;pwned\u{7}b",
        ],
        b"",
    );
    let shown = cli.ok(&["key", "describe", "k"], b"");
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(shown.contains("a\\u{1b}]0;pwned\\u{7}b"), "{shown}");
    let listed = cli.ok(&["key", "list"], b"");
    assert!(!listed.contains('\u{1b}'), "{listed:?}");
}

#[test]
fn an_output_name_near_the_length_limit_works() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    std::fs::write(cli.file("in"), b"data").unwrap();
    let long = cli.file(&"n".repeat(250));
    cli.ok(
        &[
            "file",
            "encrypt",
            "--key",
            "k",
            p(&cli.file("in")),
            p(&long),
        ],
        b"",
    );
    let blob_out = cli.file(&"b".repeat(250));
    cli.ok(&["encrypt", "--key", "k", "--out", p(&blob_out)], b"x");
    assert!(long.exists() && blob_out.exists());
}

#[test]
fn a_write_that_fails_gives_the_systems_reason() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "k"], b"");
    let plain = cli.file("big");
    std::fs::write(&plain, vec![1u8; 4 << 20]).unwrap();
    let mut command = cli.command(&[
        "file",
        "encrypt",
        "--key",
        "k",
        p(&plain),
        p(&cli.file("big.kcf")),
    ]);
    // Files over 1 MiB cannot be written (as on a full disk); SIGXFSZ ignored so write fails.
    // SAFETY: only setrlimit and signal run between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 1 << 20,
                rlim_max: 1 << 20,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            Ok(())
        });
    }
    let out = Cli::run_command(command, b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: FailedOperation.FileIo: ") && stderr.contains("File too large"),
        "{stderr}"
    );
    assert!(!cli.file("big.kcf").exists());
}

#[test]
fn secrets_through_the_cli() {
    let cli = Cli::new();
    let value_file = cli.file("password.txt");
    std::fs::write(&value_file, b"S3cr3t!pass").unwrap();
    cli.ok(
        &[
            "secret",
            "create",
            "orders-db",
            "--value-file",
            p(&value_file),
            "--description",
            "MySQL orders",
        ],
        b"",
    );
    assert_eq!(cli.ok(&["secret", "get", "orders-db"], b""), "S3cr3t!pass");
    cli.ok(
        &[
            "secret",
            "put",
            "orders-db",
            "--version-id",
            "v2",
            "--value-stdin",
        ],
        b"rotated",
    );
    assert_eq!(
        cli.ok(&["secret", "get", "orders-db"], b""),
        "rotated",
        "SSM_Current is the newest"
    );
    assert_eq!(
        cli.ok(
            &["secret", "get", "orders-db", "--version-id", "SSM_v1"],
            b""
        ),
        "S3cr3t!pass"
    );
    cli.ok(
        &[
            "secret",
            "update",
            "orders-db",
            "--version-id",
            "SSM_v1",
            "--value-stdin",
        ],
        b"fixed",
    );
    let versions = cli.ok(&["secret", "versions", "orders-db", "--json"], b"");
    let versions: serde_json::Value = serde_json::from_str(&versions).unwrap();
    assert_eq!(versions[0]["VersionId"], "SSM_v1");
    assert_eq!(versions[1]["VersionId"], "v2");
    let described: serde_json::Value =
        serde_json::from_str(&cli.ok(&["secret", "describe", "orders-db", "--json"], b"")).unwrap();
    assert_eq!(described["Status"], "Enabled");
    assert_eq!(described["KmsKeyType"], "DEFAULT");
    assert!(cli.ok(&["secret", "list"], b"").contains("orders-db"));

    // Binary values, and text that is not UTF-8 refused without --binary.
    cli.ok(
        &["secret", "create", "blob", "--value-stdin", "--binary"],
        &[0, 255, 10],
    );
    assert_eq!(
        cli.run(&["secret", "get", "blob"], b"").stdout,
        [0, 255, 10]
    );
    cli.fails(
        &["secret", "create", "bad-text", "--value-stdin"],
        &[0xff, 0xfe],
        "InvalidParameterValue",
    );

    // States and codes.
    cli.fails(&["secret", "delete", "orders-db"], b"", "OperationDenied");
    cli.ok(&["secret", "disable", "orders-db"], b"");
    cli.fails(
        &["secret", "get", "orders-db"],
        b"",
        "ResourceUnavailable.ResourceDisabled",
    );
    cli.ok(
        &["secret", "delete", "orders-db", "--recovery-days", "7"],
        b"",
    );
    cli.fails(
        &["secret", "get", "orders-db"],
        b"",
        "ResourceUnavailable.ResourcePendingDeleted",
    );
    cli.ok(&["secret", "restore", "orders-db"], b"");
    cli.ok(&["secret", "enable", "orders-db"], b"");
    cli.ok(
        &[
            "secret",
            "delete-version",
            "orders-db",
            "--version-id",
            "v2",
        ],
        b"",
    );
    assert_eq!(cli.ok(&["secret", "get", "orders-db"], b""), "fixed");
    cli.fails(
        &["secret", "get", "nope"],
        b"",
        "ResourceNotFound.SecretNotExist",
    );
    cli.fails(
        &["secret", "create", "orders-db", "--value-stdin"],
        b"x",
        "ResourceInUse.SecretExists",
    );
    // The keystore folder holds no value.
    for (path, bytes) in all_files(cli.dir.path()) {
        if path == value_file {
            continue;
        }
        for value in [&b"S3cr3t!pass"[..], b"rotated", b"fixed"] {
            assert!(!contains(&bytes, value), "{} holds a value", path.display());
        }
    }
}

#[test]
fn serve_over_https_with_the_local_ca_and_the_rules_for_leaving_loopback() {
    let cli = Cli::new();
    let path = cli.ok(&["api", "ca", "--path"], b"");
    let ca_path = PathBuf::from(path.trim_end());
    assert_eq!(ca_path, cli.keystore.with_file_name("keystore.kcks.ca.pem"));
    let pem = std::fs::read_to_string(&ca_path).unwrap();
    let printed = cli.ok(&["api", "ca"], b"");
    assert_eq!(printed, format!("{}\n{pem}", ca_path.display()));

    // Beyond loopback: refused over plain HTTP unless asked for twice; TLS options need --tls.
    cli.fails(
        &[
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--allow-remote",
            "--quiet",
        ],
        b"",
        "InvalidParameterValue",
    );
    cli.fails(
        &["serve", "--listen", "127.0.0.1:0", "--tls-name", "kms.lan"],
        b"",
        "InvalidParameter",
    );
    cli.fails(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--tls-name",
            "bad name!",
        ],
        b"",
        "InvalidParameterValue",
    );
    let usage = cli.run(&["serve", "--tls", "--tls-cert", "x.pem"], b"");
    assert_eq!(usage.status.code(), Some(2), "--tls-cert needs --tls-key");
    let usage = cli.run(&["serve", "--insecure-http"], b"");
    assert_eq!(
        usage.status.code(),
        Some(2),
        "--insecure-http needs --allow-remote"
    );

    let mut child = cli
        .command(&["serve", "--listen", "127.0.0.1:0", "--tls"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut banner, mut trust) = (String::new(), String::new());
    use std::io::BufRead as _;
    stdout.read_line(&mut banner).unwrap();
    stdout.read_line(&mut trust).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        banner.starts_with("keyconsole API listening on https://127.0.0.1:"),
        "{banner}"
    );
    assert_eq!(
        trust.trim_end(),
        format!("Clients trust the local CA: {}", ca_path.display())
    );
    // The CA is the same one `api ca` printed: made once.
    assert_eq!(std::fs::read_to_string(&ca_path).unwrap(), pem);
}

/// A database secret through the CLI against a private MariaDB: created with the user's password
/// (a wrong one refused with the server's words), rotated, and a rotation killed (SIGKILL) after
/// each of its first three steps is finished by the next `secret rotate`.
#[test]
fn database_secrets_rotate_through_the_cli_and_survive_a_kill_after_every_step() {
    use keyconsole::testing::database::PrivateDatabase;
    use keyconsole::util::database::DbEngine;

    let database = PrivateDatabase::start(DbEngine::MySql).expect("a private MariaDB");
    database.create_user("orders", "first password 1").unwrap();
    let endpoint = database.endpoint("orders");
    let url = endpoint.to_string();
    let cli = Cli::new();
    let password_file = cli.file("password.txt");
    std::fs::write(&password_file, "wrong password\n").unwrap();
    let create = [
        "secret",
        "create",
        "orders-db",
        "--database",
        &url,
        "--password-file",
        p(&password_file),
        "--rotate-days",
        "30",
    ];
    let out = cli.run(&create, b"");
    expect_error(out, "FailedOperation", &create);
    std::fs::write(&password_file, "first password 1\n").unwrap();
    cli.ok(&create, b"");
    std::fs::remove_file(&password_file).unwrap();

    let current = |cli: &Cli| -> String {
        let json: serde_json::Value =
            serde_json::from_str(&cli.ok(&["secret", "get", "orders-db"], b"")).unwrap();
        assert_eq!(json["UserName"], "orders");
        json["Password"].as_str().unwrap().to_owned()
    };
    assert_eq!(current(&cli), "first password 1");
    let listed = cli.ok(&["secret", "list"], b"");
    assert!(
        listed.contains("database") && listed.contains("every 30 days"),
        "{listed}"
    );

    let version = cli.ok(&["secret", "rotate", "orders-db"], b"");
    assert_eq!(version.trim(), "SSM_v2");
    let password = current(&cli);
    assert!(endpoint.check_login(&password).is_ok());
    assert!(endpoint.check_login("first password 1").is_err());

    for step in ["1", "2", "3"] {
        let mut command = cli.command(&["secret", "rotate", "orders-db"]);
        command.env("KEYCONSOLE_TEST_ABORT_AFTER_ROTATION_STEP", step);
        let out = Cli::run_command(command, b"");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&out.status),
            Some(9),
            "killed after step {step}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rotation: serde_json::Value =
            serde_json::from_str(&cli.ok(&["secret", "rotation", "orders-db", "--json"], b""))
                .unwrap();
        assert!(rotation["PendingVersion"].is_string(), "{rotation}");
        cli.ok(&["secret", "rotate", "orders-db"], b"");
        let password = current(&cli);
        assert!(
            endpoint.check_login(&password).is_ok(),
            "after a kill at step {step} and one more rotation, the current password logs in"
        );
    }

    let history: serde_json::Value =
        serde_json::from_str(&cli.ok(&["secret", "rotation", "orders-db", "--json"], b"")).unwrap();
    assert_eq!(history["EnableRotation"], true);
    assert_eq!(history["History"].as_array().unwrap().len(), 4);
    cli.ok(&["secret", "rotation", "orders-db", "--disable"], b"");
    cli.fails(
        &[
            "secret",
            "put",
            "orders-db",
            "--version-id",
            "v9",
            "--value-stdin",
        ],
        b"x",
        "OperationDenied.AutoRotatedResource",
    );
    // No password in any file beside the keystore.
    for (path, bytes) in all_files(cli.dir.path()) {
        assert!(!contains(&bytes, current(&cli).as_bytes()), "{path:?}");
        assert!(!contains(&bytes, b"first password 1"), "{path:?}");
    }
}

/// The official Python SSM SDK against `serve` and a private MariaDB: an application fetches the
/// password by name and logs in, the secret rotates over the API, the next fetch logs in with the
/// new password (scripts/sdk/database_test.py). Run by scripts/sdk_test.sh, which installs the SDK
/// and PyMySQL and names their Python in KEYCONSOLE_SDK_PYTHON.
#[test]
#[ignore = "needs the official SDK; scripts/sdk_test.sh runs it"]
fn sdk_rotates_database_passwords() {
    use keyconsole::testing::database::PrivateDatabase;
    use keyconsole::util::database::DbEngine;

    let python = std::env::var("KEYCONSOLE_SDK_PYTHON").expect("KEYCONSOLE_SDK_PYTHON");
    let database = PrivateDatabase::start(DbEngine::MySql).expect("a private MariaDB");
    database.create_user("orders", "first password 1").unwrap();
    let cli = Cli::new();
    let password_file = cli.file("password.txt");
    std::fs::write(&password_file, "first password 1").unwrap();
    let url = database.endpoint("orders").to_string();
    cli.ok(
        &[
            "secret",
            "create",
            "orders-db",
            "--database",
            &url,
            "--password-file",
            p(&password_file),
        ],
        b"",
    );
    // An administrator registered as instance main-db, for CreateProductSecret (and the CLI's
    // own db-instance and secret create-product, checked here too).
    for sql in [
        "CREATE USER 'dba'@'%' IDENTIFIED BY 'dba password 1'",
        "GRANT ALL ON *.* TO 'dba'@'%' WITH GRANT OPTION",
        "CREATE DATABASE shop",
        "CREATE TABLE shop.orders (id INT)",
    ] {
        database.admin_execute(sql).unwrap();
    }
    let admin_file = cli.file("admin.txt");
    std::fs::write(&admin_file, "dba password 1\n").unwrap();
    let admin_url = database.endpoint("dba").to_string();
    cli.ok(
        &[
            "db-instance",
            "add",
            "main-db",
            &admin_url,
            "--password-file",
            p(&admin_file),
        ],
        b"",
    );
    assert!(cli.ok(&["db-instance", "list"], b"").contains("main-db"));
    let flow = cli.ok(
        &[
            "secret",
            "create-product",
            "reports-db",
            "--instance",
            "main-db",
            "--user-prefix",
            "reports",
            "--grant",
            "SELECT ON shop.orders",
        ],
        b"",
    );
    assert!(flow.trim().parse::<u64>().is_ok(), "{flow}");
    assert!(
        cli.ok(&["secret", "describe", "reports-db"], b"")
            .contains("reports_")
    );
    cli.fails(
        &[
            "secret",
            "create-product",
            "bad-db",
            "--instance",
            "main-db",
            "--user-prefix",
            "bad",
            "--grant",
            "SELECT ON nowhere.t",
        ],
        b"",
        "FailedOperation",
    );
    let credentials = cli.ok(&["api", "credentials"], b"");
    let field = |name: &str| crate::printed_field(&credentials, name);
    let (secret_id, secret_key) = (field("SecretId:"), field("SecretKey:"));
    let mut server = cli
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    use std::io::BufRead as _;
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    // "keyconsole API listening on http://127.0.0.1:PORT (SecretId …); …"
    let endpoint = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the banner names the address")
        .to_owned();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sdk");
    let out = Command::new(python)
        .arg(scripts.join("database_test.py"))
        .args([endpoint.as_str(), "orders-db"])
        .current_dir(&scripts)
        .env("KEYCONSOLE_SECRET_ID", secret_id)
        .env("KEYCONSOLE_SECRET_KEY", secret_key)
        .env("KEYCONSOLE_DB_HOST", "127.0.0.1")
        .env("KEYCONSOLE_DB_PORT", database.port.to_string())
        .env_remove("KEYCONSOLE_CA")
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", report.trim());
}

/// `secret list` shows every secret, however many pages the listing takes (before, it stopped
/// at the first 1,000 without a word).
#[test]
fn secret_list_shows_more_than_a_page() {
    let cli = Cli::new();
    let kms = keyconsole::kms::Kms::open(&cli.keystore, PASSWORD.as_bytes()).unwrap();
    let names: Vec<String> = (0..1005).map(|i| format!("app-{i:04}")).collect();
    let value = keyconsole::kms::SecretValue::Text(zeroize::Zeroizing::new("v".to_owned()));
    kms.create_secrets_at_once(&names, &value).unwrap();
    drop(kms);
    let listed: serde_json::Value =
        serde_json::from_str(&cli.ok(&["secret", "list", "--json"], b"")).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1005);
    assert!(listed.iter().any(|s| s["SecretName"] == "app-0000"));
    assert!(listed.iter().any(|s| s["SecretName"] == "app-1004"));
}

/// Kills the server it holds however the test ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The CLI of a teammate's machine manages a team's `keyconsole serve --tls` with `--endpoint`:
/// keys, encryption and secrets land in the server's keystore (this machine has none), the
/// server's codes come back as the CLI's, and what cannot work remotely says so.
#[test]
fn the_cli_manages_a_team_server_over_https() {
    let team = Cli::new();
    let credentials = team.ok(&["api", "credentials"], b"");
    let field = |name: &str| crate::printed_field(&credentials, name);
    let (secret_id, secret_key) = (field("SecretId:"), field("SecretKey:"));
    let ca = PathBuf::from(team.ok(&["api", "ca", "--path"], b"").trim_end());
    let mut child = team
        .command(&["serve", "--listen", "127.0.0.1:0", "--tls", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut banner = String::new();
    use std::io::BufRead as _;
    std::io::BufReader::new(stdout)
        .read_line(&mut banner)
        .unwrap();
    let endpoint = format!(
        "https://{}",
        banner
            .split("https://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the banner names the address")
    );

    // The teammate's machine: no keystore, no password; the credential in the environment.
    let mate = tempfile::tempdir().unwrap();
    let remote = |args: &[&str], key: &str, stdin: &[u8]| {
        let mut command = Command::new(BIN);
        command
            .arg("--endpoint")
            .arg(&endpoint)
            .arg("--ca")
            .arg(&ca)
            .args(args)
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LANGUAGE")
            .env_remove("KEYCONSOLE_PASSWORD")
            .env("KEYCONSOLE_KEYSTORE", mate.path().join("none.kcks"))
            .env("KEYCONSOLE_SECRET_ID", &secret_id)
            .env("KEYCONSOLE_SECRET_KEY", key);
        Cli::run_command(command, stdin)
    };
    let ok = |args: &[&str], stdin: &[u8]| {
        let out = remote(args, &secret_key, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let fails = |args: &[&str], stdin: &[u8], code: &str| {
        expect_error(remote(args, &secret_key, stdin), code, args);
    };

    // Keys.
    let key_id = ok(
        &[
            "key",
            "create",
            "--alias",
            "team-app",
            "--rotate-days",
            "30",
        ],
        b"",
    );
    let key_id = key_id.trim();
    let listed = ok(&["key", "list"], b"");
    assert!(
        listed.contains(key_id) && listed.contains("team-app"),
        "{listed}"
    );
    let described: serde_json::Value =
        serde_json::from_str(&ok(&["key", "describe", "team-app", "--json"], b"")).unwrap();
    assert_eq!(described["KeyId"], key_id);
    assert_eq!(described["RotateDays"], 30);
    assert_eq!(described["KeyRotationEnabled"], true);
    fails(
        &["key", "create", "--alias", "team-app"],
        b"",
        "InvalidParameterValue.AliasAlreadyExists",
    );
    ok(
        &["key", "update", key_id, "--description", "orders service"],
        b"",
    );

    // Encryption round trip, and a ciphertext the server's own CLI decrypts.
    let blob = ok(
        &[
            "encrypt",
            "--key",
            "team-app",
            "--context",
            r#"{"app":"orders"}"#,
        ],
        b"db password 1",
    );
    let blob = blob.trim();
    assert_eq!(
        ok(
            &["decrypt", "--context", r#"{"app":"orders"}"#],
            blob.as_bytes()
        ),
        "db password 1"
    );
    // The server's code for Decrypt (its documented one), passed on as it is.
    fails(
        &["decrypt"],
        blob.as_bytes(),
        "InvalidParameterValue.InvalidCiphertext",
    );
    assert_eq!(
        team.ok(
            &["decrypt", "--context", r#"{"app":"orders"}"#],
            blob.as_bytes()
        ),
        "db password 1"
    );
    let out_file = mate.path().join("blob.txt");
    ok(
        &["encrypt", "--key", key_id, "--out", p(&out_file)],
        b"to a file",
    );
    let from_file = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(ok(&["decrypt"], from_file.as_bytes()), "to a file");
    let again = ok(
        &["reencrypt", "--context", r#"{"app":"orders"}"#],
        blob.as_bytes(),
    );
    assert_eq!(
        ok(
            &["decrypt", "--context", r#"{"app":"orders"}"#],
            again.trim().as_bytes()
        ),
        "db password 1"
    );
    let data_key: serde_json::Value =
        serde_json::from_str(&ok(&["datakey", "--key", "team-app", "--json"], b"")).unwrap();
    let plaintext = STANDARD
        .decode(data_key["Plaintext"].as_str().unwrap())
        .unwrap();
    assert_eq!(plaintext.len(), 32);
    let decrypted = remote(
        &["decrypt"],
        &secret_key,
        data_key["CiphertextBlob"].as_str().unwrap().as_bytes(),
    );
    assert!(decrypted.status.success());
    assert_eq!(decrypted.stdout, plaintext);
    let random = ok(&["random", "--bytes", "24"], b"");
    assert_eq!(STANDARD.decode(random.trim()).unwrap().len(), 24);

    // State rules answer with the server's codes.
    fails(
        &["key", "schedule-deletion", key_id, "--days", "7"],
        b"",
        "ResourceUnavailable.CmkShouldBeDisabled",
    );
    ok(&["key", "disable", key_id], b"");
    fails(
        &["encrypt", "--key", key_id],
        b"x",
        "ResourceUnavailable.CmkDisabled",
    );
    let date = ok(&["key", "schedule-deletion", key_id, "--days", "7"], b"");
    assert!(date.trim().len() >= 10, "{date}");
    ok(&["key", "cancel-deletion", key_id], b"");
    ok(&["key", "enable", key_id], b"");
    // Tags are edited where the server runs: the cloud's API has no action for it here.
    fails(
        &["key", "tag", key_id, "--set", "env=prod"],
        b"",
        "UnsupportedOperation",
    );
    // RotateKey on the server: a new version at once.
    ok(&["key", "rotate", key_id], b"");
    let described: serde_json::Value =
        serde_json::from_str(&ok(&["key", "describe", key_id, "--json"], b"")).unwrap();
    assert!(
        described["LastRotateTime"].as_i64().unwrap() > 0,
        "{described}"
    );

    // Secrets.
    ok(
        &[
            "secret",
            "create",
            "orders-db",
            "--value-stdin",
            "--key",
            "team-app",
        ],
        b"first value",
    );
    assert_eq!(ok(&["secret", "get", "orders-db"], b""), "first value");
    ok(
        &[
            "secret",
            "put",
            "orders-db",
            "--version-id",
            "v2",
            "--value-stdin",
        ],
        b"second value",
    );
    assert_eq!(
        ok(&["secret", "get", "orders-db", "--version-id", "v2"], b""),
        "second value"
    );
    let versions = ok(&["secret", "versions", "orders-db"], b"");
    assert!(
        versions.contains("SSM_v1") && versions.contains("v2"),
        "{versions}"
    );
    let described = ok(&["secret", "describe", "orders-db"], b"");
    assert!(described.contains("orders-db"), "{described}");
    assert!(ok(&["secret", "list"], b"").contains("orders-db"));
    // DeleteSecret documents no OperationDenied: the server answers the common FailedOperation.
    fails(&["secret", "delete", "orders-db"], b"", "FailedOperation");
    // Rotation goes to the server, which answers for its own secrets; a database secret is made
    // on the server's machine, which logs in to the database.
    fails(
        &["secret", "rotate", "orders-db"],
        b"",
        "UnsupportedOperation",
    );
    fails(
        &[
            "secret",
            "rotation",
            "orders-db",
            "--enable",
            "--days",
            "30",
        ],
        b"",
        "UnsupportedOperation",
    );
    let db_password = mate.path().join("db-password.txt");
    std::fs::write(&db_password, "pw\n").unwrap();
    fails(
        &[
            "secret",
            "create",
            "orders-pg",
            "--database",
            "mysql://orders@127.0.0.1:1/",
            "--password-file",
            p(&db_password),
        ],
        b"",
        "UnsupportedOperation",
    );
    ok(&["secret", "disable", "orders-db"], b"");
    fails(
        &["secret", "get", "orders-db"],
        b"",
        "ResourceUnavailable.ResourceDisabled",
    );

    // All of it is in the team's keystore.
    assert!(
        team.ok(&["key", "describe", "team-app"], b"")
            .contains("orders service")
    );
    assert!(team.ok(&["secret", "list"], b"").contains("orders-db"));
    assert!(
        !mate.path().join("none.kcks").exists(),
        "no local keystore was made"
    );

    // What fails says why, with a code.
    expect_error(
        remote(&["key", "list"], "wrong secret key", b""),
        "AuthFailure.SignatureFailure",
        &["wrong key"],
    );
    let mut no_ca = Command::new(BIN);
    no_ca
        .args(["--endpoint", &endpoint, "key", "list"])
        .env_remove("KEYCONSOLE_CA")
        .env("KEYCONSOLE_SECRET_ID", &secret_id)
        .env("KEYCONSOLE_SECRET_KEY", &secret_key);
    let out = Cli::run_command(no_ca, b"");
    expect_error(
        out,
        "FailedOperation.ServerUnreachable",
        &["without the CA"],
    );
    let mut no_credentials = Command::new(BIN);
    no_credentials
        .args(["--endpoint", &endpoint, "--ca", p(&ca), "key", "list"])
        .env_remove("KEYCONSOLE_SECRET_ID")
        .env_remove("KEYCONSOLE_SECRET_KEY");
    expect_error(
        Cli::run_command(no_credentials, b""),
        "MissingParameter",
        &["no credentials"],
    );
    for bad in ["http://192.0.2.1:8080", "ftp://host", "https://"] {
        let mut command = Command::new(BIN);
        command
            .args(["--endpoint", bad, "key", "list"])
            .env("KEYCONSOLE_SECRET_ID", &secret_id)
            .env("KEYCONSOLE_SECRET_KEY", &secret_key);
        expect_error(
            Cli::run_command(command, b""),
            "InvalidParameterValue",
            &[bad],
        );
    }
    // Files stay on the teammate's machine; the server makes and opens their data keys, so a
    // file sealed remotely opens with the team's keystore, and one the team sealed opens remotely.
    let original: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let plain = mate.path().join("report.bin");
    std::fs::write(&plain, &original).unwrap();
    let sealed = mate.path().join("report.bin.kc");
    ok(
        &[
            "file",
            "encrypt",
            "--key",
            "team-app",
            p(&plain),
            p(&sealed),
        ],
        b"",
    );
    let opened_by_team = mate.path().join("opened-by-team.bin");
    team.ok(&["file", "decrypt", p(&sealed), p(&opened_by_team)], b"");
    assert_eq!(std::fs::read(&opened_by_team).unwrap(), original);
    let sealed_by_team = mate.path().join("team.kc");
    team.ok(
        &[
            "file",
            "encrypt",
            "--key",
            key_id,
            p(&plain),
            p(&sealed_by_team),
        ],
        b"",
    );
    let opened_remotely = mate.path().join("opened-remotely.bin");
    ok(
        &["file", "decrypt", p(&sealed_by_team), p(&opened_remotely)],
        b"",
    );
    assert_eq!(std::fs::read(&opened_remotely).unwrap(), original);
    // The server's rules hold for files too: a disabled key makes no data key.
    ok(&["key", "disable", key_id], b"");
    fails(
        &[
            "file",
            "encrypt",
            "--key",
            key_id,
            p(&plain),
            p(&mate.path().join("no.kc")),
        ],
        b"",
        "ResourceUnavailable.CmkDisabled",
    );
    assert!(!mate.path().join("no.kc").exists());
    fails(&["passwd"], b"", "UnsupportedOperation");
}

/// Key pairs and imported material through the real binary, checked with OpenSSL 3: sign and
/// verify (exit 1 for a signature that is not valid), decrypt --key, and the import of
/// OpenSSL-wrapped material.
#[test]
fn key_pairs_and_imported_material() {
    let cli = Cli::new();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(cli.dir.path())
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli.ok(
        &[
            "key",
            "create",
            "--alias",
            "signer",
            "--usage",
            "ASYMMETRIC_SIGN_VERIFY_ECC",
        ],
        b"",
    );
    let pem = cli.ok(&["key", "public-key", "signer", "--pem"], b"");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    std::fs::write(cli.file("signer.pem"), &pem).unwrap();
    std::fs::write(cli.file("msg"), b"release 2.4.0").unwrap();
    let sig = cli.file("msg.sig");
    cli.ok(
        &[
            "sign",
            "--key",
            "signer",
            "--in",
            cli.file("msg").to_str().unwrap(),
            "--out",
            sig.to_str().unwrap(),
        ],
        b"",
    );
    openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        "signer.pem",
        "-signature",
        "msg.sig",
        "msg",
    ]);
    let said = cli.ok(
        &[
            "verify",
            "--key",
            "signer",
            "--signature",
            sig.to_str().unwrap(),
        ],
        b"release 2.4.0",
    );
    assert_eq!(said.trim(), "Signature valid");
    let out = cli.run(
        &[
            "verify",
            "--key",
            "signer",
            "--signature",
            sig.to_str().unwrap(),
        ],
        b"release 2.4.1",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Signature NOT valid"
    );
    let b64 = cli.ok(&["sign", "--key", "signer"], b"release 2.4.0");
    cli.ok(
        &[
            "verify",
            "--key",
            "signer",
            "--signature-base64",
            b64.trim(),
        ],
        b"release 2.4.0",
    );
    cli.fails(
        &["encrypt", "--key", "signer"],
        b"x",
        "InvalidParameterValue.InvalidKeyUsage",
    );
    cli.fails(
        &["key", "rotate", "signer"],
        b"",
        "UnsupportedOperation.RotateNotSupported",
    );

    cli.ok(
        &[
            "key",
            "create",
            "--alias",
            "inbox",
            "--usage",
            "ASYMMETRIC_DECRYPT_SM2",
        ],
        b"",
    );
    std::fs::write(
        cli.file("inbox.pem"),
        cli.ok(&["key", "public-key", "inbox", "--pem"], b""),
    )
    .unwrap();
    std::fs::write(cli.file("secret"), b"s3cr3t").unwrap();
    openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        "inbox.pem",
        "-in",
        "secret",
        "-out",
        "secret.enc",
    ]);
    let opened = cli.ok(
        &[
            "decrypt",
            "--key",
            "inbox",
            "--in",
            cli.file("secret.enc").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(opened, "s3cr3t");
    // A plaintext given only encrypted to the caller's own key, which OpenSSL opens.
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        "mine.key",
    ]);
    openssl(&["pkey", "-in", "mine.key", "-pubout", "-out", "mine.pub"]);
    cli.ok(&["key", "create", "--alias", "sym"], b"");
    let blob = cli.ok(&["encrypt", "--key", "sym"], b"only for me");
    let sealed = cli.ok(
        &[
            "decrypt",
            "--encryption-public-key",
            cli.file("mine.pub").to_str().unwrap(),
            "--encryption-algorithm",
            "RSAES_OAEP_SHA_1",
        ],
        blob.as_bytes(),
    );
    std::fs::write(cli.file("sealed"), STANDARD.decode(sealed.trim()).unwrap()).unwrap();
    openssl(&[
        "pkeyutl",
        "-decrypt",
        "-inkey",
        "mine.key",
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-in",
        "sealed",
        "-out",
        "opened",
    ]);
    assert_eq!(std::fs::read(cli.file("opened")).unwrap(), b"only for me");

    cli.ok(
        &["key", "create", "--alias", "byok", "--external", "--sm4"],
        b"",
    );
    cli.fails(
        &["encrypt", "--key", "byok"],
        b"x",
        "ResourceUnavailable.CmkStateNotSupport",
    );
    let wrapping = cli.file("wrapping.pem");
    let printed = cli.ok(
        &[
            "key",
            "import-params",
            "byok",
            "--algorithm",
            "RSAES_OAEP_SHA_1",
            "--out",
            wrapping.to_str().unwrap(),
        ],
        b"",
    );
    let token = printed
        .lines()
        .find_map(|l| l.strip_prefix("ImportToken"))
        .unwrap()
        .trim()
        .to_owned();
    std::fs::write(cli.file("material"), [9u8; 16]).unwrap();
    openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        "wrapping.pem",
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-in",
        "material",
        "-out",
        "material.wrapped",
    ]);
    cli.ok(
        &[
            "key",
            "import",
            "byok",
            "--token",
            &token,
            "--material",
            cli.file("material.wrapped").to_str().unwrap(),
        ],
        b"",
    );
    let blob = cli.ok(&["encrypt", "--key", "byok"], b"guomi");
    assert_eq!(cli.ok(&["decrypt"], blob.as_bytes()), "guomi");
    let described = cli.ok(&["key", "describe", "byok"], b"");
    assert!(
        described.contains("EXTERNAL") && described.contains("SM4"),
        "{described}"
    );
    cli.ok(&["key", "delete-material", "byok"], b"");
    cli.fails(
        &["decrypt"],
        blob.as_bytes(),
        "ResourceUnavailable.CmkStateNotSupport",
    );
}

/// `keyconsole key describe k --json | head -1`: the reader goes away before the output is
/// written; the command ends quietly, as `cat` does, never with a panic.
#[test]
fn output_to_a_closed_pipe_ends_quietly() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "piped"], b"");
    let mut child = cli
        .command(&["key", "describe", "piped", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The read end is closed before the command writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `keyconsole user …`: the contract scripts read, and the policy checked when it is set.
#[test]
fn users_are_created_listed_rotated_and_deleted() {
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "app"], b"");
    let made: serde_json::Value = serde_json::from_str(&cli.ok(
        &[
            "user",
            "create",
            "alice",
            "--preset",
            "crypto-user",
            "--on",
            "app",
            "--json",
        ],
        b"",
    ))
    .unwrap();
    let secret_id = made["SecretId"].as_str().unwrap();
    assert!(secret_id.starts_with("AKID") && made["SecretKey"].as_str().unwrap().len() == 32);
    let plain = cli.ok(&["user", "create", "bob", "--preset", "read-only"], b"");
    assert!(
        plain.starts_with("SecretId: AKID") && plain.contains("\nSecretKey: "),
        "{plain}"
    );
    let listed = cli.ok(&["user", "list"], b"");
    assert!(
        listed.contains("alice\tenabled") && listed.contains(secret_id),
        "{listed}"
    );
    assert!(
        listed.contains("kms:Encrypt") && !listed.contains(made["SecretKey"].as_str().unwrap())
    );
    // A bad policy file is refused with the reason, and nothing changes.
    let policy = cli.dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"version":"2.0","statement":[{"effect":"allow","action":"kms:Encrpyt","resource":"*"}]}"#).unwrap();
    let refused = cli.run(
        &[
            "user",
            "policy",
            "alice",
            "--policy",
            policy.to_str().unwrap(),
        ],
        b"",
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("kms:Encrpyt"));
    let rotated: serde_json::Value = serde_json::from_str(&cli.ok(
        &[
            "user",
            "rotate-key",
            "alice",
            "--grace-hours",
            "2",
            "--json",
        ],
        b"",
    ))
    .unwrap();
    assert_ne!(rotated["SecretId"], made["SecretId"]);
    assert!(cli.ok(&["user", "list"], b"").contains("(until "));
    cli.ok(&["user", "disable", "bob"], b"");
    assert!(cli.ok(&["user", "list"], b"").contains("bob\tdisabled"));
    let huawei = cli.ok(&["user", "credentials", "alice", "--cloud", "huawei"], b"");
    assert!(
        huawei.starts_with("AK: ") && huawei.contains("\nSK: "),
        "{huawei}"
    );
    cli.ok(&["user", "delete", "bob"], b"");
    assert!(!cli.ok(&["user", "list"], b"").contains("bob"));
    let gone = cli.run(&["user", "delete", "bob"], b"");
    assert!(String::from_utf8_lossy(&gone.stderr).contains("ResourceNotFound.UserNotExist"));
}

/// A tmpfs of `bytes` mounted at `at` for as long as it lives (a disk that really fills up);
/// `None` where this process may not mount (not root, or a container without the right).
struct SmallDisk {
    at: PathBuf,
}

impl SmallDisk {
    fn mount(at: &Path, bytes: u64) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| SmallDisk { at: at.to_owned() })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.at).status();
    }
}

/// On a disk that is full, what must be recorded is refused and nothing is half done: a
/// decryption answers no plaintext, a change leaves the key as it was; with space again all works
/// and the chain is whole.
#[test]
fn a_full_disk_refuses_what_cannot_be_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = SmallDisk::mount(&dir.path().join("disk"), 1 << 20) else {
        eprintln!(
            "skipped: this process may not mount a tmpfs (the engine's test of a full disk still runs)"
        );
        return;
    };
    let cli = Cli {
        keystore: disk.at.join("keystore.kcks"),
        dir: tempfile::tempdir().unwrap(),
    };
    cli.ok(
        &["init", "--kdf-memory-mib", "1", "--kdf-iterations", "1"],
        b"",
    );
    cli.ok(&["key", "create", "--alias", "orders"], b"");
    let blob = cli.ok(&["encrypt", "--key", "orders"], b"the full-disk plaintext");
    let blob = blob.trim();

    // Take away the space the trail keeps in reserve past its end.
    let segment = disk.at.join("keystore.kcks.audit").join("000001.jsonl");
    let size = std::fs::metadata(&segment).unwrap().len();
    {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap();
        // SAFETY: a hole punched past the end of our own file's data.
        let punched = unsafe {
            libc::fallocate(
                file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                size as libc::off_t,
                (4 << 20) as libc::off_t,
            )
        };
        assert_eq!(punched, 0, "{}", std::io::Error::last_os_error());
    }
    // Then fill the disk.
    let filler = disk.at.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.write_all(&chunk[..1]);
    drop(file);

    // Decryptions go on while their events fit in the trail's last page; then each is refused,
    // without its plaintext.
    let mut answered = 0;
    let refused = loop {
        let out = cli.run(&["decrypt"], blob.as_bytes());
        if !out.status.success() {
            break out;
        }
        answered += 1;
        assert!(answered < 64, "a full disk never refused a decryption");
    };
    assert!(
        !contains(&refused.stdout, b"the full-disk plaintext"),
        "no plaintext"
    );
    expect_error(refused, "FailedOperation.AuditUnavailable", &["decrypt"]);
    let out = cli.run(&["key", "disable", "orders"], b"");
    assert_eq!(out.status.code(), Some(1), "the change is refused");

    std::fs::remove_file(&filler).unwrap();
    let described: serde_json::Value =
        serde_json::from_str(&cli.ok(&["key", "describe", "orders", "--json"], b"")).unwrap();
    assert_eq!(described["KeyState"], "Enabled", "nothing half done");
    assert_eq!(
        cli.ok(&["decrypt"], blob.as_bytes()),
        "the full-disk plaintext"
    );
    let verified = cli.ok(&["audit", "verify"], b"");
    assert!(verified.contains("intact"), "{verified}");
}

/// `audit prune`: says what would go until `--yes`, then removes the old segments and `audit
/// verify` says the rest is intact and where it begins. (The trail's segments are made small by
/// this test's own process; the binary's are 64 MiB.)
#[test]
fn audit_prune_asks_first_then_keeps_the_rest_verifiable() {
    use keyconsole::kms::service::{Caller, Face, KmsService};
    let cli = Cli::new();
    cli.ok(&["key", "create", "--alias", "logs"], b"");
    {
        let kms = keyconsole::kms::Kms::open(&cli.keystore, PASSWORD.as_bytes()).unwrap();
        let trail = kms.audit_trail().unwrap();
        trail.set_limits(Some(1500), None);
        let owner = Caller::local(Face::Cli, keyconsole::util::i18n::Language::English);
        for _ in 0..30 {
            KmsService::describe_key(&kms, &owner, "logs").unwrap();
        }
        trail.flush().unwrap();
    }
    let segments = |cli: &Cli| {
        keyconsole::kms::audit::segments_of(&cli.keystore.with_file_name("keystore.kcks.audit"))
    };
    let before = segments(&cli);
    assert!(before.len() >= 4, "{} segments", before.len());

    cli.fails(
        &["audit", "prune", "--before", "soon"],
        b"",
        "InvalidParameterValue",
    );
    let asked = cli.ok(&["audit", "prune", "--before", "2100-01-01"], b"");
    assert!(asked.starts_with("Would remove"), "{asked}");
    assert!(asked.contains("--yes"), "{asked}");
    assert_eq!(segments(&cli), before, "asking removes nothing");

    let done = cli.ok(&["audit", "prune", "--before", "2100-01-01", "--yes"], b"");
    assert!(done.starts_with("Removed"), "{done}");
    let left = segments(&cli);
    assert!(left.len() < before.len(), "{left:?}");
    let verified = cli.ok(&["audit", "verify"], b"");
    assert!(
        verified.contains("intact") && verified.contains("were pruned"),
        "{verified}"
    );
    let again = cli.ok(&["audit", "prune", "--before", "2000-01-01"], b"");
    assert!(again.starts_with("Nothing to prune"), "{again}");
}
