//! Database secrets against real servers: a private MariaDB and a private PostgreSQL, started by
//! the test in a temporary folder on a free loopback port. A rotation sets the new password in
//! the database, the old one stops working, `SSM_Current` reads the new one; a rotation cut off
//! after any step is finished by the next one (on a freshly opened engine, as after a crash).

use std::ops::ControlFlow;

use keyconsole::kms::secrets::{CreateDatabaseSecret, RotationStep};
use keyconsole::kms::{ErrorCode, Kms, SecretValue};
use keyconsole::testing::database::PrivateDatabase;
use keyconsole::testing::{TestKeystore, create};
use keyconsole::util::database::DbEngine;
use serde_json::Value;
use zeroize::Zeroizing;

const USER: &str = "orders";
const FIRST_PASSWORD: &str = "first password 1";

fn start(engine: DbEngine) -> PrivateDatabase {
    let database = PrivateDatabase::start(engine).expect("a private database server");
    database
        .create_user(USER, FIRST_PASSWORD)
        .expect("create the test user");
    database
}

fn request(database: &PrivateDatabase, name: &str, password: &str) -> CreateDatabaseSecret {
    CreateDatabaseSecret {
        name: name.to_owned(),
        description: "orders database".to_owned(),
        key: None,
        endpoint: database.endpoint(USER),
        password: Zeroizing::new(password.to_owned()),
        rotate_days: None,
    }
}

/// The password `SSM_Current` (or `version`) holds, from the JSON value.
fn password(kms: &Kms, name: &str, version: &str) -> String {
    let value = kms.get_secret_value(name, version).expect("readable");
    let SecretValue::Text(json) = value else {
        panic!("database credentials are text")
    };
    let parsed: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(parsed["UserName"], USER);
    parsed["Password"].as_str().expect("Password").to_owned()
}

fn logs_in(database: &PrivateDatabase, password: &str) -> bool {
    database.endpoint(USER).check_login(password).is_ok()
}

fn no_probe(_: RotationStep) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// The current password logs in and no other version's does (except a pending one mid-rotation).
fn assert_database_follows(kms: &Kms, database: &PrivateDatabase, name: &str) {
    let current = password(kms, name, "SSM_Current");
    assert!(logs_in(database, &current), "the current password logs in");
    let meta = kms.describe_secret(name).unwrap();
    let db = meta.database.expect("database metadata");
    assert_eq!(db.pending_version, None, "no rotation left pending");
    for (id, _) in kms.secret_versions(name).unwrap() {
        if id != db.current_version {
            assert!(
                !logs_in(database, &password(kms, name, &id)),
                "{id} no longer logs in"
            );
        }
    }
}

fn rotation_round_trip(engine: DbEngine) {
    let database = start(engine);
    let (ks, kms) = TestKeystore::new();

    let e = kms
        .create_database_secret(request(&database, "orders-db", "wrong password"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FailedOperation, "{e}");
    assert!(e.message.contains("Cannot log in"), "{e}");
    assert!(kms.describe_secret("orders-db").is_err(), "nothing created");

    let (_, first) = kms
        .create_database_secret(request(&database, "orders-db", FIRST_PASSWORD))
        .unwrap();
    assert_eq!(first, "SSM_v1");
    assert_eq!(password(&kms, "orders-db", "SSM_Current"), FIRST_PASSWORD);
    let json = keyconsole::api::tencent::shapes::describe_secret(
        &kms.describe_secret("orders-db").unwrap(),
    );
    assert_eq!(json["SecretType"], 1);

    let mut steps = Vec::new();
    let record = kms
        .rotate_secret("orders-db", &mut |step| {
            steps.push(step);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(steps, RotationStep::ALL);
    assert_eq!(record.version_id, "SSM_v2");
    let new_password = password(&kms, "orders-db", "SSM_Current");
    assert_ne!(new_password, FIRST_PASSWORD);
    assert_eq!(new_password.len(), 32);
    assert!(logs_in(&database, &new_password));
    assert!(
        !logs_in(&database, FIRST_PASSWORD),
        "the old password is refused"
    );
    assert_eq!(
        password(&kms, "orders-db", "SSM_v1"),
        FIRST_PASSWORD,
        "previous stays readable"
    );
    let meta = kms.describe_secret("orders-db").unwrap().database.unwrap();
    assert_eq!(
        (
            meta.current_version.as_str(),
            meta.previous_version.as_deref()
        ),
        ("SSM_v2", Some("SSM_v1"))
    );

    // A kill after each step, then a fresh engine (as after a restart) finishes the job.
    for stop_after in [
        RotationStep::PendingSaved,
        RotationStep::SetInDatabase,
        RotationStep::LoginTested,
    ] {
        let e = kms
            .rotate_secret("orders-db", &mut |step| {
                if step == stop_after {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Cancelled, "{e}");
        let reopened = ks.reopen();
        let current = password(&reopened, "orders-db", "SSM_Current");
        let pending = reopened
            .describe_secret("orders-db")
            .unwrap()
            .database
            .unwrap()
            .pending_version
            .expect("the cut-off rotation left its password pending");
        let pending_password = password(&reopened, "orders-db", &pending);
        // Never a password in the database that the keystore lacks.
        assert!(
            logs_in(&database, &current) || logs_in(&database, &pending_password),
            "after step {stop_after:?} the database holds a password the keystore has"
        );
        let record = reopened.rotate_secret("orders-db", &mut no_probe).unwrap();
        assert_eq!(
            record.version_id, pending,
            "the next rotation finishes the cut-off one"
        );
        assert_database_follows(&reopened, &database, "orders-db");
    }

    // A failure: the password changed behind our back. The database's words, the history, and
    // the secret unchanged; once the password is back, the next rotation goes through.
    kms.refresh().unwrap(); // the reopened engines rotated last
    let current = password(&kms, "orders-db", "SSM_Current");
    let set_password = |password: &str| match engine {
        DbEngine::MySql => database.admin_execute(&format!(
            "SET PASSWORD FOR '{USER}'@'%' = PASSWORD('{password}')"
        )),
        DbEngine::PostgreSql => {
            database.admin_execute(&format!("ALTER ROLE {USER} PASSWORD '{password}'"))
        }
    };
    set_password("changed elsewhere").unwrap();
    let e = kms.rotate_secret("orders-db", &mut no_probe).unwrap_err();
    assert_eq!(e.code, ErrorCode::FailedOperation, "{e}");
    let words = match engine {
        DbEngine::MySql => "wrong user name or password (MySQL 1045)",
        DbEngine::PostgreSql => "wrong user name or password (PostgreSQL 28P01)",
    };
    assert!(e.message.contains(words), "{e}");
    assert_eq!(password(&kms, "orders-db", "SSM_Current"), current);
    let detail = kms.rotation_detail("orders-db").unwrap();
    let last = detail.history.last().unwrap();
    assert!(!last.succeeded() && last.error.contains(words), "{last:?}");
    set_password(&current).unwrap();
    kms.rotate_secret("orders-db", &mut no_probe).unwrap();
    assert_database_follows(&kms, &database, "orders-db");

    // Values change by rotation only; the versions in use cannot be deleted.
    let text = SecretValue::Text(Zeroizing::new("x".to_owned()));
    let e = kms
        .put_secret_value("orders-db", "by-hand", text.clone())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AutoRotatedResource, "{e}");
    let e = kms
        .update_secret_value("orders-db", "SSM_v1", text)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AutoRotatedResource, "{e}");
    let current_id = kms
        .describe_secret("orders-db")
        .unwrap()
        .database
        .unwrap()
        .current_version;
    let e = kms
        .delete_secret_version("orders-db", &current_id)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationDenied, "{e}");
}

#[test]
fn mariadb_passwords_rotate_in_the_database_and_survive_a_kill_after_every_step() {
    rotation_round_trip(DbEngine::MySql);
}

#[test]
fn postgresql_passwords_rotate_in_the_database_and_survive_a_kill_after_every_step() {
    rotation_round_trip(DbEngine::PostgreSql);
}

/// The schedule, the version limit, and the CMK's state, on MariaDB with the test clock.
#[test]
fn automatic_rotation_the_version_limit_and_the_cmk() {
    let database = start(DbEngine::MySql);
    let (ks, kms) = TestKeystore::new();
    let key = create(&kms, "orders-key");
    let mut req = request(&database, "orders-db", FIRST_PASSWORD);
    req.key = Some("orders-key".to_owned());
    req.rotate_days = Some(7);
    kms.create_database_secret(req).unwrap();
    let json = keyconsole::api::tencent::shapes::describe_secret(
        &kms.describe_secret("orders-db").unwrap(),
    );
    assert_eq!(
        (
            json["RotationStatus"].as_bool(),
            json["RotationFrequency"].as_i64()
        ),
        (Some(true), Some(7))
    );
    assert!(kms.due_secret_rotations().is_empty());
    ks.clock.advance_days(7);
    assert_eq!(kms.due_secret_rotations(), ["orders-db"]);
    kms.rotate_due("orders-db").unwrap();
    assert!(
        kms.due_secret_rotations().is_empty(),
        "next due in 7 days again"
    );
    let detail = kms.rotation_detail("orders-db").unwrap();
    assert_eq!(
        detail.next_rotation_time,
        detail.last_rotation_time + 7 * 86_400
    );

    // Rules: 1-365 days; only database secrets rotate.
    assert_eq!(
        kms.set_secret_rotation("orders-db", true, Some(0), None)
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameterValue
    );
    kms.set_secret_rotation("orders-db", false, None, None)
        .unwrap();
    ks.clock.advance_days(30);
    assert!(kms.due_secret_rotations().is_empty(), "rotation off");

    // Twelve more rotations, an hour apart: never more than 10 versions, ids never reused.
    for _ in 0..12 {
        ks.clock.advance(3600);
        kms.rotate_secret("orders-db", &mut no_probe).unwrap();
    }
    let versions: Vec<String> = kms
        .secret_versions("orders-db")
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(versions.len(), 10);
    assert_eq!(versions.last().unwrap(), "SSM_v14");
    assert_database_follows(&kms, &database, "orders-db");
    // Faster than that, rotations stop at the limit rather than drop a version made within the
    // hour (a rotation that hung could still set it in the database).
    let refused = (0..12)
        .find_map(|_| kms.rotate_secret("orders-db", &mut no_probe).err())
        .expect("refused before twelve more");
    assert_eq!(refused.code, ErrorCode::LimitExceeded, "{refused}");
    assert_eq!(kms.secret_versions("orders-db").unwrap().len(), 10);
    assert_database_follows(&kms, &database, "orders-db");
    ks.clock.advance(3600);

    // A disabled CMK: the value is unreadable with the KMS reason, and rotation stops before
    // touching the database.
    let before = password(&kms, "orders-db", "SSM_Current");
    kms.disable_key(&key.key_id).unwrap();
    let e = kms
        .get_secret_value("orders-db", "SSM_Current")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::AccessKmsError, "{e}");
    let e = kms.rotate_secret("orders-db", &mut no_probe).unwrap_err();
    assert_eq!(e.code, ErrorCode::AccessKmsError, "{e}");
    // A schedule that falls due while the CMK cannot be used: one attempt, kept in the history,
    // then nothing until the retry interval has passed (never an attempt every tick).
    kms.set_secret_rotation("orders-db", true, Some(1), None)
        .unwrap(); // settings need no CMK
    ks.clock.advance_days(1);
    assert_eq!(kms.due_secret_rotations(), ["orders-db"]);
    let e = kms.rotate_due("orders-db").unwrap_err();
    assert_eq!(e.code, ErrorCode::AccessKmsError, "{e}");
    let last = kms
        .rotation_detail("orders-db")
        .unwrap()
        .history
        .pop()
        .unwrap();
    assert!(last.error.contains("AccessKmsError"), "{last:?}");
    assert!(
        kms.due_secret_rotations().is_empty(),
        "put off by the retry interval"
    );
    ks.clock.advance(3600);
    assert_eq!(kms.due_secret_rotations(), ["orders-db"]);
    kms.set_secret_rotation("orders-db", false, None, None)
        .unwrap();
    kms.enable_key(&key.key_id).unwrap();
    assert_eq!(password(&kms, "orders-db", "SSM_Current"), before);
    assert!(logs_in(&database, &before));

    // A disabled secret does not rotate.
    kms.disable_secret("orders-db").unwrap();
    assert_eq!(
        kms.rotate_secret("orders-db", &mut no_probe)
            .unwrap_err()
            .code,
        ErrorCode::ResourceDisabled
    );
}

/// Two processes rotate one secret while the first one's password-changing statement is held
/// up in the network for four seconds (a relay between keyconsole and the database): the second
/// process's rotations are refused while the first holds the secret's claim, and in the end the
/// current password logs in and no other does. Before the claim, the second process resumed and
/// finished rotations meanwhile, the held-up statement then set a stale password, and no current
/// password logged in again.
fn rotations_of_two_processes_never_lose_the_password(engine: DbEngine) {
    use keyconsole::testing::database::DelayingProxy;
    let database = start(engine);
    let proxy = DelayingProxy::start(
        database.port,
        b"PASSWORD",
        std::time::Duration::from_secs(4),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore.kcks");
    let kms = Kms::create(
        &path,
        keyconsole::testing::PASSWORD,
        keyconsole::testing::FAST_KDF,
    )
    .unwrap();
    let mut req = request(&database, "orders-db", FIRST_PASSWORD);
    req.endpoint.port = proxy.port;
    kms.create_database_secret(req).unwrap();

    let first = std::thread::spawn(move || {
        let result = kms.rotate_secret("orders-db", &mut no_probe);
        (kms, result)
    });
    // The other process: `keyconsole secret rotate`, again and again while the first waits.
    let rotate_elsewhere = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_keyconsole"))
            .args(["secret", "rotate", "orders-db"])
            .env("KEYCONSOLE_KEYSTORE", &path)
            .env(
                "KEYCONSOLE_PASSWORD",
                std::str::from_utf8(keyconsole::testing::PASSWORD).unwrap(),
            )
            .env("LANGUAGE", "en")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("the CLI runs")
    };
    let mut refused = 0;
    let started = std::time::Instant::now();
    while !first.is_finished() && started.elapsed() < std::time::Duration::from_secs(60) {
        let output = rotate_elsewhere();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            assert!(stderr.contains("OperationDenied"), "{stderr}");
            refused += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (kms, result) = first.join().unwrap();
    result.expect("the held-up rotation finishes");
    assert!(
        refused > 0,
        "the other process tried while the first held the claim"
    );
    // Afterwards the other process rotates as usual.
    let output = rotate_elsewhere();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    kms.refresh().unwrap();
    let meta = kms.describe_secret("orders-db").unwrap().database.unwrap();
    assert_eq!(meta.pending_version, None);
    assert_database_follows(&kms, &database, "orders-db");
    drop(proxy);
}

#[test]
fn mariadb_rotations_of_two_processes_never_lose_the_password() {
    rotations_of_two_processes_never_lose_the_password(DbEngine::MySql);
}

#[test]
fn postgresql_rotations_of_two_processes_never_lose_the_password() {
    rotations_of_two_processes_never_lose_the_password(DbEngine::PostgreSql);
}

/// No server log holds a password the rotations set: the statement carries the server's own
/// verifier (every statement is logged: MariaDB's general log, PostgreSQL's log_statement = all).
fn no_password_reaches_the_server_log(engine: DbEngine) {
    let database = start(engine);
    let (_ks, kms) = TestKeystore::new();
    kms.create_database_secret(request(&database, "orders-db", FIRST_PASSWORD))
        .unwrap();
    for _ in 0..2 {
        kms.rotate_secret("orders-db", &mut no_probe).unwrap();
    }
    assert_database_follows(&kms, &database, "orders-db");
    let logged = database.logged();
    assert!(
        logged.contains("PASSWORD"),
        "the log records statements:\n{logged}"
    );
    for (id, _) in kms.secret_versions("orders-db").unwrap() {
        let password = password(&kms, "orders-db", &id);
        if id != "SSM_v1" {
            assert!(!logged.contains(&password), "{id}'s password is in the log");
        }
    }
}

#[test]
fn mariadb_logs_hold_no_password() {
    no_password_reaches_the_server_log(DbEngine::MySql);
}

#[test]
fn postgresql_logs_hold_no_password() {
    no_password_reaches_the_server_log(DbEngine::PostgreSql);
}

/// Rotations against a database that is not there: each fails with what happened in plain words
/// in either language (not the driver's debugging text), is kept in the history (the last 50),
/// and the attempt count (the API's FlowID) keeps counting past 50.
#[test]
fn failed_rotations_keep_counting_and_say_what_happened() {
    use keyconsole::util::database::DbEndpoint;
    use keyconsole::util::i18n::Language;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_ks, kms) = TestKeystore::new();
    kms.create_database_secret_unchecked(
        CreateDatabaseSecret {
            name: "gone-db".to_owned(),
            description: String::new(),
            key: None,
            endpoint: DbEndpoint {
                engine: DbEngine::MySql,
                host: "127.0.0.1".to_owned(),
                port: closed,
                user: USER.to_owned(),
            },
            password: Zeroizing::new(FIRST_PASSWORD.to_owned()),
            rotate_days: None,
        },
        Vec::new(),
    )
    .unwrap();
    let mut last = None;
    for _ in 0..55 {
        let e = kms.rotate_secret("gone-db", &mut no_probe).unwrap_err();
        assert_eq!(e.code, ErrorCode::FailedOperation, "{e}");
        last = Some(e);
    }
    let e = last.unwrap();
    assert!(e.message.contains("refused the connection"), "{e}");
    for debug_text in ["Io(", "Error {", "CodecError", "kind:"] {
        assert!(!e.message.contains(debug_text), "{e}");
    }
    assert!(
        e.localized(Language::SimplifiedChinese)
            .contains("服务器拒绝了连接"),
        "{}",
        e.localized(Language::SimplifiedChinese)
    );
    let detail = kms.rotation_detail("gone-db").unwrap();
    assert_eq!(detail.history.len(), 50);
    assert_eq!(detail.attempts, 55);
    let record = detail.history.last().unwrap();
    assert!(!record.succeeded() && record.uncertain, "{record:?}");
    // The secret keeps its password, and no claim is left behind.
    assert_eq!(password(&kms, "gone-db", "SSM_Current"), FIRST_PASSWORD);
}

/// The connection breaks right after the new password was sent, and the statement reaches the
/// server two seconds later: the rotation cannot know whether it was applied. It is recorded as
/// uncertain and tried again within a minute (not an hour), and that attempt finds the database
/// holding the new password and finishes.
fn an_uncertain_outcome_is_resolved_within_a_minute(engine: DbEngine) {
    use keyconsole::testing::database::DelayingProxy;
    let database = start(engine);
    let proxy = DelayingProxy::start_with(
        database.port,
        b"PASSWORD",
        std::time::Duration::from_secs(2),
        true,
    );
    let (ks, kms) = TestKeystore::new();
    let mut req = request(&database, "orders-db", FIRST_PASSWORD);
    req.endpoint.port = proxy.port;
    kms.create_database_secret(req).unwrap();
    let e = kms.rotate_secret("orders-db", &mut no_probe).unwrap_err();
    assert_eq!(e.code, ErrorCode::FailedOperation, "{e}");
    let detail = kms.rotation_detail("orders-db").unwrap();
    assert!(detail.history.last().unwrap().uncertain, "{detail:?}");
    let pending = detail.pending_version.expect("still pending");
    // The held-back statement lands: the database now holds the pending password.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(logs_in(&database, &password(&kms, "orders-db", &pending)));
    assert!(!logs_in(&database, FIRST_PASSWORD));
    assert!(kms.due_secret_rotations().is_empty(), "just tried");
    ks.clock.advance(61);
    assert_eq!(kms.due_secret_rotations(), ["orders-db"]);
    let record = kms.rotate_due("orders-db").unwrap();
    assert_eq!(record.version_id, pending);
    assert_database_follows(&kms, &database, "orders-db");
}

#[test]
fn mariadb_uncertain_outcomes_are_resolved_within_a_minute() {
    an_uncertain_outcome_is_resolved_within_a_minute(DbEngine::MySql);
}

#[test]
fn postgresql_uncertain_outcomes_are_resolved_within_a_minute() {
    an_uncertain_outcome_is_resolved_within_a_minute(DbEngine::PostgreSql);
}
