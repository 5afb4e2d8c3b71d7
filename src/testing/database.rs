//! A private MariaDB or PostgreSQL server for the tests: its own data folder in a temporary
//! directory, a free loopback port, started by the test and stopped and removed when dropped.
//! No system service is touched. The servers come from Debian's packages (`scripts/test.sh`
//! installs them); as root, MariaDB runs with `--user=root` and PostgreSQL (which refuses root)
//! as `nobody`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::database::{DbEndpoint, DbEngine};

/// The superuser's password of a private PostgreSQL (MariaDB's root logs in by socket only).
const ADMIN_PASSWORD: &str = "private-admin-password";

pub struct PrivateDatabase {
    pub engine: DbEngine,
    pub port: u16,
    dir: tempfile::TempDir,
    server: Child,
}

impl std::fmt::Debug for PrivateDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PrivateDatabase({:?} on 127.0.0.1:{})",
            self.engine, self.port
        )
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    let mut folders: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    folders.extend(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from));
    // Debian keeps PostgreSQL's server programs under its major version.
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        folders.extend(versions.into_iter().rev());
    }
    folders
        .into_iter()
        .map(|folder| folder.join(name))
        .find(|path| path.is_file())
}

fn program(name: &str) -> Result<PathBuf, String> {
    find_program(name).ok_or_else(|| {
        format!("{name} is not installed; scripts/test.sh installs mariadb-server and postgresql")
    })
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `command` to completion; its output in the error when it fails.
fn run(mut command: Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("{command:?} did not start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// PostgreSQL refuses to run as root: as root, run it as `nobody`.
fn as_postgres_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        command.arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn give_to_nobody(path: &Path) -> Result<(), String> {
    if !is_root() {
        return Ok(());
    }
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| "a path with a NUL".to_owned())?;
    // SAFETY: a valid NUL-terminated path; chown only changes ownership.
    if unsafe { libc::chown(c_path.as_ptr(), 65534, 65534) } != 0 {
        return Err(format!(
            "chown {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

impl PrivateDatabase {
    /// Initializes and starts a server; waits until it takes logins (at most 60 s).
    pub fn start(engine: DbEngine) -> Result<PrivateDatabase, String> {
        let dir = tempfile::Builder::new()
            .prefix("keyconsole-db-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let port = free_port()?;
        let server = match engine {
            DbEngine::MySql => Self::start_mariadb(dir.path(), port)?,
            DbEngine::PostgreSql => Self::start_postgres(dir.path(), port)?,
        };
        let database = PrivateDatabase {
            engine,
            port,
            dir,
            server,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match database.admin_execute("SELECT 1") {
                Ok(()) => break,
                Err(e) if Instant::now() > deadline => {
                    return Err(format!(
                        "{database:?} did not come up: {e}; {}",
                        database.log()
                    ));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        if engine == DbEngine::MySql {
            // No anonymous accounts: they would shadow the users the tests make.
            database.admin_execute("DELETE FROM mysql.global_priv WHERE User = ''")?;
            database.admin_execute("FLUSH PRIVILEGES")?;
        }
        Ok(database)
    }

    fn start_mariadb(dir: &Path, port: u16) -> Result<Child, String> {
        let data = dir.join("data");
        // Its own temporary folder: two servers set up at once must not share table files.
        let tmp = dir.join("tmp");
        std::fs::create_dir(&tmp).map_err(|e| e.to_string())?;
        let user = if is_root() {
            "root".to_owned()
        } else {
            std::env::var("USER").unwrap_or_else(|_| "nobody".to_owned())
        };
        let mut install = Command::new(program("mariadb-install-db")?);
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--user={user}"))
            .arg(format!("--tmpdir={}", tmp.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        run(install)?;
        Command::new(program("mariadbd")?)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--user={user}"))
            .arg(format!("--port={port}"))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--socket={}", dir.join("socket").display()))
            .arg(format!("--pid-file={}", dir.join("pid").display()))
            .arg(format!("--log-error={}", dir.join("server.log").display()))
            .arg("--general-log")
            .arg(format!(
                "--general-log-file={}",
                dir.join("general.log").display()
            ))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("mariadbd did not start: {e}"))
    }

    fn start_postgres(dir: &Path, port: u16) -> Result<Child, String> {
        give_to_nobody(dir)?;
        let password_file = dir.join("admin-password");
        std::fs::write(&password_file, ADMIN_PASSWORD).map_err(|e| e.to_string())?;
        give_to_nobody(&password_file)?;
        let data = dir.join("data");
        let mut init = as_postgres_user(&program("initdb")?);
        init.arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-E", "UTF8", "--no-sync"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", password_file.display()));
        run(init)?;
        let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
        as_postgres_user(&program("postgres")?)
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .args(["-h", "127.0.0.1"])
            .arg("-k")
            .arg(dir)
            .args(["-c", "fsync=off", "-c", "shared_buffers=16MB"])
            // Every statement in the log, so tests can check that no password reaches it.
            .args(["-c", "log_statement=all"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("postgres did not start: {e}"))
    }

    /// Where `user` logs in.
    pub fn endpoint(&self, user: &str) -> DbEndpoint {
        DbEndpoint {
            engine: self.engine,
            host: "127.0.0.1".to_owned(),
            port: self.port,
            user: user.to_owned(),
        }
    }

    /// A new login user with `password` (test names and passwords: letters, digits, spaces).
    pub fn create_user(&self, user: &str, password: &str) -> Result<(), String> {
        let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
        match self.engine {
            DbEngine::MySql => {
                self.admin_execute(&format!(
                    "CREATE USER {}@'%' IDENTIFIED BY {}",
                    quoted(user),
                    quoted(password)
                ))?;
                self.admin_execute(&format!("GRANT SELECT ON mysql.* TO {}@'%'", quoted(user)))
            }
            DbEngine::PostgreSql => self.admin_execute(&format!(
                "CREATE ROLE \"{user}\" LOGIN PASSWORD {}",
                quoted(password)
            )),
        }
    }

    /// Runs one statement as the server's superuser.
    pub fn admin_execute(&self, sql: &str) -> Result<(), String> {
        let sql = sql.to_owned();
        match self.engine {
            DbEngine::MySql => {
                let socket = self
                    .dir
                    .path()
                    .join("socket")
                    .to_string_lossy()
                    .into_owned();
                crate::util::database::run(move |deadline| async move {
                    use mysql_async::prelude::Queryable;
                    let options = mysql_async::OptsBuilder::default()
                        .socket(Some(socket))
                        .user(Some("root"));
                    let mut conn = crate::util::database::by(deadline, async {
                        mysql_async::Conn::new(options)
                            .await
                            .map_err(crate::util::database::mysql_error)
                    })
                    .await?;
                    let done = conn
                        .query_drop(sql)
                        .await
                        .map_err(crate::util::database::mysql_error);
                    let _ = conn.disconnect().await;
                    done
                })
                .map_err(|e| e.to_string())
            }
            DbEngine::PostgreSql => {
                let admin = DbEndpoint {
                    engine: DbEngine::PostgreSql,
                    host: "127.0.0.1".to_owned(),
                    port: self.port,
                    user: "postgres".to_owned(),
                };
                admin
                    .execute_for_tests(ADMIN_PASSWORD, &sql)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// What the server logged: its error log, and every statement it was sent (MariaDB's general
    /// log, PostgreSQL's `log_statement = all`), so tests can look for passwords in it.
    pub fn logged(&self) -> String {
        let mut text = self.log();
        text.push_str(
            &std::fs::read_to_string(self.dir.path().join("general.log")).unwrap_or_default(),
        );
        text
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for PrivateDatabase {
    fn drop(&mut self) {
        // SIGTERM: both servers shut down cleanly on it; then the folder goes with the TempDir.
        if let Ok(pid) = i32::try_from(self.server.id()) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.server.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// A loopback relay in front of a database that holds back the first client packet holding
/// `needle` (a password-changing statement stuck in the network) for `delay`, then forwards it.
/// Everything else passes at once. With `cut_client`, the client's connection is closed the
/// moment that packet arrives (the client never learns whether it was applied), while the packet
/// still reaches the server after the delay. Stops accepting when dropped; its connections end
/// with their peers.
pub struct DelayingProxy {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl DelayingProxy {
    pub fn start(target_port: u16, needle: &'static [u8], delay: Duration) -> DelayingProxy {
        Self::start_with(target_port, needle, delay, false)
    }

    pub fn start_with(
        target_port: u16,
        needle: &'static [u8],
        delay: Duration,
        cut_client: bool,
    ) -> DelayingProxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        listener.set_nonblocking(true).expect("non-blocking accept");
        let stop = Arc::new(AtomicBool::new(false));
        let delayed_once = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let accepting = std::thread::spawn(move || {
            while !stopping.load(Ordering::Acquire) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                let (Ok(client_reader), Ok(server_writer)) =
                    (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                let delayed_once = delayed_once.clone();
                let Ok(client_to_cut) = client.try_clone() else {
                    continue;
                };
                std::thread::spawn(move || {
                    relay(client_reader, server_writer, |chunk| {
                        if super::contains(chunk, needle)
                            && !delayed_once.swap(true, Ordering::AcqRel)
                        {
                            if cut_client {
                                let _ = client_to_cut.shutdown(std::net::Shutdown::Both);
                            }
                            std::thread::sleep(delay);
                        }
                    })
                });
                std::thread::spawn(move || relay(server, client, |_| {}));
            }
        });
        DelayingProxy {
            port,
            stop,
            accepting: Some(accepting),
        }
    }
}

impl Drop for DelayingProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

/// Copies `from` to `to` until either closes, showing each chunk to `inspect` before sending it.
fn relay(
    mut from: std::net::TcpStream,
    mut to: std::net::TcpStream,
    mut inspect: impl FnMut(&[u8]),
) {
    use std::io::{Read, Write};
    let mut buffer = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buffer) {
        if n == 0 {
            break;
        }
        inspect(&buffer[..n]);
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
}

/// Databases that live in memory, for the rotation's rules: users and their passwords, and what
/// the next password change does (`fail_next_change`). Reached through the engine's
/// `DatabaseDriver`, as the real servers are.
#[derive(Clone, Default)]
pub struct FakeDatabases(std::sync::Arc<std::sync::Mutex<FakeState>>);

#[derive(Default)]
struct FakeState {
    passwords: std::collections::HashMap<String, String>,
    faults: std::collections::VecDeque<ChangeFault>,
    changes: usize,
}

/// How a password change goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeFault {
    /// The server says no; nothing changes.
    Refuse,
    /// The change is applied, and then the connection breaks before its answer.
    AppliedAnswerLost,
    /// The connection breaks after the statement was sent, before the server applied it.
    LostBeforeApplied,
}

impl FakeDatabases {
    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    pub fn create_user(&self, endpoint: &DbEndpoint, password: &str) {
        self.with(|s| {
            s.passwords
                .insert(endpoint.to_string(), password.to_owned())
        });
    }

    pub fn password_of(&self, endpoint: &DbEndpoint) -> Option<String> {
        self.with(|s| s.passwords.get(&endpoint.to_string()).cloned())
    }

    pub fn fail_next_change(&self, fault: ChangeFault) {
        self.with(|s| s.faults.push_back(fault));
    }

    /// Password changes asked for, however they went.
    pub fn changes(&self) -> usize {
        self.with(|s| s.changes)
    }
}

fn refused() -> crate::util::database::DbError {
    crate::util::database::DbError::Refused {
        message: "Access denied".to_owned(),
        code: "1045".to_owned(),
    }
}

impl crate::kms::secrets::driver::DatabaseDriver for FakeDatabases {
    fn check_login(
        &self,
        endpoint: &DbEndpoint,
        password: &str,
    ) -> Result<(), crate::util::database::DbError> {
        match self.password_of(endpoint) {
            Some(stored) if stored == password => Ok(()),
            _ => Err(refused()),
        }
    }

    fn which_logs_in(
        &self,
        endpoint: &DbEndpoint,
        passwords: &[&str],
    ) -> Result<Option<usize>, crate::util::database::DbError> {
        let stored = self.password_of(endpoint);
        Ok(passwords.iter().position(|p| stored.as_deref() == Some(*p)))
    }

    fn change_own_password(
        &self,
        endpoint: &DbEndpoint,
        current: &str,
        new: &str,
    ) -> Result<(), crate::util::database::DbError> {
        use crate::util::database::{DbError, UnreachableWhy};
        self.check_login(endpoint, current)?;
        self.with(|s| {
            s.changes += 1;
            let lost =
                || DbError::Uncertain(Box::new(DbError::Unreachable(UnreachableWhy::Closed)));
            match s.faults.pop_front() {
                Some(ChangeFault::Refuse) => Err(refused()),
                Some(ChangeFault::LostBeforeApplied) => Err(lost()),
                Some(ChangeFault::AppliedAnswerLost) => {
                    s.passwords.insert(endpoint.to_string(), new.to_owned());
                    Err(lost())
                }
                None => {
                    s.passwords.insert(endpoint.to_string(), new.to_owned());
                    Ok(())
                }
            }
        })
    }

    /// The new account logs in at the admin's server with its password.
    fn create_account(
        &self,
        admin: &DbEndpoint,
        admin_password: &str,
        account: &crate::util::db_accounts::NewAccount,
    ) -> Result<(), crate::util::database::DbError> {
        self.check_login(admin, admin_password)?;
        let user = DbEndpoint {
            user: account.user.clone(),
            ..admin.clone()
        };
        self.create_user(&user, &account.password);
        Ok(())
    }

    fn drop_account(
        &self,
        admin: &DbEndpoint,
        _admin_password: &str,
        account: &crate::util::db_accounts::NewAccount,
    ) -> Result<(), crate::util::database::DbError> {
        let user = DbEndpoint {
            user: account.user.clone(),
            ..admin.clone()
        };
        self.with(|s| s.passwords.remove(&user.to_string()));
        Ok(())
    }
}
