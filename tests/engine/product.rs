//! Product secrets against real servers: an administrator's connection registered once as an
//! instance makes the application's account (with exactly the privileges asked for), the account
//! is kept as a database secret that rotates, a refused grant leaves no account behind, and no
//! password reaches the servers' logs.

use keyconsole::kms::secrets::{CreateProductSecret, TaskStatus};
use keyconsole::kms::{ErrorCode, Kms, SecretValue};
use keyconsole::testing::TestKeystore;
use keyconsole::testing::database::PrivateDatabase;
use keyconsole::util::database::{DbEndpoint, DbEngine};
use keyconsole::util::db_accounts::{Grant, GrantLevel};
use serde_json::Value;

const ADMIN: &str = "dba";
const ADMIN_PASSWORD: &str = "dba password 1";

/// A private server with an administrator who may make accounts and grant, and a database `shop`
/// with a table `orders` (MariaDB).
fn start(engine: DbEngine) -> PrivateDatabase {
    let database = PrivateDatabase::start(engine).expect("a private database server");
    match engine {
        DbEngine::MySql => {
            for sql in [
                format!("CREATE USER '{ADMIN}'@'%' IDENTIFIED BY '{ADMIN_PASSWORD}'"),
                format!("GRANT ALL ON *.* TO '{ADMIN}'@'%' WITH GRANT OPTION"),
                "CREATE DATABASE shop".to_owned(),
                "CREATE TABLE shop.orders (id INT)".to_owned(),
                "INSERT INTO shop.orders VALUES (7)".to_owned(),
            ] {
                database.admin_execute(&sql).expect("set up MariaDB");
            }
        }
        DbEngine::PostgreSql => {
            for sql in [
                format!("CREATE ROLE {ADMIN} SUPERUSER LOGIN PASSWORD '{ADMIN_PASSWORD}'"),
                "CREATE DATABASE shop".to_owned(),
            ] {
                database.admin_execute(&sql).expect("set up PostgreSQL");
            }
        }
    }
    database
}

fn request(grants: Vec<Grant>, product: &str) -> CreateProductSecret {
    CreateProductSecret {
        name: "orders-app".to_owned(),
        description: "the orders service".to_owned(),
        key: None,
        instance_id: "main-db".to_owned(),
        product: product.to_owned(),
        user_name_prefix: "orders".to_owned(),
        domains: Vec::new(),
        grants,
        rotate_days: Some(30),
        rotation_begin: None,
        tags: Vec::new(),
    }
}

fn credentials(kms: &Kms, name: &str) -> (String, String) {
    let SecretValue::Text(json) = kms.get_secret_value(name, "SSM_Current").unwrap() else {
        panic!("database credentials are text")
    };
    let parsed: Value = serde_json::from_str(&json).unwrap();
    (
        parsed["UserName"].as_str().unwrap().to_owned(),
        parsed["Password"].as_str().unwrap().to_owned(),
    )
}

/// What `user` reads from shop.orders (MariaDB), or the server's refusal code.
fn select_orders(database: &PrivateDatabase, user: &str, password: &str) -> Result<i32, String> {
    let endpoint = database.endpoint(user);
    let password = password.to_owned();
    keyconsole::util::database::run(move |deadline| async move {
        use mysql_async::prelude::Queryable;
        let options = mysql_async::OptsBuilder::default()
            .ip_or_hostname(endpoint.host.clone())
            .tcp_port(endpoint.port)
            .user(Some(endpoint.user.clone()))
            .pass(Some(password))
            .prefer_socket(false);
        let mut conn = keyconsole::util::database::by(deadline, async {
            mysql_async::Conn::new(options)
                .await
                .map_err(keyconsole::util::database::mysql_error)
        })
        .await?;
        let value: Option<i32> = conn
            .query_first("SELECT id FROM shop.orders")
            .await
            .map_err(keyconsole::util::database::mysql_error)?;
        let _ = conn.disconnect().await;
        Ok(value.unwrap_or_default())
    })
    .map_err(|e| e.to_string())
}

#[test]
fn a_mariadb_account_is_made_with_its_privileges_and_rotates() {
    let database = start(DbEngine::MySql);
    let (_ks, kms) = TestKeystore::new();
    // A wrong administrator password is refused before anything is kept.
    let wrong = kms
        .add_db_instance("main-db", database.endpoint(ADMIN), "not it")
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::FailedOperation);
    assert!(kms.db_instances().is_empty());
    kms.add_db_instance("main-db", database.endpoint(ADMIN), ADMIN_PASSWORD)
        .unwrap();

    let select = vec![Grant {
        level: GrantLevel::Table {
            database: "shop".into(),
            schema: String::new(),
            table: "orders".into(),
        },
        privileges: vec!["SELECT".into()],
    }];
    let (name, flow) = kms.create_product_secret(request(select, "Mysql")).unwrap();
    let task = kms.product_task(flow).unwrap();
    assert_eq!(task.status, TaskStatus::Succeeded, "{}", task.description);
    let (user, password) = credentials(&kms, &name);
    assert!(user.starts_with("orders_") && user.len() == "orders_".len() + 6);
    assert_eq!(select_orders(&database, &user, &password), Ok(7));
    let described = kms.describe_secret(&name).unwrap();
    assert!(described.database.as_ref().unwrap().rotation_enabled);

    // It rotates like any database secret: the new password logs in, the old one no longer.
    kms.rotate_secret(&name, &mut |_| std::ops::ControlFlow::Continue(()))
        .unwrap();
    let (_, rotated) = credentials(&kms, &name);
    assert_ne!(rotated, password);
    assert_eq!(select_orders(&database, &user, &rotated), Ok(7));
    assert!(select_orders(&database, &user, &password).is_err());

    // A privilege keyconsole does not give is refused before any task starts.
    let super_grant = vec![Grant {
        level: GrantLevel::Global,
        privileges: vec!["SUPER".into()],
    }];
    let mut refused = request(super_grant, "Mysql");
    refused.name = "too-much".into();
    assert_eq!(
        kms.create_product_secret(refused).unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
    // A grant the server refuses (no such database) fails the task and leaves no account.
    let missing = vec![Grant {
        level: GrantLevel::Table {
            database: "nowhere".into(),
            schema: String::new(),
            table: "t".into(),
        },
        privileges: vec!["SELECT".into()],
    }];
    let mut failing = request(missing, "Mysql");
    failing.name = "failing-app".into();
    let (_, flow) = kms.create_product_secret(failing).unwrap();
    let task = kms.product_task(flow).unwrap();
    assert_eq!(task.status, TaskStatus::Failed);
    assert!(
        kms.describe_secret("failing-app").is_err(),
        "no secret for a failed task"
    );

    // No password the account ever had is in the server's logs (statement log included): it was
    // sent as the server's own hash. (The administrator's is, from this test's own setup.)
    let logged = database.logged();
    assert!(!logged.contains(password.as_str()) && !logged.contains(rotated.as_str()));
}

#[test]
fn a_postgresql_account_is_made_and_a_refused_grant_leaves_nothing() {
    let database = start(DbEngine::PostgreSql);
    let (_ks, kms) = TestKeystore::new();
    kms.add_db_instance("main-db", database.endpoint(ADMIN), ADMIN_PASSWORD)
        .unwrap();
    let connect = vec![Grant {
        level: GrantLevel::Database("shop".into()),
        privileges: vec!["CONNECT".into(), "CREATE".into()],
    }];
    // The instance is PostgreSQL: a MySQL product secret through it is refused.
    assert_eq!(
        kms.create_product_secret(request(connect.clone(), "Mysql"))
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameterValue
    );
    let (name, flow) = kms
        .create_product_secret(request(connect, "PostgreSQL"))
        .unwrap();
    assert_eq!(
        kms.product_task(flow).unwrap().status,
        TaskStatus::Succeeded
    );
    let (user, password) = credentials(&kms, &name);
    let endpoint = DbEndpoint {
        user: user.clone(),
        ..database.endpoint(ADMIN)
    };
    endpoint.check_login(&password).unwrap();

    // A table that is not there: the grant is refused, and the role made for it is gone again.
    let missing = vec![Grant {
        level: GrantLevel::Table {
            database: "shop".into(),
            schema: String::new(),
            table: "missing".into(),
        },
        privileges: vec!["SELECT".into()],
    }];
    let mut failing = request(missing, "PostgreSQL");
    failing.name = "failing-app".into();
    let (_, flow) = kms.create_product_secret(failing).unwrap();
    let task = kms.product_task(flow).unwrap();
    assert_eq!(task.status, TaskStatus::Failed);
    assert!(task.description.contains("42P01"), "{}", task.description);
    assert!(!database.logged().contains(password.as_str()));
}
