//! The two things a database secret needs from its database, with each engine's own maintained
//! async client: log in as the user with a password, and, logged in as that user, change its own
//! password. Nothing here knows about secrets or keystores.
//!
//! Every call runs on one small runtime of this module's own, under one overall deadline
//! (`DEADLINE`: connecting, logging in and the statement together), and at most
//! `MAX_CALLS_IN_FLIGHT` at once in a process; a call past that is refused at once (`Busy`)
//! rather than queued. When the deadline passes, the call's future is dropped and its socket
//! closed, so a silent or stopped server, or one that sends a byte every few seconds, holds
//! nothing past the deadline, and the threads that wait for keystore changes never wait for a
//! database.
//!
//! The new password never travels in SQL: the statement carries the server's own verifier of it,
//! computed here (MariaDB's `mysql_native_password` hash, PostgreSQL's SCRAM-SHA-256 verifier), so
//! a server log that records the statement (a general log, `log_statement`, a failed statement
//! logged by `log_min_error_statement`) holds no password. MySQL proper (not MariaDB) is sent
//! `ALTER USER … IDENTIFIED BY` with the password as a literal: MySQL rewrites that statement in
//! its logs (`log_raw` off), and we have no MySQL server to test a verifier against.

use std::fmt;
use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::util::i18n::{Language, Text};

/// How long one database call may take in all: connecting, logging in, and its statement.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Database calls under way at once in a process (the API server's blocking pool has 8 threads:
/// at most half of them ever wait for a database).
pub const MAX_CALLS_IN_FLIGHT: usize = 4;

/// Why a database call did not do what was asked, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// The server said no (a wrong password, a missing privilege): its own words and code.
    /// Nothing was changed.
    Refused { message: String, code: String },
    /// The server could not be reached, or the connection failed before anything was changed.
    Unreachable(UnreachableWhy),
    /// No answer within `DEADLINE`, before anything was changed.
    TimedOut,
    /// The statement that changes the password was sent, and then the connection broke or the
    /// deadline passed: the server may or may not have applied it.
    Uncertain(Box<DbError>),
    /// `MAX_CALLS_IN_FLIGHT` database calls are under way in this process already.
    Busy,
}

/// What went wrong on the way to a server, without the driver's debugging text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnreachableWhy {
    Refused,
    HostUnreachable,
    Closed,
    NotThisProtocol,
    Network,
}

/// What a server's refusal code means, for the codes a password rotation meets.
fn known_refusal(code: &str) -> Option<Text> {
    Some(match code {
        "MySQL 1045" | "PostgreSQL 28P01" | "PostgreSQL 28000" => {
            crate::text!("errors.db_wrong_user_or_password")
        }
        "MySQL 1044" | "MySQL 1142" | "MySQL 1227" | "PostgreSQL 42501" => {
            crate::text!("errors.db_not_allowed")
        }
        "MySQL 1049" | "PostgreSQL 3D000" => crate::text!("errors.db_no_such_database"),
        "MySQL 1819" => crate::text!("errors.db_password_policy"),
        "MySQL 1040" | "PostgreSQL 53300" => crate::text!("errors.db_too_many_connections"),
        _ => return None,
    })
}

impl DbError {
    /// Whether the password change this error ended may have been applied all the same.
    pub fn may_have_applied(&self) -> bool {
        matches!(self, DbError::Uncertain(_))
    }

    /// Whether the server answered at all (a refusal, not silence or a broken network).
    pub fn is_refusal(&self) -> bool {
        matches!(self, DbError::Refused { .. })
    }

    pub fn text(&self) -> Text {
        match self {
            // The refusals people meet every day in the console's own words (the server's are
            // English whatever the console speaks); any other with the server's words.
            DbError::Refused { message, code } => match known_refusal(code) {
                Some(reason) => crate::text!(
                    "errors.db_refused_reason_code",
                    reason = reason,
                    code = code
                ),
                None => crate::text!(
                    "errors.the_database_said_message_code",
                    message = message,
                    code = code
                ),
            },
            DbError::Unreachable(why) => match why {
                UnreachableWhy::Refused => {
                    crate::text!("errors.db_the_server_refused_the_connection")
                }
                UnreachableWhy::HostUnreachable => {
                    crate::text!("errors.db_the_host_cannot_be_reached")
                }
                UnreachableWhy::Closed => {
                    crate::text!("errors.db_the_server_closed_the_connection")
                }
                UnreachableWhy::NotThisProtocol => {
                    crate::text!("errors.db_the_server_does_not_speak_the")
                }
                UnreachableWhy::Network => crate::text!("errors.db_the_network_failed"),
            },
            DbError::TimedOut => crate::text!(
                "errors.db_no_answer_within_seconds",
                seconds = DEADLINE.as_secs()
            ),
            DbError::Uncertain(why) => {
                crate::text!("errors.db_the_new_password_was_sent_then", why = why.text())
            }
            DbError::Busy => crate::text!(
                "errors.db_calls_are_under_way_already",
                calls = MAX_CALLS_IN_FLIGHT
            ),
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().render(Language::English))
    }
}

/// The runtime every database call runs on: one worker thread of its own, so a database never
/// takes a thread of the API server or the console.
fn runtime() -> Result<&'static tokio::runtime::Runtime, DbError> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .max_blocking_threads(2)
                .thread_name("keyconsole-db")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
        .ok_or(DbError::Unreachable(UnreachableWhy::Network))
}

static CALLS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// A place among the calls in flight, given back when dropped.
struct CallSlot;

impl CallSlot {
    fn take() -> Result<CallSlot, DbError> {
        CALLS_IN_FLIGHT
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_CALLS_IN_FLIGHT).then_some(n + 1)
            })
            .map(|_| CallSlot)
            .map_err(|_| DbError::Busy)
    }
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        CALLS_IN_FLIGHT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `call` on the database runtime and waits for it, from any thread that may block. `call`
/// gets the instant its deadline passes; it is dropped (its connections closed) at that instant
/// plus a second at the latest, whatever it is doing.
pub fn run<T: Send + 'static, F>(call: impl FnOnce(tokio::time::Instant) -> F) -> Result<T, DbError>
where
    F: Future<Output = Result<T, DbError>> + Send + 'static,
{
    let slot = CallSlot::take()?;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let work = call(deadline);
    let (done, result) = std::sync::mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        let outcome = tokio::time::timeout_at(deadline + Duration::from_secs(1), work)
            .await
            .unwrap_or(Err(DbError::TimedOut));
        // The place is given back before the caller hears: a call made right after this one
        // returned is never refused as Busy because of it.
        drop(slot);
        let _ = done.send(outcome);
    });
    result
        .recv()
        .unwrap_or(Err(DbError::Unreachable(UnreachableWhy::Network)))
}

/// `step` within the call's deadline; past it, `TimedOut`.
pub async fn by<T>(
    deadline: tokio::time::Instant,
    step: impl Future<Output = Result<T, DbError>>,
) -> Result<T, DbError> {
    tokio::time::timeout_at(deadline, step)
        .await
        .unwrap_or(Err(DbError::TimedOut))
}

/// The error of a statement that changes the password: anything but the server's own refusal
/// leaves it unknown whether the change was applied.
fn after_sending(e: DbError) -> DbError {
    match e {
        DbError::Refused { .. } | DbError::Busy | DbError::Uncertain(_) => e,
        other => DbError::Uncertain(Box::new(other)),
    }
}

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

    /// Logs in with `password` and runs `SELECT 1`.
    pub fn check_login(&self, password: &str) -> Result<(), DbError> {
        let endpoint = self.clone();
        let password = Zeroizing::new(password.to_owned());
        run(move |deadline| async move { by(deadline, endpoint.login(&password)).await })
    }

    /// Which of `passwords` logs in, each tried at once beside the others within one deadline:
    /// `Some(index)` of the first that does (in the order given), `None` when the server refused
    /// every one. An error when the server could not say (unreachable, silent, busy).
    pub fn which_logs_in(&self, passwords: &[&str]) -> Result<Option<usize>, DbError> {
        let endpoint = self.clone();
        let passwords: Vec<Zeroizing<String>> = passwords
            .iter()
            .map(|p| Zeroizing::new((*p).to_owned()))
            .collect();
        run(move |deadline| async move {
            let tries = passwords
                .iter()
                .map(|password| by(deadline, endpoint.login(password)));
            let results = futures_util::future::join_all(tries).await;
            if let Some(index) = results.iter().position(Result::is_ok) {
                return Ok(Some(index));
            }
            match results
                .into_iter()
                .find(|r| !matches!(r, Err(e) if e.is_refusal()))
            {
                Some(Err(e)) => Err(e),
                _ => Ok(None),
            }
        })
    }

    /// Logs in with `current` and sets the user's own password to `new`. `Uncertain` when the
    /// statement was sent but its answer never came.
    pub fn change_own_password(&self, current: &str, new: &str) -> Result<(), DbError> {
        let endpoint = self.clone();
        let current = Zeroizing::new(current.to_owned());
        let new = Zeroizing::new(new.to_owned());
        run(move |deadline| async move {
            match endpoint.engine {
                DbEngine::MySql => {
                    use mysql_async::prelude::Queryable;
                    let mut conn = by(deadline, endpoint.mysql(&current)).await?;
                    let server: Option<(String, String)> = by(deadline, async {
                        conn.query_first("SELECT VERSION(), @@SESSION.sql_mode")
                            .await
                            .map_err(mysql_error)
                    })
                    .await?;
                    let (version, sql_mode) = server.unwrap_or_default();
                    let statement = if version.contains("MariaDB") {
                        // MariaDB lets a user change its own password without privileges only
                        // with SET PASSWORD; given the hash, it stores it as it is.
                        Zeroizing::new(format!("SET PASSWORD = '{}'", mysql_native_hash(&new)))
                    } else {
                        // MySQL 5.7.6+ and 8: the literal quoted for this server's SQL mode.
                        let no_backslash_escape = sql_mode.contains("NO_BACKSLASH_ESCAPES");
                        let literal = Zeroizing::new(
                            mysql_async::Value::from(new.as_str()).as_sql(no_backslash_escape),
                        );
                        Zeroizing::new(format!(
                            "ALTER USER CURRENT_USER() IDENTIFIED BY {}",
                            *literal
                        ))
                    };
                    let sent = by(deadline, async {
                        conn.query_drop(statement.as_str())
                            .await
                            .map_err(mysql_error)
                    })
                    .await;
                    sent.map_err(after_sending)?;
                    let _ = by(deadline, async {
                        conn.disconnect().await.map_err(mysql_error)
                    })
                    .await;
                    Ok(())
                }
                DbEngine::PostgreSql => {
                    let client = by(deadline, endpoint.postgres(&current)).await?;
                    // ALTER ROLE stores a SCRAM verifier given in place of a password as it is.
                    let verifier =
                        Zeroizing::new(postgres_protocol::password::scram_sha_256(new.as_bytes()));
                    let statement = Zeroizing::new(format!(
                        "ALTER ROLE CURRENT_USER PASSWORD {}",
                        postgres_protocol::escape::escape_literal(&verifier)
                    ));
                    by(deadline, async {
                        client
                            .batch_execute(&statement)
                            .await
                            .map_err(postgres_error)
                    })
                    .await
                    .map_err(after_sending)
                }
            }
        })
    }

    /// Logs in with `password` and runs `SELECT 1` (on the database runtime).
    async fn login(&self, password: &str) -> Result<(), DbError> {
        match self.engine {
            DbEngine::MySql => {
                use mysql_async::prelude::Queryable;
                let mut conn = self.mysql(password).await?;
                conn.query_drop("SELECT 1").await.map_err(mysql_error)?;
                let _ = conn.disconnect().await;
                Ok(())
            }
            DbEngine::PostgreSql => {
                let client = self.postgres(password).await?;
                client
                    .simple_query("SELECT 1")
                    .await
                    .map_err(postgres_error)?;
                Ok(())
            }
        }
    }

    pub(crate) async fn mysql_conn(&self, password: &str) -> Result<mysql_async::Conn, DbError> {
        self.mysql(password).await
    }

    async fn mysql(&self, password: &str) -> Result<mysql_async::Conn, DbError> {
        let options = mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.host.as_str())
            .tcp_port(self.port)
            .user(Some(self.user.as_str()))
            .pass(Some(password))
            .prefer_socket(false)
            .stmt_cache_size(0);
        mysql_async::Conn::new(options).await.map_err(mysql_error)
    }

    /// Runs `sql` logged in with `password` (the tests' superuser statements).
    #[cfg(feature = "testing")]
    pub fn execute_for_tests(&self, password: &str, sql: &str) -> Result<(), DbError> {
        let endpoint = self.clone();
        let password = Zeroizing::new(password.to_owned());
        let sql = sql.to_owned();
        run(move |deadline| async move {
            let client = by(deadline, endpoint.postgres(&password)).await?;
            by(deadline, async {
                client.batch_execute(&sql).await.map_err(postgres_error)
            })
            .await
        })
    }

    /// A client whose connection runs beside it on the database runtime, and ends with it.
    async fn postgres(&self, password: &str) -> Result<PostgresClient, DbError> {
        self.postgres_conn(password, "postgres").await
    }

    /// The same, connected to `database`.
    pub(crate) async fn postgres_conn(
        &self,
        password: &str,
        database: &str,
    ) -> Result<PostgresClient, DbError> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(password)
            .dbname(database)
            .connect_timeout(DEADLINE)
            .options(format!("-c statement_timeout={}", DEADLINE.as_millis()));
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(postgres_error)?;
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(PostgresClient { client, connection })
    }
}

/// A PostgreSQL client and the task that carries its connection: dropping it (at the end of a
/// call, or when the deadline passes) ends both and closes the socket.
pub(crate) struct PostgresClient {
    client: tokio_postgres::Client,
    connection: tokio::task::JoinHandle<()>,
}

impl std::ops::Deref for PostgresClient {
    type Target = tokio_postgres::Client;
    fn deref(&self) -> &tokio_postgres::Client {
        &self.client
    }
}

impl PostgresClient {
    /// Runs `sql` (one or more statements), the server's refusal as a `DbError`.
    pub(crate) async fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).await.map_err(postgres_error)
    }
}

impl Drop for PostgresClient {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// MySQL's and MariaDB's `mysql_native_password` hash: `*` and the upper-case hex of
/// SHA1(SHA1(password)), what `PASSWORD('…')` computes on the server.
pub fn mysql_native_hash(password: &str) -> String {
    use sha1::{Digest, Sha1};
    let inner = Zeroizing::new(Sha1::digest(password.as_bytes()).to_vec());
    let outer = Sha1::digest(&inner);
    format!("*{}", crate::util::hex(&outer).to_ascii_uppercase())
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

fn io_why(e: &std::io::Error) -> UnreachableWhy {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => UnreachableWhy::Refused,
        HostUnreachable | NetworkUnreachable | AddrNotAvailable | NotFound => {
            UnreachableWhy::HostUnreachable
        }
        ConnectionReset | ConnectionAborted | UnexpectedEof | BrokenPipe => UnreachableWhy::Closed,
        InvalidData => UnreachableWhy::NotThisProtocol,
        TimedOut => UnreachableWhy::Network,
        _ => UnreachableWhy::Network,
    }
}

/// The server's own words (`Access denied for user …`) and code; anything else as what happened,
/// without the driver's debugging text.
pub fn mysql_error(e: mysql_async::Error) -> DbError {
    match e {
        mysql_async::Error::Server(server) => DbError::Refused {
            message: server.message,
            code: format!("MySQL {}", server.code),
        },
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => DbError::Unreachable(io_why(&io)),
        mysql_async::Error::Driver(_) => DbError::Unreachable(UnreachableWhy::NotThisProtocol),
        _ => DbError::Unreachable(UnreachableWhy::Network),
    }
}

pub(crate) fn postgres_error(e: tokio_postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        return DbError::Refused {
            message: db.message().to_owned(),
            code: format!("PostgreSQL {}", db.code().code()),
        };
    }
    let io = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    match io {
        Some(io) => DbError::Unreachable(io_why(io)),
        None if e.is_closed() => DbError::Unreachable(UnreachableWhy::Closed),
        None => DbError::Unreachable(UnreachableWhy::NotThisProtocol),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback server that takes connections and then says nothing (`dribble` empty), or
    /// sends `dribble`'s first chunk and then one byte every two seconds: what a stopped or
    /// throttled database looks like from the client.
    fn fake_server(dribble: &'static [u8]) -> u16 {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    if dribble.is_empty() {
                        std::thread::sleep(Duration::from_secs(60));
                        return;
                    }
                    let _ = stream.write_all(dribble);
                    for _ in 0..30 {
                        std::thread::sleep(Duration::from_secs(2));
                        if stream.write_all(b"\x0a").is_err() {
                            return;
                        }
                    }
                });
            }
        });
        port
    }

    /// Every call ends by its deadline, whatever the server does (before, a silent PostgreSQL
    /// held a call for ever and a MySQL server sending a byte every few seconds for minutes),
    /// and calls past `MAX_CALLS_IN_FLIGHT` are refused at once instead of piling up.
    #[test]
    fn silent_and_dribbling_servers_are_given_up_and_calls_are_bounded() {
        let endpoint = |engine, port| DbEndpoint {
            engine,
            host: "127.0.0.1".to_owned(),
            port,
            user: "app".to_owned(),
        };
        let servers = [
            endpoint(DbEngine::MySql, fake_server(b"")),
            endpoint(DbEngine::PostgreSql, fake_server(b"")),
            // A MySQL greeting that announces a long packet, then trickles it.
            endpoint(DbEngine::MySql, fake_server(b"\xff\xff\x00\x00\x0a")),
            // A PostgreSQL authentication request that announces a long message, likewise.
            endpoint(DbEngine::PostgreSql, fake_server(b"R\x00\x00\xff\xff")),
        ];
        assert_eq!(servers.len(), MAX_CALLS_IN_FLIGHT);
        let calls: Vec<_> = servers
            .iter()
            .cloned()
            .map(|server| std::thread::spawn(move || server.check_login("password")))
            .collect();
        let waiting = std::time::Instant::now();
        while CALLS_IN_FLIGHT.load(Ordering::Acquire) < MAX_CALLS_IN_FLIGHT {
            assert!(
                waiting.elapsed() < Duration::from_secs(10),
                "the calls never started"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            servers[0].change_own_password("password", "new password"),
            Err(DbError::Busy)
        );
        for (call, server) in calls.into_iter().zip(&servers) {
            let result = call.join().unwrap();
            let e = result.expect_err("nothing logs in");
            assert!(
                matches!(e, DbError::TimedOut | DbError::Unreachable(_)),
                "{server}: {e:?}"
            );
            assert!(!e.to_string().contains("Error"), "{e}");
        }
        assert_eq!(CALLS_IN_FLIGHT.load(Ordering::Acquire), 0);
    }

    /// The hash the server's own `PASSWORD('password')` gives (a widely published value).
    #[test]
    fn the_native_hash_is_the_servers() {
        assert_eq!(
            mysql_native_hash("password"),
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
    }

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
