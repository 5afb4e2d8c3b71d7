//! Writes a keystore of N keys (aliases `app-00000`…) in one save, for the load benchmark at
//! large keystore sizes (`KC_KEYS=N benches/api.sh`). Password from KEYCONSOLE_PASSWORD, a light
//! KDF (the benchmark measures requests, not unlocking).
//! Usage: cargo run --release --example bench_keystore -- PATH N

use std::path::PathBuf;

use keyconsole::store::KdfParams;
use keyconsole::testing::keystore_with_keys;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(n)) = (args.next(), args.next().and_then(|n| n.parse().ok())) else {
        eprintln!("usage: bench_keystore PATH N");
        std::process::exit(2);
    };
    let password = std::env::var("KEYCONSOLE_PASSWORD").unwrap_or_default();
    let kdf = KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    };
    keystore_with_keys(&PathBuf::from(path), password.as_bytes(), kdf, n);
}
