//! Making a database account for an application, logged in as an administrator: the user, its
//! password (sent as the server's own verifier, never in SQL, as `database` does), and its
//! privileges. All or nothing: if a grant is refused, the account is dropped again.
//!
//! Names are checked here too (letters, digits, `_`, `$`) and quoted as identifiers; privileges
//! come from a fixed list per engine. The caller (the engine) has already refused anything else
//! with the cloud's code; this is the second wall.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::database::{DbEndpoint, DbEngine, DbError, by, mysql_native_hash, run};

/// Where a privilege applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantLevel {
    /// Every database (MySQL/MariaDB `*.*`).
    Global,
    Database(String),
    /// A table of a database (PostgreSQL: in schema `schema`, `public` when empty).
    Table {
        database: String,
        schema: String,
        table: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub level: GrantLevel,
    /// Upper-case names from `allowed_privileges`.
    pub privileges: Vec<String>,
}

impl std::fmt::Display for Grant {
    /// `SELECT, INSERT ON shop.orders`, as the CLI takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = match &self.level {
            GrantLevel::Global => "*.*".to_owned(),
            GrantLevel::Database(database) => format!("{database}.*"),
            GrantLevel::Table {
                database,
                schema,
                table,
            } if schema.is_empty() => format!("{database}.{table}"),
            GrantLevel::Table {
                database,
                schema,
                table,
            } => format!("{database}.{schema}.{table}"),
        };
        write!(f, "{} ON {on}", self.privileges.join(", "))
    }
}

/// An account to make.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub user: String,
    /// MySQL/MariaDB's host part (`%`, an address, a pattern); PostgreSQL has none.
    pub host: String,
    pub password: Zeroizing<String>,
    pub grants: Vec<Grant>,
}

/// The privileges an account may be given at `level` on `engine`.
pub fn allowed_privileges(engine: DbEngine, level: &GrantLevel) -> Vec<&'static str> {
    // MySQL/MariaDB: what works on tables; a database adds routines, events and the like;
    // every database adds a few server-wide ones. Never SUPER, FILE, GRANT OPTION or users.
    const MYSQL_TABLE: &[&str] = &[
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "DROP",
        "INDEX",
        "ALTER",
        "CREATE VIEW",
        "SHOW VIEW",
        "TRIGGER",
        "REFERENCES",
    ];
    const MYSQL_DATABASE: &[&str] = &[
        "CREATE TEMPORARY TABLES",
        "LOCK TABLES",
        "EXECUTE",
        "CREATE ROUTINE",
        "ALTER ROUTINE",
        "EVENT",
    ];
    const MYSQL_SERVER: &[&str] = &[
        "PROCESS",
        "SHOW DATABASES",
        "REPLICATION CLIENT",
        "REPLICATION SLAVE",
    ];
    const POSTGRES_DATABASE: &[&str] = &["CONNECT", "CREATE", "TEMPORARY"];
    const POSTGRES_TABLE: &[&str] = &[
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
    ];
    let parts: &[&[&'static str]] = match (engine, level) {
        (DbEngine::MySql, GrantLevel::Global) => &[MYSQL_TABLE, MYSQL_DATABASE, MYSQL_SERVER],
        (DbEngine::MySql, GrantLevel::Database(_)) => &[MYSQL_TABLE, MYSQL_DATABASE],
        (DbEngine::MySql, GrantLevel::Table { .. }) => &[MYSQL_TABLE],
        (DbEngine::PostgreSql, GrantLevel::Global) => &[],
        (DbEngine::PostgreSql, GrantLevel::Database(_)) => &[POSTGRES_DATABASE],
        (DbEngine::PostgreSql, GrantLevel::Table { .. }) => &[POSTGRES_TABLE],
    };
    parts.concat()
}

/// A database, schema, table or user name: 1 to 64 letters, digits, `_` or `$`, not starting
/// with a digit.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// A MySQL host part: `%`, `localhost`, or letters, digits, `.`, `:`, `-`, `%`, `_`.
pub fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:-%_".contains(c))
}

fn refused(message: String) -> DbError {
    DbError::Refused {
        message,
        code: "keyconsole".to_owned(),
    }
}

fn check(account: &NewAccount, engine: DbEngine) -> Result<(), DbError> {
    if !is_plain_name(&account.user) {
        return Err(refused(format!(
            "{:?} is not a plain user name",
            account.user
        )));
    }
    if engine == DbEngine::MySql && !is_plain_host(&account.host) {
        return Err(refused(format!("{:?} is not a host pattern", account.host)));
    }
    for grant in &account.grants {
        let names = match &grant.level {
            GrantLevel::Global => vec![],
            GrantLevel::Database(database) => vec![database.as_str()],
            GrantLevel::Table {
                database,
                schema,
                table,
            } => {
                let mut names = vec![database.as_str(), table.as_str()];
                if !schema.is_empty() {
                    names.push(schema.as_str());
                }
                names
            }
        };
        if let Some(bad) = names.iter().find(|n| !is_plain_name(n)) {
            return Err(refused(format!("{bad:?} is not a plain name")));
        }
        let allowed = allowed_privileges(engine, &grant.level);
        if grant.privileges.is_empty() {
            return Err(refused("a grant names no privilege".to_owned()));
        }
        if let Some(bad) = grant
            .privileges
            .iter()
            .find(|p| !allowed.contains(&p.as_str()))
        {
            return Err(refused(format!("{bad:?} is not a privilege given here")));
        }
    }
    Ok(())
}

fn mysql_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn pg_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl DbEndpoint {
    /// Logged in as this endpoint's user (an administrator) with `admin_password`, makes
    /// `account` with its grants. Nothing is left behind when a step is refused.
    pub fn create_account(
        &self,
        admin_password: &str,
        account: &NewAccount,
    ) -> Result<(), DbError> {
        check(account, self.engine)?;
        let endpoint = self.clone();
        let admin_password = Zeroizing::new(admin_password.to_owned());
        let account = account.clone();
        run(move |deadline| async move {
            match endpoint.engine {
                DbEngine::MySql => {
                    mysql_create(&endpoint, &admin_password, &account, deadline).await
                }
                DbEngine::PostgreSql => {
                    postgres_create(&endpoint, &admin_password, &account, deadline).await
                }
            }
        })
    }

    /// Logged in as the administrator, drops `user` (at `host` for MySQL) and what it was given.
    pub fn drop_account(
        &self,
        admin_password: &str,
        user: &str,
        host: &str,
    ) -> Result<(), DbError> {
        if !is_plain_name(user) || (self.engine == DbEngine::MySql && !is_plain_host(host)) {
            return Err(refused(format!("{user:?}@{host:?} is not a plain account")));
        }
        let endpoint = self.clone();
        let admin_password = Zeroizing::new(admin_password.to_owned());
        let (user, host) = (user.to_owned(), host.to_owned());
        run(move |deadline| async move {
            match endpoint.engine {
                DbEngine::MySql => {
                    use mysql_async::prelude::Queryable;
                    let mut conn = by(deadline, endpoint.mysql_conn(&admin_password)).await?;
                    let statement = format!(
                        "DROP USER IF EXISTS {}@{}",
                        mysql_async::Value::from(user.as_str()).as_sql(false),
                        mysql_async::Value::from(host.as_str()).as_sql(false)
                    );
                    by(deadline, async {
                        conn.query_drop(statement)
                            .await
                            .map_err(super::database::mysql_error)
                    })
                    .await
                }
                DbEngine::PostgreSql => {
                    let client = by(
                        deadline,
                        endpoint.postgres_conn(&admin_password, "postgres"),
                    )
                    .await?;
                    let statement = format!("DROP ROLE IF EXISTS {}", pg_ident(&user));
                    by(deadline, client.execute_batch(&statement)).await
                }
            }
        })
    }
}

async fn mysql_create(
    endpoint: &DbEndpoint,
    admin_password: &str,
    account: &NewAccount,
    deadline: tokio::time::Instant,
) -> Result<(), DbError> {
    use mysql_async::prelude::Queryable;
    let mut conn = by(deadline, endpoint.mysql_conn(admin_password)).await?;
    let version: Option<String> = by(deadline, async {
        conn.query_first("SELECT VERSION()")
            .await
            .map_err(super::database::mysql_error)
    })
    .await?;
    let who = format!(
        "{}@{}",
        mysql_async::Value::from(account.user.as_str()).as_sql(false),
        mysql_async::Value::from(account.host.as_str()).as_sql(false)
    );
    // The password as the server's own hash (MariaDB and MySQL 5.7 take it as it is), so no log
    // of the statement holds it.
    let hash = Zeroizing::new(mysql_native_hash(&account.password));
    let create = if version.unwrap_or_default().contains("MariaDB") {
        Zeroizing::new(format!(
            "CREATE USER {who} IDENTIFIED BY PASSWORD '{}'",
            *hash
        ))
    } else {
        Zeroizing::new(format!(
            "CREATE USER {who} IDENTIFIED WITH mysql_native_password AS '{}'",
            *hash
        ))
    };
    by(deadline, async {
        conn.query_drop(create.as_str())
            .await
            .map_err(super::database::mysql_error)
    })
    .await?;
    for grant in &account.grants {
        let on = match &grant.level {
            GrantLevel::Global => "*.*".to_owned(),
            GrantLevel::Database(database) => format!("{}.*", mysql_ident(database)),
            GrantLevel::Table {
                database, table, ..
            } => format!("{}.{}", mysql_ident(database), mysql_ident(table)),
        };
        let statement = format!("GRANT {} ON {on} TO {who}", grant.privileges.join(", "));
        let granted = by(deadline, async {
            conn.query_drop(statement)
                .await
                .map_err(super::database::mysql_error)
        })
        .await;
        if let Err(e) = granted {
            // All or nothing: the account goes again.
            let _ = conn.query_drop(format!("DROP USER {who}")).await;
            return Err(e);
        }
    }
    let _ = conn.disconnect().await;
    Ok(())
}

async fn postgres_create(
    endpoint: &DbEndpoint,
    admin_password: &str,
    account: &NewAccount,
    deadline: tokio::time::Instant,
) -> Result<(), DbError> {
    let role = pg_ident(&account.user);
    let client = by(deadline, endpoint.postgres_conn(admin_password, "postgres")).await?;
    // The role and its database privileges in one transaction: all or nothing.
    let verifier = Zeroizing::new(postgres_protocol::password::scram_sha_256(
        account.password.as_bytes(),
    ));
    let mut statements = vec![
        "BEGIN".to_owned(),
        format!(
            "CREATE ROLE {role} LOGIN PASSWORD {}",
            postgres_protocol::escape::escape_literal(&verifier)
        ),
    ];
    for grant in &account.grants {
        if let GrantLevel::Database(database) = &grant.level {
            statements.push(format!(
                "GRANT {} ON DATABASE {} TO {role}",
                grant.privileges.join(", "),
                pg_ident(database)
            ));
        }
    }
    statements.push("COMMIT".to_owned());
    let script = Zeroizing::new(statements.join("; "));
    let made = by(deadline, client.execute_batch(&script)).await;
    if made.is_err() {
        let _ = client.execute_batch("ROLLBACK").await;
        return made;
    }
    drop(client);
    // Table privileges are granted inside each table's database.
    for grant in &account.grants {
        if let GrantLevel::Table {
            database,
            schema,
            table,
        } = &grant.level
        {
            let schema = if schema.is_empty() { "public" } else { schema };
            let granted = async {
                let there = by(deadline, endpoint.postgres_conn(admin_password, database)).await?;
                let statement = format!(
                    "GRANT {} ON TABLE {}.{} TO {role}",
                    grant.privileges.join(", "),
                    pg_ident(schema),
                    pg_ident(table)
                );
                by(deadline, there.execute_batch(&statement)).await
            }
            .await;
            if let Err(e) = granted {
                undo_postgres(endpoint, admin_password, account, deadline).await;
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Takes back what a half-made PostgreSQL account was given, then the role.
async fn undo_postgres(
    endpoint: &DbEndpoint,
    admin_password: &str,
    account: &NewAccount,
    deadline: tokio::time::Instant,
) {
    let role = pg_ident(&account.user);
    for grant in &account.grants {
        if let GrantLevel::Table { database, .. } = &grant.level
            && let Ok(there) = by(deadline, endpoint.postgres_conn(admin_password, database)).await
        {
            let _ = there.execute_batch(&format!("DROP OWNED BY {role}")).await;
        }
    }
    if let Ok(client) = by(deadline, endpoint.postgres_conn(admin_password, "postgres")).await {
        let _ = client
            .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}"))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hosts_and_privileges_are_checked() {
        assert!(is_plain_name("orders_app") && is_plain_name("a$b"));
        for bad in ["", "1abc", "a-b", "a b", "x`y", "a\"b", &"a".repeat(65)] {
            assert!(!is_plain_name(bad), "{bad}");
        }
        assert!(is_plain_host("%") && is_plain_host("10.0.%") && is_plain_host("::1"));
        assert!(!is_plain_host("a'b") && !is_plain_host(""));
        let account = |level, privilege: &str| NewAccount {
            user: "app".into(),
            host: "%".into(),
            password: Zeroizing::new("p".into()),
            grants: vec![Grant {
                level,
                privileges: vec![privilege.into()],
            }],
        };
        assert!(
            check(
                &account(GrantLevel::Database("shop".into()), "SELECT"),
                DbEngine::MySql
            )
            .is_ok()
        );
        assert!(check(&account(GrantLevel::Global, "SUPER"), DbEngine::MySql).is_err());
        assert!(check(&account(GrantLevel::Global, "SELECT"), DbEngine::PostgreSql).is_err());
        assert!(
            check(
                &account(GrantLevel::Database("shop; DROP".into()), "SELECT"),
                DbEngine::MySql
            )
            .is_err()
        );
        assert!(
            check(
                &account(GrantLevel::Database("shop".into()), "CONNECT"),
                DbEngine::PostgreSql
            )
            .is_ok()
        );
    }
}
