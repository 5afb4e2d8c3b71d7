//! The audit trail at size: recording 1,000,000 events through the service (DescribeKey, whose
//! events are queued and written in batches), then `verify` of the whole chain, reading every
//! event for the Audit page, and the users page's first scan for last use.
//! Run: `cargo bench --bench audit` (`cargo test --all-targets` runs it with 2,000 events).

use std::time::Instant;

use keyconsole::kms::audit::{AuditFilter, AuditQuery};
use keyconsole::kms::service::{Caller, Face, KmsService};
use keyconsole::kms::{CreateKey, Kms};
use keyconsole::store::KdfParams;
use keyconsole::util::i18n::Language;

const KDF: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

fn main() {
    let events = if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        2_000
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audited.kcks");
    let kms = Kms::create(&path, b"benchmark password", KDF).unwrap();
    let caller = Caller::local(Face::Cli, Language::English);
    let key = KmsService::create_key(
        &kms,
        &caller,
        CreateKey {
            alias: "audited".into(),
            ..CreateKey::default()
        },
    )
    .unwrap()
    .key_id;

    let started = Instant::now();
    for _ in 1..events {
        KmsService::describe_key(&kms, &caller, &key).unwrap();
    }
    kms.audit_trail().unwrap().sync().unwrap();
    let recorded = started.elapsed();
    let bytes: u64 = keyconsole::kms::audit::segments_of(&kms.audit_dir())
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    println!(
        "recorded {events} events in {:.2} s ({:.0} events/s), {:.1} MiB on disk",
        recorded.as_secs_f64(),
        events as f64 / recorded.as_secs_f64(),
        bytes as f64 / (1 << 20) as f64
    );

    let mut verify_times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let report = kms.verify_audit().unwrap();
        verify_times.push(started.elapsed().as_secs_f64());
        assert!(report.is_intact(), "{:?}", report.broken);
        assert_eq!(report.events as usize, events);
    }
    verify_times.sort_by(f64::total_cmp);
    println!(
        "verify of {events} events: median {:.2} s ({:.0} events/s)",
        verify_times[1],
        events as f64 / verify_times[1]
    );

    let started = Instant::now();
    let read = kms.audit_events(&AuditFilter::default()).unwrap();
    println!(
        "read every event (the Audit page's load): {:.2} s for {}",
        started.elapsed().as_secs_f64(),
        read.len()
    );
    // What a console connected to a server reads: its newest 2,000 events, 50 a lookup.
    let started = Instant::now();
    let mut query = AuditQuery {
        limit: 50,
        ..AuditQuery::default()
    };
    let first = kms.audit_page(&query).unwrap();
    let first_page = started.elapsed();
    let mut pages = 1;
    let mut next = first.next;
    while let Some(before) = next.filter(|_| pages < 40) {
        query.before = Some(before);
        next = kms.audit_page(&query).unwrap().next;
        pages += 1;
    }
    println!(
        "LookUpEvents' newest page of 50: {:.1} ms; {pages} pages (2,000 events): {:.0} ms",
        first_page.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
    let filter = AuditFilter {
        text: Some("nothing matches this".into()),
        ..AuditFilter::default()
    };
    let started = Instant::now();
    let matched = read.iter().filter(|e| filter.matches(e)).count();
    println!(
        "filter every event by a search text: {:.0} ms ({matched} matched)",
        started.elapsed().as_secs_f64() * 1e3
    );
    let started = Instant::now();
    let _ = kms.credential_last_use();
    println!(
        "the users page's first scan for last use: {:.2} s",
        started.elapsed().as_secs_f64()
    );
}
