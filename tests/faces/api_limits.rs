//! Nothing a client, a pipe or another process does stalls the API: idle connections are closed,
//! connections are capped, a stdout nobody reads drops log lines instead of requests, a change
//! waiting for the keystore lock does not hold up reads, and `serve` runs without core dumps.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyconsole::api::{AccessLog, ApiServer, ServerConfig};
use keyconsole::kms::{ApiCredentials, SharedKms};
use keyconsole::store::lock;
use keyconsole::testing::api_client::{Signer, call};
use keyconsole::testing::{PASSWORD, TestKeystore, create};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_keyconsole");

fn signer<'a>(credentials: &'a ApiCredentials, timestamp: i64) -> Signer<'a> {
    Signer {
        secret_id: &credentials.secret_id,
        secret_key: credentials.secret_key.as_str(),
        timestamp,
    }
}

fn start(config: ServerConfig) -> (TestKeystore, SharedKms, ApiCredentials, ApiServer) {
    let (keystore, kms) = TestKeystore::new();
    create(&kms, "k");
    let credentials = kms.api_credentials().unwrap();
    let kms = SharedKms::new(kms);
    let server = ApiServer::start(kms.clone(), &config, Arc::new(AccessLog::new(10))).unwrap();
    (keystore, kms, credentials, server)
}

fn encrypt(addr: SocketAddr, credentials: &ApiCredentials, now: i64) -> String {
    let reply = call(
        addr,
        "Encrypt",
        json!({"KeyId": "k", "Plaintext": "aGVsbG8="}),
        signer(credentials, now),
    );
    reply.code().to_owned()
}

/// Connects and sends nothing; the connection stays open until the server closes it.
fn idle_connection(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

#[test]
fn idle_connections_are_closed_and_capped() {
    let config = ServerConfig {
        header_timeout: Duration::from_millis(500),
        max_connections: 4,
        ..ServerConfig::loopback("127.0.0.1:0".parse().unwrap())
    };
    let (_ks, kms, credentials, server) = start(config);
    let addr = server.local_addr();
    let mut idle: Vec<TcpStream> = (0..4).map(|_| idle_connection(addr)).collect();
    // Every slot is taken by a client that sends nothing; this request waits for a slot, which
    // the header timeout frees (before the fix it waited forever, the exchange timed out).
    assert_eq!(encrypt(addr, &credentials, kms.now()), "Success");
    for stream in &mut idle {
        let mut buf = [0u8; 64];
        let n = stream
            .read(&mut buf)
            .expect("closed by the server, not timed out here");
        assert_eq!(n, 0, "the server closed the idle connection");
    }
}

/// A client that sends requests and never reads the answers: once the answers fill the sockets,
/// the server's write waits `write_timeout` and the server closes the connection (before, it
/// held it, and its place among the connections, for as long as the client kept it open).
#[test]
fn a_client_that_never_reads_its_answers_is_dropped_at_the_write_timeout() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let config = ServerConfig {
        header_timeout: Duration::from_secs(60),
        write_timeout: Duration::from_millis(500),
        ..ServerConfig::loopback("127.0.0.1:0".parse().unwrap())
    };
    let (_ks, _kms, _credentials, server) = start(config);
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    let small: libc::c_int = 4096;
    // SAFETY: a socket we own, an int option of its size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&small as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    // Pipelined requests (each answered with an error: they are not signed), until the server
    // stops taking them because its answers are not read.
    let request = b"GET /?never=read HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut sent = 0usize;
    while stream.write_all(request).is_ok() {
        sent += 1;
        assert!(sent < 5_000_000, "the server never stopped taking requests");
    }
    std::thread::sleep(Duration::from_secs(1));
    // The server has given up on the connection: what it had sent drains, then the end.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut answers = 0usize;
    let reading = std::time::Instant::now();
    loop {
        assert!(
            reading.elapsed() < Duration::from_secs(20),
            "still answering after 20 s ({answers} of {sent}): the connection was kept"
        );
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                answers += buffer[..n]
                    .windows(12)
                    .filter(|w| w == b"HTTP/1.1 200")
                    .count()
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the connection stayed open after {answers} answers: {e}"),
        }
    }
    assert!(answers < sent, "{answers} answers to {sent} requests");
}

#[test]
fn reads_are_answered_while_a_change_waits_for_the_keystore_lock() {
    let (ks, kms, credentials, server) =
        start(ServerConfig::loopback("127.0.0.1:0".parse().unwrap()));
    let addr = server.local_addr();
    // A serving process holds reserved encryptions; the first one saves its reservation.
    assert_eq!(encrypt(addr, &credentials, kms.now()), "Success");
    let held = lock::acquire(&ks.path, Duration::from_secs(1)).unwrap();
    let change = {
        let credentials = credentials.clone();
        let now = kms.now();
        std::thread::spawn(move || {
            call(
                addr,
                "DisableKey",
                json!({"KeyId": "k"}),
                signer(&credentials, now),
            )
            .code()
            .to_owned()
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..20 {
        assert_eq!(encrypt(addr, &credentials, kms.now()), "Success");
    }
    // Released only after the reads: had they waited behind the change, it would have given up.
    drop(held);
    assert_eq!(change.join().unwrap(), "Success", "the change went through");
    assert_eq!(
        encrypt(addr, &credentials, kms.now()),
        "ResourceUnavailable.CmkDisabled"
    );
}

struct Served {
    child: Child,
    addr: SocketAddr,
    /// Held open and never read.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `keyconsole serve` as a user runs it, its standard output a pipe nobody reads after the first
/// line, started with the usual soft limit of 1,024 open files.
fn serve_binary(ks: &TestKeystore) -> Served {
    let mut command = Command::new(BIN);
    // SAFETY: only setrlimit runs between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            limit.rlim_cur = limit.rlim_max.min(1024);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            Ok(())
        });
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("KEYCONSOLE_KEYSTORE", &ks.path)
        .env(
            "KEYCONSOLE_PASSWORD",
            std::str::from_utf8(PASSWORD).unwrap(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    Served {
        child,
        addr,
        _stdout: stdout,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_stdout_nobody_reads_does_not_stall_serve() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let credentials = kms.api_credentials().unwrap();
    drop(kms);
    let served = serve_binary(&ks);
    // ~90 bytes a line: 2,000 lines are three times what a pipe holds.
    for i in 0..2000 {
        let code = encrypt(served.addr, &credentials, unix_now());
        assert_eq!(code, "Success", "request {i}");
    }
}

#[test]
fn more_idle_connections_than_the_usual_file_limit_do_not_stop_serve() {
    const IDLE: usize = 1100;
    let limit = keyconsole::util::process::raise_fd_limit().unwrap();
    if limit < 2 * IDLE as u64 + 100 {
        eprintln!("skipped: this machine's hard open-file limit is {limit}");
        return;
    }
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let credentials = kms.api_credentials().unwrap();
    drop(kms);
    let served = serve_binary(&ks);
    let _idle: Vec<TcpStream> = (0..IDLE).map(|_| idle_connection(served.addr)).collect();
    // Before serve raised its limit, its accept failed (EMFILE) and this request was never read.
    assert_eq!(encrypt(served.addr, &credentials, unix_now()), "Success");
}

#[test]
fn serve_runs_without_core_dumps_and_with_the_open_file_limit_raised() {
    let (ks, kms) = TestKeystore::new();
    drop(kms);
    let served = serve_binary(&ks);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", served.child.id())).unwrap();
    let row = |name: &str| -> Vec<String> {
        limits
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {limits}"))[name.len()..]
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(row("Max core file size")[..2], ["0", "0"]);
    let files = row("Max open files");
    assert_eq!(files[0], files[1], "soft limit raised to the hard one");
}

/// Occurrences of `needle` in the writable memory of process `pid` (needs root or ptrace rights).
fn copies_in_memory(pid: u32, needle: &[u8]) -> Option<usize> {
    use std::io::{Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    let mut count = 0;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with("rw") {
            continue;
        }
        let (start, end) = range.split_once('-')?;
        let (start, end) = (
            u64::from_str_radix(start, 16).ok()?,
            u64::from_str_radix(end, 16).ok()?,
        );
        let mut region = vec![0u8; (end - start) as usize];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut region).is_err() {
            continue;
        }
        count += region
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count();
    }
    Some(count)
}

#[test]
fn plaintexts_do_not_pile_up_in_the_server_memory() {
    use base64::Engine as _;
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let credentials = kms.api_credentials().unwrap();
    drop(kms);
    let served = serve_binary(&ks);
    let secret = b"KCSECRET-tiger-lantern-4096-quartz";
    let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
    for _ in 0..3 {
        let sealed = call(
            served.addr,
            "Encrypt",
            json!({"KeyId": "k", "Plaintext": encoded}),
            signer(&credentials, unix_now()),
        );
        let blob = sealed.field("CiphertextBlob").as_str().unwrap().to_owned();
        let opened = call(
            served.addr,
            "Decrypt",
            json!({"CiphertextBlob": blob}),
            signer(&credentials, unix_now()),
        );
        assert_eq!(opened.field("Plaintext").as_str(), Some(encoded.as_str()));
    }
    let pid = served.child.id();
    let (Some(raw), Some(base64)) = (
        copies_in_memory(pid, secret),
        copies_in_memory(pid, encoded.as_bytes()),
    ) else {
        eprintln!("skipped: cannot read the memory of process {pid} (not root?)");
        return;
    };
    eprintln!("copies after 3 round trips: {raw} raw, {base64} base64");
    assert_eq!(raw, 0, "decoded plaintexts are wiped");
    // Before the wiping there were 7 or 8; what is left is in hyper's own read buffers,
    // freed without being wiped (1 to 3 seen; which ones the allocator reuses varies).
    assert!(base64 <= 4, "{base64} base64 copies");
}

/// A server's first Encrypt finds nothing reserved: it is answered from a blocking thread after
/// the reservation is saved, never with the engine's internal code; from then on the count on
/// disk covers every encryption the server made, with no save at exit.
#[test]
fn encryptions_are_counted_on_disk_before_the_answer() {
    let (ks, kms, credentials, server) =
        start(ServerConfig::loopback("127.0.0.1:0".parse().unwrap()));
    let addr = server.local_addr();
    for _ in 0..300 {
        assert_eq!(encrypt(addr, &credentials, kms.now()), "Success");
    }
    let made = kms.keys()[0].versions[0].encryptions_by_this_process();
    assert_eq!(made, 300);
    // Read while the server still runs, as after a crash.
    let on_disk = ks.reopen().keys()[0].versions[0].encryptions;
    assert!(on_disk >= made, "{on_disk} on disk for {made} made");
}

/// `serve` runs without transparent huge pages, so the kernel's khugepaged never stalls its page
/// faults while it copies pages together.
#[cfg(target_os = "linux")]
#[test]
fn serve_turns_transparent_huge_pages_off() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    drop(kms);
    let served = serve_binary(&ks);
    let status = std::fs::read_to_string(format!("/proc/{}/status", served.child.id())).unwrap();
    // Kernels before 5.0 do not report it; then there is nothing to check here.
    if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}
