//! A database password rotation against a private MariaDB and PostgreSQL on loopback: the time of
//! each of the four steps (pending saved with fsync, set in the database, login tested, made
//! current with fsync) and of the whole, medians over the runs. The test servers are the ones the
//! tests use (`testing::database`), started here and removed after.
//! Run: `cargo bench --bench rotation` (50 rotations each, a few seconds); `cargo test
//! --all-targets` runs 3 of each to keep it working.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use keyconsole::kms::secrets::{CreateDatabaseSecret, RotationStep};
use keyconsole::testing::TestKeystore;
use keyconsole::testing::database::PrivateDatabase;
use keyconsole::util::database::DbEngine;
use zeroize::Zeroizing;

fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn run(engine: DbEngine, rounds: usize) {
    let database = PrivateDatabase::start(engine).expect("a private database server");
    database.create_user("orders", "first password 1").unwrap();
    let (_keystore, kms) = TestKeystore::new();
    kms.create_database_secret(CreateDatabaseSecret {
        name: "orders-db".to_owned(),
        description: String::new(),
        key: None,
        endpoint: database.endpoint("orders"),
        password: Zeroizing::new("first password 1".to_owned()),
        rotate_days: None,
    })
    .unwrap();
    let mut steps: Vec<Vec<Duration>> = vec![Vec::new(); RotationStep::ALL.len()];
    let mut totals = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let mut last = started;
        kms.rotate_secret("orders-db", &mut |step| {
            let now = Instant::now();
            steps[step.number() - 1].push(now - last);
            last = now;
            ControlFlow::Continue(())
        })
        .unwrap();
        totals.push(started.elapsed());
    }
    println!("{} ({rounds} rotations, medians):", engine.label());
    for (step, times) in RotationStep::ALL.iter().zip(steps) {
        println!(
            "  step {}: {:<34} {}",
            step.number(),
            step.label(),
            ms(median(times))
        );
    }
    println!("  whole rotation: {}", ms(median(totals)));
}

fn main() {
    let rounds = if full_run() { 50 } else { 3 };
    run(DbEngine::MySql, rounds);
    run(DbEngine::PostgreSql, rounds);
}
