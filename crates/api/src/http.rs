//! The transport: the loopback HTTP(S) server (listening, TLS, body limits, the access log,
//! shutdown, the maintenance tick). It moves bytes; a dialect (`dialect::DIALECTS`: Tencent's
//! today) is the whole protocol, and the transport reads none of its headers. Cryptographic
//! actions run on the async workers (microseconds each); changes, which save the keystore with
//! fsync, run on blocking threads so they never stall the other requests.

use std::convert::Infallible;
use std::future::Future as _;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use std::io::Write as _;

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch};

use super::access_log::{AccessLog, AccessLogEntry, SUCCESS};
use super::dialect::{self, Call, Outcome};
use super::tls::TlsConfig;
use keyconsole_base::util::{SecretBytes, ZeroizingWriter};
use keyconsole_kms::shared::TICK_SECONDS;
use keyconsole_kms::{Clock, ErrorCode, KmsError, Result, SharedKms};

/// Where `keyconsole serve` and the console listen unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:19267";
/// Bodies over this are refused (RequestSizeLimitExceeded). The largest legal request is a
/// secret's 32 KiB value, which the SDKs send JSON-escaped: up to 6 bytes a byte (`\u0001`), 3
/// an emoji's (`\ud83d\ude00` for 4 bytes), so 256 KiB holds any of them.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How long a connection may take to send a request's headers, and how long a kept-alive
/// connection may sit idle between requests: a client that opens connections and sends nothing
/// holds them this long at most.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long reading a request's body may take once its headers arrived.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an answer may wait for a client to read it: a client that sends requests and never
/// reads the answers holds its connection this long at most.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more wait in the listen backlog until one closes. Far below the
/// file-descriptor limit `serve` raises at start, so the server can always open its keystore.
pub const MAX_CONNECTIONS: usize = 4096;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Listening beyond loopback must be asked for.
    pub allow_remote: bool,
    /// HTTPS with this configuration; plain HTTP without.
    pub tls: Option<TlsConfig>,
    /// Allows plain HTTP beyond loopback (every plaintext and data key readable on the network).
    pub insecure_http: bool,
    /// Stop on Ctrl+C or SIGTERM (the `serve` command); the console stops it itself.
    pub stop_on_signal: bool,
    /// `HEADER_TIMEOUT` unless a test needs it short.
    pub header_timeout: Duration,
    /// `MAX_CONNECTIONS` unless a test needs it small.
    pub max_connections: usize,
    /// `WRITE_TIMEOUT` unless a test needs it short.
    pub write_timeout: Duration,
}

impl ServerConfig {
    pub fn loopback(listen: SocketAddr) -> Self {
        Self {
            listen,
            allow_remote: false,
            tls: None,
            insecure_http: false,
            stop_on_signal: false,
            header_timeout: HEADER_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

struct State {
    kms: SharedKms,
    clock: Arc<dyn Clock>,
    log: Arc<AccessLog>,
}

/// A running server. Dropping it stops it.
pub struct ApiServer {
    addr: SocketAddr,
    https: bool,
    shutdown: watch::Sender<bool>,
    /// One per core; the first accepts.
    threads: Vec<std::thread::JoinHandle<()>>,
    /// To give back, once no request runs, the encryptions reserved and not used.
    kms: SharedKms,
    /// Told once every enabled key has its first block of encryptions (see `wait_until_ready`).
    reserved: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ApiServer {
    /// Binds (so a taken port is reported here and now) and serves on background threads.
    pub fn start(kms: SharedKms, config: &ServerConfig, log: Arc<AccessLog>) -> Result<ApiServer> {
        check_exposure(config)?;
        // No stalls while the kernel assembles huge pages (see the function); only latency is
        // at stake if it cannot be done.
        if let Err(why) = keyconsole_base::util::process::disable_transparent_huge_pages() {
            eprintln!("keyconsole: warning: {why}");
        }
        let listener = StdListener::bind(config.listen)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| {
                KmsError::new(
                    ErrorCode::InvalidParameterValue,
                    keyconsole_base::text!(
                        "errors.cannot_listen_on_listen_e",
                        listen = config.listen,
                        e = e
                    ),
                )
            })?;
        let addr = listener.local_addr().map_err(|e| {
            KmsError::new(
                ErrorCode::InternalError,
                keyconsole_base::text!("errors.the_listening_socket_has_no_address", e = e),
            )
        })?;
        let (shutdown, stopped) = watch::channel(false);
        let (reserved_tx, reserved) = std::sync::mpsc::sync_channel(1);
        let mut reserved_tx = Some(reserved_tx);
        let clock = kms.clock();
        let state = Arc::new(State {
            kms: kms.clone(),
            clock,
            log,
        });
        let limits = Limits {
            tls: config.tls.clone().map(tokio_rustls::TlsAcceptor::from),
            header_timeout: config.header_timeout,
            write_timeout: config.write_timeout,
            connections: Arc::new(Semaphore::new(config.max_connections.max(1))),
        };
        // One single-threaded runtime per core, each serving the connections it was handed from
        // start to end: a request is read, answered and written on one thread, with no wake-ups
        // between threads (on a shared multi-threaded runtime those were the largest single cost
        // of a request after the work itself).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut runtimes = Vec::with_capacity(cores);
        for _ in 0..cores {
            runtimes.push(
                tokio::runtime::Builder::new_current_thread()
                    .max_blocking_threads(8)
                    .thread_name("keyconsole-api-blocking")
                    .enable_all()
                    .build()
                    .map_err(cannot_start)?,
            );
        }
        let workers: Arc<[Worker]> = runtimes
            .iter()
            .map(|runtime| Worker {
                handle: runtime.handle().clone(),
                connections: Arc::new(AtomicUsize::new(0)),
            })
            .collect();
        let mut threads = Vec::with_capacity(cores);
        let mut accepting = Some((listener, limits));
        for (index, runtime) in runtimes.into_iter().enumerate() {
            let worker = workers[index].clone();
            let stopped = stopped.clone();
            // The first thread also accepts (handing each connection to the least busy thread),
            // keeps house, and stops the server on a signal.
            let first = accepting.take().map(|(listener, limits)| {
                (
                    listener,
                    limits,
                    state.clone(),
                    workers.clone(),
                    shutdown.clone(),
                    reserved_tx.take(),
                )
            });
            let stop_on_signal = config.stop_on_signal;
            let thread = std::thread::Builder::new()
                .name(format!("keyconsole-api-{index}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        if let Some((listener, limits, state, workers, shutdown, reserved)) = first
                        {
                            tokio::spawn(housekeeping(
                                state.kms.clone(),
                                stopped.clone(),
                                reserved,
                            ));
                            tokio::spawn(async move {
                                stop_signal(stop_on_signal).await;
                                let _ = shutdown.send(true);
                            });
                            tokio::spawn(accept(listener, state, limits, workers, stopped.clone()));
                        }
                        worker.serve_until_stopped(stopped).await;
                    });
                    // Blocking work still running (a save) gets a moment to finish.
                    runtime.shutdown_timeout(Duration::from_secs(2));
                })
                .map_err(cannot_start)?;
            threads.push(thread);
        }
        Ok(ApiServer {
            addr,
            https: config.tls.is_some(),
            shutdown,
            threads,
            kms,
            reserved: std::sync::Mutex::new(reserved),
        })
    }

    /// Waits (up to `timeout`) until every enabled key has its first block of encryptions saved,
    /// which the server does as it starts (one save of the whole keystore: 150 ms at 50,000 keys);
    /// until then, the first Encrypt of each key waits for it. `serve` announces itself only after
    /// this, so a client that starts when told finds the server at full speed. False on timeout
    /// (the server still answers; a reservation that failed is retried by the requests).
    pub fn wait_until_ready(&self, timeout: Duration) -> bool {
        let reserved = self
            .reserved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reserved.recv_timeout(timeout).is_ok()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// What clients connect to: `https://127.0.0.1:19267`, say.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish, and returns when the server is gone.
    pub fn stop(mut self) {
        self.stop_now();
    }

    /// Blocks until the server stops (on a signal, with `stop_on_signal`).
    pub fn wait(mut self) {
        self.join();
    }

    fn stop_now(&mut self) {
        let _ = self.shutdown.send(true);
        self.join();
    }

    /// Waits for the threads, then gives back the reserved encryptions no request used (one
    /// save), as a crash could not: the server's blocks are large.
    fn join(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        if let Err(e) = self.kms.release_reservations() {
            eprintln!(
                "keyconsole: warning: the unused reserved encryptions were not given back ({}: {})",
                e.code, e.message
            );
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

async fn stop_signal(enabled: bool) {
    if !enabled {
        return std::future::pending().await;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn cannot_start(e: std::io::Error) -> KmsError {
    KmsError::new(
        ErrorCode::InternalError,
        keyconsole_base::text!("errors.cannot_start_the_server_e", e = e),
    )
}

/// Beyond loopback only when asked, and then only over TLS unless plain HTTP is asked for too.
fn check_exposure(config: &ServerConfig) -> Result<()> {
    if config.listen.ip().is_loopback() {
        return Ok(());
    }
    if !config.allow_remote {
        return Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.listen_is_not_a_loopback_address",
                listen = config.listen
            ),
        ));
    }
    if config.tls.is_none() && !config.insecure_http {
        return Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.listening_on_listen_beyond_this_machine",
                listen = config.listen
            ),
        ));
    }
    Ok(())
}

struct Limits {
    tls: Option<tokio_rustls::TlsAcceptor>,
    header_timeout: Duration,
    write_timeout: Duration,
    connections: Arc<Semaphore>,
}

/// A thread serving connections on its own runtime.
#[derive(Clone)]
struct Worker {
    handle: tokio::runtime::Handle,
    /// Connections it serves now.
    connections: Arc<AtomicUsize>,
}

/// Counts a connection on its worker for as long as it lives.
struct Serving(Arc<AtomicUsize>);

impl Serving {
    fn new(connections: &Arc<AtomicUsize>) -> Self {
        connections.fetch_add(1, Ordering::Relaxed);
        Self(connections.clone())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Worker {
    /// Drives this thread's connections until the server stops, then gives those still open
    /// (told to finish their request and close) up to `SHUTDOWN_GRACE` to do so.
    async fn serve_until_stopped(&self, mut stopped: watch::Receiver<bool>) {
        while !*stopped.borrow_and_update() {
            if stopped.changed().await.is_err() {
                break;
            }
        }
        // Tasks of this thread that watch for the stop (the housekeeping) get their turn.
        tokio::task::yield_now().await;
        let grace = Instant::now() + SHUTDOWN_GRACE;
        while self.connections.load(Ordering::Relaxed) > 0 && Instant::now() < grace {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// How long connections open at shutdown get to finish the request they are on.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

async fn accept(
    listener: StdListener,
    state: Arc<State>,
    limits: Limits,
    workers: Arc<[Worker]>,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        // A free connection slot first: at the cap, new clients wait in the backlog.
        let permit = tokio::select! {
            permit = limits.connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(_) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        // The socket moves to the least busy thread, which registers it with its own reactor.
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        let Some(worker) = workers
            .iter()
            .min_by_key(|w| w.connections.load(Ordering::Relaxed))
        else {
            return;
        };
        let serving = Serving::new(&worker.connections);
        let state = state.clone();
        let stopped = stopped.clone();
        let header_timeout = limits.header_timeout;
        let write_timeout = limits.write_timeout;
        let tls = limits.tls.clone();
        worker.handle.spawn(async move {
            let _serving = serving;
            let _permit = permit;
            let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                return;
            };
            let stream = WriteDeadline::new(stream, write_timeout);
            match tls {
                None => connection(stream, state, header_timeout, stopped, peer).await,
                Some(acceptor) => {
                    // The handshake counts against the header timeout: a client that opens a
                    // connection and never says hello is dropped as one that never sends headers.
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(header_timeout, acceptor.accept(stream)).await
                    {
                        connection(stream, state, header_timeout, stopped, peer).await;
                    }
                }
            }
        });
    }
}

/// A connection whose writes fail once they have waited `limit` for the client to read: hyper
/// has no write timeout of its own, and an answer stuck in a full socket would hold its
/// connection (and a place among `MAX_CONNECTIONS`) for ever.
struct WriteDeadline<IO> {
    io: IO,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<IO> WriteDeadline<IO> {
    fn new(io: IO, limit: Duration) -> Self {
        Self {
            io,
            limit,
            stalled: None,
        }
    }

    /// After the inner write said Pending: Pending until `limit` has passed since the first
    /// Pending in a row, then an error that ends the connection.
    fn waited<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::ErrorKind::TimedOut.into())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progressed<T>(
        &mut self,
        result: Poll<std::io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<T>> {
        match result {
            Poll::Pending => self.waited(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<IO: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteDeadline<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteDeadline<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write(cx, buf);
        this.progressed(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.progressed(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_flush(cx);
        this.progressed(result, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_shutdown(cx);
        this.progressed(result, cx)
    }
}

/// hyper answers a request line longer than its limit (65,534 bytes) itself, with a bare
/// `414 URI Too Long`, before any dialect sees the request. This wrapper puts the cloud's answer
/// in its place: HTTP 200 with `RequestSizeLimitExceeded` in the first dialect's JSON, as every
/// other refusal is answered. hyper closes the connection after such an error, so whatever it
/// writes after the 414 is dropped.
struct UriTooLongAsJson<IO> {
    io: IO,
    /// The answer still to be written in place of hyper's 414, once it has begun.
    replacement: Option<(keyconsole_base::util::SecretBytes, usize)>,
}

impl<IO> UriTooLongAsJson<IO> {
    fn new(io: IO) -> Self {
        Self {
            io,
            replacement: None,
        }
    }

    /// The cloud's answer to a request line that is too long, as a whole HTTP response.
    fn answer() -> keyconsole_base::util::SecretBytes {
        let dialect = dialect::DIALECTS[0];
        let refusal = KmsError::new(
            ErrorCode::RequestSizeLimitExceeded,
            keyconsole_base::text!("errors.request_line_too_long"),
        );
        let request_id = uuid::Builder::from_random_bytes(keyconsole_base::crypto::nonce_bytes())
            .into_uuid()
            .to_string();
        let written = dialect.answer(
            "",
            Err(refusal),
            &request_id,
            keyconsole_base::util::i18n::Language::English,
        );
        let (content_type, body) = (written.content_type, written.body);
        let mut response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        keyconsole_base::util::SecretBytes::from(response)
    }

    /// Writes what is left of the replacement; Ready once it is all out.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>>
    where
        IO: tokio::io::AsyncWrite + Unpin,
    {
        while let Some((bytes, sent)) = &mut self.replacement {
            if *sent >= bytes.len() {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.io).poll_write(cx, &bytes[*sent..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => *sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Whether hyper is beginning its automatic 414.
    fn is_uri_too_long(first: &[u8]) -> bool {
        first.starts_with(b"HTTP/1.1 414 ")
    }
}

impl<IO: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for UriTooLongAsJson<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for UriTooLongAsJson<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.replacement.is_none() && Self::is_uri_too_long(buf) {
            this.replacement = Some((Self::answer(), 0));
        }
        if this.replacement.is_some() {
            return this.drain(cx).map_ok(|()| buf.len());
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        if this.replacement.is_none() && Self::is_uri_too_long(first) {
            this.replacement = Some((Self::answer(), 0));
        }
        if this.replacement.is_some() {
            let total = bufs.iter().map(|b| b.len()).sum();
            return this.drain(cx).map_ok(|()| total);
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.io).poll_shutdown(cx),
            other => other,
        }
    }
}

/// Serves one connection, plain or TLS, until it closes or the server stops.
async fn connection<IO>(
    io: IO,
    state: Arc<State>,
    header_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
    peer: std::net::SocketAddr,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // Each request carries the address it came from (policies' source address conditions).
    let service = service_fn(move |mut request: Request<Incoming>| {
        request
            .extensions_mut()
            .insert(dialect::PeerAddress(peer.ip()));
        answer(state.clone(), request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(UriTooLongAsJson::new(io)), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stopped.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// A server's first block of encryptions per key version: its first 20 s at 50,000 requests/s
/// need no second save (the next blocks double, to `RESERVE_MAX`). A crash spends at most this
/// much of the version's 2^32 - 2^28 (0.02%); a clean stop gives back what was not used.
const FIRST_RESERVATION: u64 = 1 << 20;

/// The thread that keeps house for the server: the maintenance tick and the saves it makes (a
/// top-up of reserved encryptions, a rotation or deletion that fell due), each of which rewrites
/// the whole keystore (150 ms of a core at 50,000 keys). It runs at a lower priority, so the
/// scheduler lets the request threads preempt it: at normal priority each such save held up the
/// connections of the core it ran on (p99 at 50,000 keys 1.4–2.7 ms against 0.6–0.9 ms without
/// saves). Reservations start large enough (`FIRST_RESERVATION`, then doubling, topped up when
/// half used) for a slowed save to finish long before they run out; if one does run out, that
/// request reserves for itself on a normal-priority blocking thread.
struct Upkeep {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
    thread: std::thread::JoinHandle<()>,
}

impl Upkeep {
    fn start() -> Option<Upkeep> {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let thread = std::thread::Builder::new()
            .name("keyconsole-upkeep".to_owned())
            .spawn(move || {
                if let Err(why) = keyconsole_base::util::process::lower_this_threads_priority(
                    keyconsole_base::util::process::BACKGROUND_NICE,
                ) {
                    eprintln!("keyconsole: warning: {why}");
                }
                for job in queue {
                    job();
                }
            })
            .ok()?;
        Some(Upkeep { jobs, thread })
    }

    /// Lets a job under way (a save) finish, then ends the thread.
    fn finish(self) {
        drop(self.jobs);
        let _ = self.thread.join();
    }

    /// Runs `work` on the upkeep thread (on a blocking thread if there is none) and waits for it.
    async fn run<T: Send + 'static>(
        upkeep: Option<&Upkeep>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let Some(upkeep) = upkeep else {
            return tokio::task::spawn_blocking(work).await.ok();
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let _ = done.send(work());
        });
        upkeep.jobs.send(job).ok()?;
        result.await.ok()
    }
}

/// The engine's one maintenance tick (`SharedKms::tick`) on the upkeep thread, off the async
/// workers, and the database secrets whose rotation fell due, on a blocking thread of their own
/// (a database may take its time; the tick goes on).
async fn housekeeping(
    kms: SharedKms,
    mut stopped: watch::Receiver<bool>,
    reserved: Option<std::sync::mpsc::SyncSender<()>>,
) {
    let upkeep = Upkeep::start();
    let mut ticks = tokio::time::interval(Duration::from_secs(TICK_SECONDS));
    let mut rotating: Option<tokio::task::JoinHandle<()>> = None;
    // A reservation of encryptions running low wakes this loop at once: the top-up is saved well
    // before the requests use the rest, so none of them waits for it.
    let low = Arc::new(tokio::sync::Notify::new());
    let waker = low.clone();
    kms.serve_encryptions(FIRST_RESERVATION, Box::new(move || waker.notify_one()));
    // Every enabled key gets its first block now, in one save, so no request waits for one.
    let ahead = kms.clone();
    let _ = Upkeep::run(upkeep.as_ref(), move || ahead.reserve_for_every_key()).await;
    if let Some(reserved) = reserved {
        let _ = reserved.try_send(());
    }
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = low.notified() => {}
            _ = stopped.changed() => {
                // The runtime's shutdown waits (2 s at most) for this, so `stop` does not return
                // while a save of the upkeep thread is still writing.
                if let Some(upkeep) = upkeep {
                    let _ = tokio::task::spawn_blocking(move || upkeep.finish()).await;
                }
                return;
            }
        }
        let ticking = kms.clone();
        let _ = Upkeep::run(upkeep.as_ref(), move || ticking.tick()).await;
        // The due rotations one after another on one blocking thread, and a new round only once
        // the last one is done: a slow or silent database holds one thread, never the pool.
        if rotating
            .as_ref()
            .is_none_or(tokio::task::JoinHandle::is_finished)
        {
            let due = kms.due_secret_rotations();
            if !due.is_empty() {
                let kms = kms.clone();
                rotating = Some(tokio::task::spawn_blocking(move || {
                    for name in due {
                        match kms.rotate_due(&name) {
                            Ok(record) => eprintln!(
                                "Rotated secret {name}: {} is current.",
                                record.version_id
                            ),
                            Err(e) => eprintln!("Rotating secret {name} failed: {e}"),
                        }
                    }
                }));
            }
        }
    }
}

/// Picks up what other processes saved (a key the CLI just disabled is refused here too), even
/// while a change of this process waits for the keystore's lock. The `stat` is cheap; reading the
/// file is not, so it runs on a blocking thread.
async fn catch_up(kms: &SharedKms) -> Result<()> {
    if kms.is_current() {
        return Ok(());
    }
    let kms = kms.clone();
    tokio::task::spawn_blocking(move || kms.refresh_for_reader())
        .await
        .map_err(|_| failed_inside())?
        .map(drop)
}

/// Reads run here, on the async worker: they never wait. Changes wait for the keystore's lock and
/// save with fsync, so they run on a blocking thread.
async fn run(kms: &SharedKms, call: Box<dyn Call>, request_id: &str) -> Outcome {
    if !call.is_change() {
        let outcome = call.run(&**kms, request_id, false);
        let needs_reservation = matches!(&outcome.result,
            Err(e) if e.code == ErrorCode::ReservationNeeded);
        if !needs_reservation {
            return outcome;
        }
        // The key's reserved encryptions ran out before maintenance topped them up: reserving
        // saves the keystore, so this request goes on on a blocking thread (rare: once a block).
    }
    let kms = kms.clone();
    let request_id = request_id.to_owned();
    tokio::task::spawn_blocking(move || call.run(&*kms, &request_id, true))
        .await
        .unwrap_or_else(|_| Outcome {
            action: "(failed)",
            key_id: None,
            result: Err(failed_inside()),
        })
}

fn failed_inside() -> KmsError {
    KmsError::new(
        ErrorCode::InternalError,
        keyconsole_base::text!("errors.the_request_failed_inside_the_server"),
    )
}

/// The body, up to `MAX_BODY_BYTES`, in memory that is wiped when the request is done.
async fn read_body(mut body: Incoming) -> Result<SecretBytes> {
    // Sized by Content-Length when there is one (growing the buffer wipes and copies it), but only
    // up to what real requests send (an Encrypt of 4 KB is under 6 KB): past that, memory is taken
    // as bytes arrive, not as a client claims they will.
    const PRESIZE_MAX: usize = 16 * 1024;
    let expected = hyper::body::Body::size_hint(&body)
        .exact()
        .map_or(1024, |n| usize::try_from(n).unwrap_or(PRESIZE_MAX));
    let mut collected = ZeroizingWriter::with_capacity(expected.min(PRESIZE_MAX));
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            KmsError::new(
                ErrorCode::InvalidParameter,
                keyconsole_base::text!("errors.the_request_body_could_not_be"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            len += data.len();
            if len > MAX_BODY_BYTES {
                return Err(KmsError::new(
                    ErrorCode::RequestSizeLimitExceeded,
                    keyconsole_base::text!(
                        "errors.the_request_body_is_over_value",
                        value = MAX_BODY_BYTES / 1024
                    ),
                ));
            }
            let _ = collected.write_all(&data);
        }
    }
    Ok(collected.into_inner())
}

/// A response body that wipes itself once hyper has sent it (answers carry plaintexts and data keys).
pub struct SecretBuf {
    bytes: SecretBytes,
    sent: usize,
}

impl SecretBuf {
    pub(crate) fn new(bytes: SecretBytes) -> Self {
        Self { bytes, sent: 0 }
    }
}

impl bytes::Buf for SecretBuf {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.sent
    }

    fn chunk(&self) -> &[u8] {
        &self.bytes[self.sent..]
    }

    fn advance(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.bytes.len());
    }
}

async fn answer(
    state: Arc<State>,
    request: Request<Incoming>,
) -> std::result::Result<Response<Full<SecretBuf>>, Infallible> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let dialect = dialect::of(&parts);
    // Error messages in the language the request asks for, as the cloud answers.
    let mut language = dialect.language(&parts);
    let body = match tokio::time::timeout(BODY_TIMEOUT, read_body(body)).await {
        Ok(read) => read,
        Err(_) => Err(KmsError::new(
            ErrorCode::InvalidParameter,
            keyconsole_base::text!(
                "errors.the_request_body_did_not_arrive",
                value = BODY_TIMEOUT.as_secs()
            ),
        )),
    };
    // Made before the call, so the service's events and the answer name the same request.
    let request_id = uuid::Builder::from_random_bytes(keyconsole_base::crypto::nonce_bytes())
        .into_uuid()
        .to_string();
    let outcome = match body {
        Err(e) => Outcome {
            action: dialect.loggable_action(&parts),
            key_id: None,
            result: Err(e),
        },
        Ok(body) => {
            let call = dialect.read(&parts, body);
            language = call.language();
            match catch_up(&state.kms).await {
                Ok(()) => run(&state.kms, call, &request_id).await,
                Err(e) => Outcome {
                    action: dialect.loggable_action(&parts),
                    key_id: None,
                    result: Err(e),
                },
            }
        }
    };
    state.log.record(AccessLogEntry {
        time: state.clock.now(),
        dialect: dialect.name(),
        action: outcome.action,
        key_id: outcome.key_id,
        code: match &outcome.result {
            Ok(_) => SUCCESS,
            Err(e) => dialect.code(outcome.action, e.code),
        },
        duration: started.elapsed(),
    });
    let written = dialect.answer(outcome.action, outcome.result, &request_id, language);
    let mut response = Response::new(Full::new(SecretBuf::new(written.body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(written.status).unwrap_or(hyper::StatusCode::OK);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(written.content_type));
    for (name, value) in written.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}
