//! The two things a database secret needs from its database, with each engine's own maintained
//! client: log in as the user with a password, and, logged in as that user, change its own
//! password. Nothing here knows about secrets or keystores; every call is bounded by timeouts.
//!
//! The new password reaches the server as a bound parameter (MariaDB's `SET PASSWORD =
//! PASSWORD(?)`) or as a literal quoted by the driver's own escaping rules (MySQL's `ALTER USER`
//! and PostgreSQL's `ALTER ROLE`, which take no parameters); never by pasting it into SQL.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// How long connecting, and each read or write after it, may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DbEngine {
    /// MySQL or MariaDB.
    MySql,
    PostgreSql,
}

impl DbEngine {
    /// As a connection URL spells it (`mysql://`, `postgres://`).
    pub fn scheme(self) -> &'static str {
        match self {
            DbEngine::MySql => "mysql",
            DbEngine::PostgreSql => "postgres",
        }
    }

    /// As people call it.
    pub fn label(self) -> &'static str {
        match self {
            DbEngine::MySql => "MySQL/MariaDB",
            DbEngine::PostgreSql => "PostgreSQL",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            DbEngine::MySql => 3306,
            DbEngine::PostgreSql => 5432,
        }
    }

    pub fn from_scheme(scheme: &str) -> Option<DbEngine> {
        match scheme.to_ascii_lowercase().as_str() {
            "mysql" | "mariadb" => Some(DbEngine::MySql),
            "postgres" | "postgresql" => Some(DbEngine::PostgreSql),
            _ => None,
        }
    }
}

/// Where a database user logs in. Holds no password.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DbEndpoint {
    pub engine: DbEngine,
    pub host: String,
    pub port: u16,
    pub user: String,
}

impl fmt::Display for DbEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "{}://{}@{}:{}",
            self.engine.scheme(),
            self.user,
            host,
            self.port
        )
    }
}

impl DbEndpoint {
    /// Reads `mysql://USER@HOST:PORT` or `postgres://USER@HOST:PORT` (the port may be left out).
    /// A password in the URL is refused: it would end up in shell history and process lists.
    pub fn parse(url: &str) -> Result<DbEndpoint, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url:?} is not a database URL; write mysql://USER@HOST:PORT or postgres://USER@HOST:PORT"))?;
        let engine = DbEngine::from_scheme(scheme).ok_or_else(|| {
            format!(
                "{scheme:?} is not a supported database; use mysql (MySQL or MariaDB) or postgres"
            )
        })?;
        let rest = rest.trim_end_matches('/');
        let (user, host_port) = rest.rsplit_once('@').ok_or_else(|| {
            format!(
                "{url:?} names no user; write {}://USER@HOST:PORT",
                engine.scheme()
            )
        })?;
        if user.contains(':') {
            return Err(
                "Leave the password out of the URL; give it in a file (--password-file) instead."
                    .to_owned(),
            );
        }
        let (host, port) = split_host_port(host_port)
            .ok_or_else(|| format!("{host_port:?} is not HOST or HOST:PORT"))?;
        let endpoint = DbEndpoint {
            engine,
            host,
            port: port.unwrap_or(engine.default_port()),
            user: user.to_owned(),
        };
        endpoint.validate()?;
        Ok(endpoint)
    }

    /// The user, host and port are plain: no spaces, no control characters, within length.
    pub fn validate(&self) -> Result<(), String> {
        let plain = |text: &str| !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if self.user.is_empty() || self.user.len() > 64 || !plain(&self.user) {
            return Err("The database user must be 1 to 64 characters without spaces.".to_owned());
        }
        if self.host.is_empty()
            || self.host.len() > 255
            || !plain(&self.host)
            || self.host.contains(['/', '@', '?', '#'])
        {
            return Err(format!("{:?} is not a host name or address.", self.host));
        }
        if self.port == 0 {
            return Err("The port must be 1 to 65535.".to_owned());
        }
        Ok(())
    }

    /// Logs in with `password` and runs `SELECT 1`. The error is the server's own text.
    pub fn check_login(&self, password: &str) -> Result<(), String> {
        match self.engine {
            DbEngine::MySql => {
                let mut conn = self.mysql(password)?;
                mysql::prelude::Queryable::query_drop(&mut conn, "SELECT 1").map_err(mysql_error)
            }
            DbEngine::PostgreSql => {
                let mut client = self.postgres(password)?;
                client.simple_query("SELECT 1").map_err(postgres_error)?;
                Ok(())
            }
        }
    }

    /// Logs in with `current` and sets the user's own password to `new`.
    pub fn change_own_password(&self, current: &str, new: &str) -> Result<(), String> {
        match self.engine {
            DbEngine::MySql => {
                use mysql::prelude::Queryable;
                let mut conn = self.mysql(current)?;
                let mariadb = conn
                    .query_first::<String, _>("SELECT VERSION()")
                    .map_err(mysql_error)?
                    .is_some_and(|v| v.contains("MariaDB"));
                // Neither statement takes parameters: the literal is quoted by the driver's
                // escaping for this server's SQL mode.
                let literal =
                    Zeroizing::new(mysql::Value::from(new).as_sql(conn.no_backslash_escape()));
                let statement = Zeroizing::new(if mariadb {
                    // MariaDB lets a user change its own password without privileges only with
                    // SET PASSWORD (its ALTER USER needs CREATE USER even for oneself).
                    format!("SET PASSWORD = PASSWORD({})", *literal)
                } else {
                    // MySQL 5.7.6+ and 8.
                    format!("ALTER USER CURRENT_USER() IDENTIFIED BY {}", *literal)
                });
                conn.query_drop(statement.as_str()).map_err(mysql_error)
            }
            DbEngine::PostgreSql => {
                let mut client = self.postgres(current)?;
                // Utility statements take no parameters; the driver's literal escaping instead.
                let literal = Zeroizing::new(postgres_protocol::escape::escape_literal(new));
                let statement =
                    Zeroizing::new(format!("ALTER ROLE CURRENT_USER PASSWORD {}", *literal));
                client.batch_execute(&statement).map_err(postgres_error)
            }
        }
    }

    fn mysql(&self, password: &str) -> Result<mysql::Conn, String> {
        let options = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(self.host.as_str()))
            .tcp_port(self.port)
            .user(Some(self.user.as_str()))
            .pass(Some(password))
            .prefer_socket(false)
            .tcp_connect_timeout(Some(TIMEOUT))
            .read_timeout(Some(TIMEOUT))
            .write_timeout(Some(TIMEOUT));
        mysql::Conn::new(options).map_err(mysql_error)
    }

    fn postgres(&self, password: &str) -> Result<postgres::Client, String> {
        let mut config = postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(password)
            .dbname("postgres")
            .connect_timeout(TIMEOUT)
            .options(&format!("-c statement_timeout={}", TIMEOUT.as_millis()));
        config.connect(postgres::NoTls).map_err(postgres_error)
    }
}

fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        return Some((host.to_owned(), port));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Some((host.to_owned(), Some(port.parse().ok()?)))
        }
        Some(_) => Some((text.to_owned(), None)), // a bare IPv6 address
        None => Some((text.to_owned(), None)),
    }
}

/// The server's own words (`Access denied for user …`), without the driver's wrapping.
fn mysql_error(e: mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(server) => {
            format!("{} (MySQL error {})", server.message, server.code)
        }
        other => other.to_string(),
    }
}

fn postgres_error(e: postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (PostgreSQL {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_engine_user_host_and_port_but_never_a_password() {
        let e = DbEndpoint::parse("mysql://orders@127.0.0.1:3307").unwrap();
        assert_eq!(
            (e.engine, e.user.as_str(), e.host.as_str(), e.port),
            (DbEngine::MySql, "orders", "127.0.0.1", 3307)
        );
        assert_eq!(e.to_string(), "mysql://orders@127.0.0.1:3307");
        let p = DbEndpoint::parse("postgres://app@[::1]").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 5432));
        assert_eq!(p.to_string(), "postgres://app@[::1]:5432");
        assert_eq!(DbEndpoint::parse("mariadb://u@db").unwrap().port, 3306);
        for bad in [
            "orders@127.0.0.1",
            "oracle://u@h:1",
            "mysql://127.0.0.1:3306",
            "mysql://u:secret@h:3306",
            "mysql://u@h:99999",
            "mysql://u@h:0",
            "mysql://u@:3306",
            "mysql://a b@h",
        ] {
            assert!(DbEndpoint::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
