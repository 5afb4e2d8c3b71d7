//! Reads never wait for a save: API Encrypt latency on a 10,000-key keystore, alone, while a second
//! client saves changes in a loop, and while another holder keeps the keystore's file lock (with a
//! change waiting for it). Prints p50/p99/max per scenario.
//! Run: `cargo bench --bench api_saves` (about 20 s). Each Encrypt opens its own connection, as the
//! test client does, so the figures include a loopback connect.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keyconsole::api::{AccessLog, ApiServer, ServerConfig};
use keyconsole::kms::{ApiCredentials, Kms, SharedKms};
use keyconsole::store::lock;
use keyconsole::testing::api_client::{Signer, call};
use keyconsole::testing::{FAST_KDF, PASSWORD, keystore_with_keys};
use serde_json::{Value, json};

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this once, small and short,
/// to keep it working.
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn send(addr: SocketAddr, credentials: &ApiCredentials, action: &str, params: Value) -> String {
    let signer = Signer {
        secret_id: &credentials.secret_id,
        secret_key: credentials.secret_key.as_str(),
        timestamp: now(),
    };
    call(addr, action, params, signer).code().to_owned()
}

/// Encrypts for `seconds` and returns the sorted latencies.
fn encrypt_for(addr: SocketAddr, credentials: &ApiCredentials, seconds: f64) -> Vec<Duration> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let code = send(
            addr,
            credentials,
            "Encrypt",
            json!({"KeyId": "app-00042", "Plaintext": "aGVsbG8gd29ybGQ="}),
        );
        latencies.push(started.elapsed());
        assert_eq!(code, "Success");
    }
    latencies.sort();
    latencies
}

fn report(scenario: &str, latencies: &[Duration], extra: &str) {
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "{scenario:<44} n={:<6} p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>8.3} ms  {extra}",
        latencies.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

fn main() {
    let (keys, seconds) = if full_run() {
        (10_000, 5.0)
    } else {
        (100, 0.2)
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.kcks");
    keystore_with_keys(&path, PASSWORD, FAST_KDF, keys);
    let kms = Kms::open(&path, PASSWORD).unwrap();
    let credentials = kms.api_credentials().unwrap();
    let kms = SharedKms::new(kms);
    let server = ApiServer::start(
        kms.clone(),
        &ServerConfig::loopback("127.0.0.1:0".parse().unwrap()),
        Arc::new(AccessLog::new(100)),
    )
    .unwrap();
    let addr = server.local_addr();
    println!("API Encrypt on a {keys}-key keystore, {seconds} s per scenario");

    report("alone", &encrypt_for(addr, &credentials, seconds), "");

    // A second client saves in a loop (each save rewrites and fsyncs the 10,000-key keystore).
    let stop = Arc::new(AtomicBool::new(false));
    let saves = Arc::new(AtomicU64::new(0));
    let saver = {
        let (stop, saves, credentials) = (stop.clone(), saves.clone(), credentials.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let code = send(
                    addr,
                    &credentials,
                    "UpdateKeyDescription",
                    json!({"KeyId": "app-00001", "Description": format!("save {i}")}),
                );
                assert_eq!(code, "Success");
                saves.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let latencies = encrypt_for(addr, &credentials, seconds);
    stop.store(true, Ordering::Relaxed);
    saver.join().unwrap();
    report(
        "while a second client saves in a loop",
        &latencies,
        &format!("({} saves)", saves.load(Ordering::Relaxed)),
    );

    // Another holder keeps the file lock; a change waits for it (up to 10 s) meanwhile.
    let held = lock::acquire(&path, Duration::from_secs(1)).unwrap();
    let waiting = {
        let credentials = credentials.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let code = send(
                addr,
                &credentials,
                "DisableKey",
                json!({"KeyId": "app-00002"}),
            );
            (code, started.elapsed())
        })
    };
    let latencies = encrypt_for(addr, &credentials, seconds);
    drop(held);
    let (code, waited) = waiting.join().unwrap();
    report(
        "while another process holds the file lock",
        &latencies,
        &format!("(the change waited {:.1} s: {code})", waited.as_secs_f64()),
    );
    server.stop();
}
