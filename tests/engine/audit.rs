//! The audit trail: every operation through the service is one event naming who did what to
//! which key or secret and how it ended; the chain finds an altered, deleted or moved line and a
//! cut-off tail at the right place; a trail that cannot be written refuses what must be recorded
//! and leaves nothing half done; no secret ever reaches it.

use std::path::{Path, PathBuf};

use keyconsole::kms::audit::{AuditFilter, read_events, segments_of};
use keyconsole::kms::policy::Preset;
use keyconsole::kms::service::{Caller, Face, KeyChange, KmsService, SecretChange};
use keyconsole::kms::{CanonicalContext, CreateKey, CreateSecret, ErrorCode, Kms, SecretValue};
use keyconsole::testing::TestKeystore;
use keyconsole::util::i18n::Language;
use zeroize::Zeroizing;

fn owner() -> Caller {
    Caller::local(Face::Cli, Language::English)
}

fn enc(
    kms: &Kms,
    caller: &Caller,
    key: &str,
    plaintext: &[u8],
    context: &CanonicalContext,
) -> keyconsole::kms::Result<keyconsole::kms::crypto_ops::Encrypted> {
    KmsService::encrypt(kms, caller, key, plaintext, context)
}

fn dec(
    kms: &Kms,
    caller: &Caller,
    blob: &str,
    context: &CanonicalContext,
) -> keyconsole::kms::Result<keyconsole::kms::crypto_ops::Decrypted> {
    KmsService::decrypt(kms, caller, blob, context)
}

fn new_key(kms: &Kms, alias: &str) -> String {
    KmsService::create_key(
        kms,
        &owner(),
        CreateKey {
            alias: alias.into(),
            ..CreateKey::default()
        },
    )
    .unwrap()
    .key_id
}

fn all(kms: &Kms) -> Vec<keyconsole::kms::audit::AuditEvent> {
    let mut events = kms.audit_events(&AuditFilter::default()).unwrap();
    events.reverse();
    events
}

fn segment_files(kms: &Kms) -> Vec<PathBuf> {
    segments_of(&kms.audit_dir())
}

/// The bytes of the trail's segments.
fn trail_bytes(kms: &Kms) -> u64 {
    segment_files(kms)
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum()
}

/// A walk-through of operations, by the owner and by a user over the API.
fn walk_through(kms: &Kms) -> (String, String) {
    let key = new_key(kms, "orders");
    let context = CanonicalContext::parse(Some(r#"{"app":"orders"}"#)).unwrap();
    let blob = enc(
        kms,
        &owner(),
        &key,
        b"the plaintext PLAINTEXT-MARKER",
        &context,
    )
    .unwrap()
    .ciphertext_blob;
    dec(kms, &owner(), &blob, &context).unwrap();
    KmsService::create_secret(
        kms,
        &owner(),
        CreateSecret {
            name: "orders-db".into(),
            version_id: Some("v1".into()),
            description: String::new(),
            key: Some("orders".into()),
            value: SecretValue::Text(Zeroizing::new("SECRET-VALUE-MARKER".into())),
            tags: Vec::new(),
        },
    )
    .unwrap();
    KmsService::get_secret_value(kms, &owner(), "orders-db", "v1").unwrap();
    let credentials = kms
        .create_user("reader", Preset::ReadOnly.policy(&[]))
        .unwrap();
    let reader = Caller::api(&credentials.secret_id, Language::English, "req-1", true)
        .from_address("10.1.2.3".parse().ok())
        .in_dialect("tencent");
    let refused = dec(kms, &reader, &blob, &context).err().unwrap();
    assert_eq!(refused.code, ErrorCode::UnauthorizedOperation);
    KmsService::change_keys(
        kms,
        &owner(),
        std::slice::from_ref(&key),
        KeyChange::Disable,
    )
    .unwrap();
    (key, blob)
}

#[test]
fn every_operation_is_one_event_with_who_what_and_how_it_ended() {
    let (_ks, kms) = TestKeystore::new();
    let (key, _) = walk_through(&kms);
    let events = all(&kms);
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "CreateKey",
            "Encrypt",
            "Decrypt",
            "CreateSecret",
            "GetSecretValue",
            "Decrypt",
            "DisableKey"
        ]
    );
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=7).collect::<Vec<_>>(),
        "numbered one after the other"
    );
    let create = &events[0];
    assert_eq!(
        (create.user.as_str(), create.face.as_str()),
        ("owner", "cli")
    );
    assert_eq!(
        (create.key_id.as_str(), create.alias.as_str()),
        (key.as_str(), "orders")
    );
    assert_eq!(create.outcome, "Success");
    assert_eq!(events[2].key_id, key);
    assert_eq!(
        events[2].context_hmac.len(),
        32,
        "the context only as an HMAC"
    );
    assert_eq!(events[4].secret, "orders-db");
    let denied = &events[5];
    assert_eq!(denied.user, "reader");
    assert_eq!(denied.dialect, "tencent");
    assert_eq!(denied.source, "10.1.2.3");
    assert_eq!(denied.request_id, "req-1");
    assert_eq!(denied.outcome, "UnauthorizedOperation");
    assert_eq!(denied.key_id, key, "the key the refused blob names");
    assert_eq!(
        events[2].context_hmac, denied.context_hmac,
        "the same context gives the same HMAC"
    );
    // Filters.
    let by_reader = kms
        .audit_events(&AuditFilter {
            user: Some("reader".into()),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(by_reader.len(), 1);
    let failures = kms
        .audit_events(&AuditFilter {
            succeeded: Some(false),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(failures.len(), 1);
    let on_orders = kms
        .audit_events(&AuditFilter {
            resource: Some("ORDERS".into()),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(
        on_orders.len(),
        7,
        "the key by alias and the secret by name"
    );
    assert!(kms.verify_audit().unwrap().is_intact());
    // The users page's "last used": when and from where the user's key last signed a request.
    let reader = kms
        .users()
        .into_iter()
        .find(|u| u.name == "reader")
        .unwrap();
    assert_eq!(reader.last_used, Some((denied.time, "10.1.2.3".to_owned())));
}

#[test]
fn no_secret_reaches_the_trail() {
    let (ks, kms) = TestKeystore::new();
    let (_, blob) = walk_through(&kms);
    drop(kms);
    let mut everything = Vec::new();
    for file in segments_of(&keyconsole::kms::audit::trail_dir(&ks.path)) {
        everything.extend(std::fs::read(file).unwrap());
    }
    let text = String::from_utf8(everything).unwrap();
    assert!(text.contains("orders-db"));
    for secret in [
        "PLAINTEXT-MARKER",
        "SECRET-VALUE-MARKER",
        "orders\"}",
        &blob[..40],
    ] {
        assert!(!text.contains(secret), "the trail holds {secret:?}");
    }
    assert!(!text.contains("\"app\""), "not the context either");
}

/// Rewrites line `line` (from 0) of `file` with `edit`.
fn edit_line(file: &Path, line: usize, edit: impl FnOnce(&mut Vec<String>)) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let _ = line;
    edit(&mut lines);
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

fn broken_at(kms: &Kms) -> (String, u64, String) {
    let report = kms.verify_audit().unwrap();
    let broken = report.broken.expect("the chain is broken");
    (broken.segment, broken.line, broken.why)
}

#[test]
fn an_altered_byte_a_deleted_line_and_a_cut_tail_are_found_where_they_are() {
    let (_ks, kms) = TestKeystore::new();
    walk_through(&kms);
    let file = segment_files(&kms)[0].clone();
    let original = std::fs::read(&file).unwrap();

    // One byte: "owner" becomes "ownex" on the third line.
    edit_line(&file, 2, |lines| {
        lines[2] = lines[2].replacen("\"owner\"", "\"ownex\"", 1);
    });
    let (segment, line, why) = broken_at(&kms);
    assert_eq!((segment.as_str(), line), ("000001.jsonl", 3));
    assert!(why.contains("altered"), "{why}");

    // A deleted line.
    std::fs::write(&file, &original).unwrap();
    edit_line(&file, 3, |lines| {
        lines.remove(3);
    });
    let (_, line, why) = broken_at(&kms);
    assert_eq!(line, 4);
    assert!(why.contains("event 4 is missing"), "{why}");

    // The tail cut off after the last save: the keystore's head says how far it went.
    std::fs::write(&file, &original).unwrap();
    edit_line(&file, 0, |lines| lines.truncate(4));
    let (_, _, why) = broken_at(&kms);
    assert!(why.contains("ends at event 4"), "{why}");

    // Put back: intact again.
    std::fs::write(&file, &original).unwrap();
    assert!(kms.verify_audit().unwrap().is_intact());
}

#[test]
fn segments_rotate_stay_verifiable_and_a_swap_is_found() {
    let (_ks, kms) = TestKeystore::new();
    kms.audit_trail().unwrap().set_limits(Some(1500), None);
    let key = new_key(&kms, "many");
    for _ in 0..30 {
        KmsService::describe_key(&kms, &owner(), &key).unwrap();
    }
    KmsService::change_keys(&kms, &owner(), &[key], KeyChange::Disable).unwrap();
    let files = segment_files(&kms);
    assert!(files.len() >= 4, "{} segments", files.len());
    let report = kms.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.broken);
    assert_eq!(report.events, 32);

    // Swap the second and third segments.
    let (a, b) = (&files[1], &files[2]);
    let swap = a.with_extension("swap");
    std::fs::rename(a, &swap).unwrap();
    std::fs::rename(b, a).unwrap();
    std::fs::rename(&swap, b).unwrap();
    let (segment, line, why) = broken_at(&kms);
    assert_eq!((segment.as_str(), line), ("000002.jsonl", 1));
    assert!(why.contains("events 7 to 12 are missing"), "{why}");

    // A missing segment.
    std::fs::rename(a, &swap).unwrap();
    std::fs::rename(b, a).unwrap();
    std::fs::remove_file(b).unwrap_or(());
    let (segment, line, why) = broken_at(&kms);
    assert_eq!((segment.as_str(), line), ("000003.jsonl", 0));
    assert!(why.contains("missing"), "{why}");
}

/// Pruning: the oldest whole segments before a date go, only after the chain is checked; the
/// keystore keeps where the rest begins, so the rest verifies (in this process and a new one), and
/// a segment deleted among those kept is still found. A broken trail is not pruned.
#[test]
fn pruning_removes_old_segments_and_the_rest_still_verifies() {
    use keyconsole::kms::{Clock, KeystoreAdmin};
    let (ks, kms) = TestKeystore::new();
    kms.audit_trail().unwrap().set_limits(Some(1500), None);
    let key = new_key(&kms, "many");
    let trail = kms.audit_trail().unwrap();
    for _ in 0..20 {
        KmsService::describe_key(&kms, &owner(), &key).unwrap();
    }
    trail.flush().unwrap();
    // A day later, more.
    ks.clock.advance(86_400);
    let cutoff = ks.clock.now();
    for _ in 0..20 {
        KmsService::describe_key(&kms, &owner(), &key).unwrap();
    }
    trail.flush().unwrap();
    let before = segment_files(&kms);
    assert!(before.len() >= 6, "{} segments", before.len());

    // Asked first: nothing goes.
    let plan = kms.prune_audit_trail(&owner(), cutoff, false).unwrap();
    assert!(!plan.segments.is_empty());
    assert_eq!(segment_files(&kms), before, "a plan removes nothing");
    let anchor = plan.anchor.clone().unwrap();
    assert!(anchor.time < cutoff);

    // A broken trail is evidence: refused, nothing removed.
    let file = before[0].clone();
    let original = std::fs::read(&file).unwrap();
    edit_line(&file, 0, |lines| {
        lines[0] = lines[0].replacen("\"owner\"", "\"ownex\"", 1);
    });
    let refused = kms.prune_audit_trail(&owner(), cutoff, true).unwrap_err();
    assert!(refused.to_string().contains("broken"), "{refused}");
    assert!(before.iter().all(|file| file.exists()), "nothing removed");
    std::fs::write(&file, &original).unwrap();

    let events_before = kms.verify_audit().unwrap().events;
    let present = segment_files(&kms);
    let pruned = kms.prune_audit_trail(&owner(), cutoff, true).unwrap();
    assert_eq!(pruned.segments, plan.segments);
    assert!(pruned.segments.iter().all(|gone| !gone.exists()));
    assert!(
        present
            .iter()
            .filter(|file| !pruned.segments.contains(file))
            .all(|file| file.exists()),
        "only those segments went"
    );
    let left = segment_files(&kms);
    // Every event left is from the cutoff's segment on; the prune itself is one of them.
    let report = kms.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.broken);
    assert_eq!(report.pruned.as_ref().map(|a| a.seq), Some(anchor.seq));
    assert_eq!(
        report.events,
        events_before - pruned.events + 1,
        "the rest, and the prune's own event"
    );
    let remaining = all(&kms);
    assert_eq!(remaining.first().map(|e| e.seq), Some(anchor.seq + 1));
    assert_eq!(
        remaining.last().map(|e| e.action.as_str()),
        Some("PruneAuditTrail")
    );
    // Another process reads the anchor from the keystore.
    let again = ks.reopen();
    assert!(again.verify_audit().unwrap().is_intact());

    // A segment deleted among those kept is still found.
    std::fs::remove_file(&left[1]).unwrap();
    let (segment, line, why) = broken_at(&again);
    assert_eq!(line, 0);
    assert!(why.contains("missing"), "{segment}: {why}");
}

/// A lookup pages newest first across segments, each event once, filtered as the whole read is;
/// the newest page reads only as far back as it needs.
#[test]
fn lookups_page_newest_first_across_segments() {
    use keyconsole::kms::audit::AuditQuery;
    let (_ks, kms) = TestKeystore::new();
    kms.audit_trail().unwrap().set_limits(Some(1500), None);
    let key = new_key(&kms, "paged");
    for i in 0..40 {
        if i % 3 == 0 {
            KmsService::list_keys(&kms, &owner(), &Default::default()).unwrap();
        } else {
            KmsService::describe_key(&kms, &owner(), &key).unwrap();
        }
    }
    kms.audit_trail().unwrap().flush().unwrap();
    assert!(segment_files(&kms).len() >= 5);
    for filter in [
        AuditFilter::default(),
        AuditFilter {
            event_name: Some("DescribeKey".into()),
            ..AuditFilter::default()
        },
    ] {
        let whole: Vec<u64> = kms
            .audit_events(&filter)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        let mut paged = Vec::new();
        let mut before = None;
        loop {
            let query = AuditQuery {
                filter: filter.clone(),
                before,
                limit: 7,
            };
            let page = KmsService::look_up_events(&kms, &owner(), &query).unwrap();
            assert!(page.events.len() <= 7);
            paged.extend(page.events.iter().map(|e| e.seq));
            match page.next {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        // The lookups are events too: compare what existed when the whole read was made.
        paged.retain(|seq| *seq <= whole[0]);
        assert_eq!(paged, whole, "{filter:?}");
    }
    // The newest page reads no further back than it needs: with the oldest segment made
    // unreadable (a folder in its place), reading everything fails and the newest page does not.
    let oldest = segment_files(&kms)[0].clone();
    std::fs::remove_file(&oldest).unwrap();
    std::fs::create_dir(&oldest).unwrap();
    assert!(kms.audit_events(&AuditFilter::default()).is_err());
    let newest = KmsService::look_up_events(
        &kms,
        &owner(),
        &AuditQuery {
            limit: 5,
            ..AuditQuery::default()
        },
    )
    .unwrap();
    assert_eq!(newest.events.len(), 5);
    assert!(newest.next.is_some());
}

#[test]
fn two_processes_append_to_one_chain() {
    let (ks, first) = TestKeystore::new();
    let second = ks.reopen();
    let key = new_key(&first, "shared");
    second.refresh().unwrap();
    let threads: Vec<_> = [&first, &second]
        .into_iter()
        .map(|kms| {
            let key = key.clone();
            let kms: &Kms = kms;
            let context = CanonicalContext::none();
            // Each decrypts (written before it answers) and encrypts (queued) in turn.
            let blob = enc(kms, &owner(), &key, b"x", &context)
                .unwrap()
                .ciphertext_blob;
            (kms, key, blob)
        })
        .collect();
    std::thread::scope(|scope| {
        for (kms, key, blob) in &threads {
            scope.spawn(move || {
                for _ in 0..200 {
                    dec(kms, &owner(), blob, &CanonicalContext::none()).unwrap();
                    enc(kms, &owner(), key, b"y", &CanonicalContext::none()).unwrap();
                }
            });
        }
    });
    drop(second);
    let report = first.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.broken);
    assert_eq!(report.events, 1 + 2 + 800);
}

/// Another process holding the trail's lock: requests neither wait for the lock (they may run on
/// the server's async workers) nor fail: their events stay queued while the flusher waits, and
/// are written once the lock is free, the chain whole.
#[test]
fn a_busy_trail_lock_neither_stalls_nor_fails_a_request() {
    let (_ks, kms) = TestKeystore::new();
    let key = new_key(&kms, "busy");
    let before = kms.verify_audit().unwrap().events;
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(kms.audit_dir().join("lock"))
        .unwrap();
    lock.lock().unwrap();
    // Each round waits past the batch delay, so the flusher is waiting for the lock meanwhile.
    for _ in 0..4 {
        for _ in 0..16 {
            enc(&kms, &owner(), &key, b"x", &CanonicalContext::none()).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(8));
    }
    assert!(
        kms.audit_trail().unwrap().failure().is_none(),
        "no failure recorded"
    );
    lock.unlock().unwrap();
    let report = kms.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.broken);
    assert_eq!(report.events, before + 64);
}

/// Threads queue into separate shards of the queue: every event of every thread is written once,
/// each thread's in the order it queued them, the chain whole; an operation that must be recorded
/// answers only once its event and everything its thread queued before are written.
#[test]
fn many_threads_queue_every_event_once_each_in_its_order() {
    let (_ks, kms) = TestKeystore::new();
    let key = new_key(&kms, "busy");
    let blob = enc(&kms, &owner(), &key, b"x", &CanonicalContext::none())
        .unwrap()
        .ciphertext_blob;
    let kms = &kms;
    std::thread::scope(|scope| {
        for thread in 0..12 {
            let (key, blob) = (&key, &blob);
            scope.spawn(move || {
                for n in 0..300 {
                    let mut caller = owner();
                    caller.request_id = format!("t{thread}-{n:03}");
                    if n % 50 == 49 {
                        // Must be recorded: written, with this thread's earlier events, before
                        // it answers.
                        dec(kms, &caller, blob, &CanonicalContext::none()).unwrap();
                        // Read from the files as they are (`audit_events` would write the
                        // queue first).
                        let written = read_events(&kms.audit_dir(), &AuditFilter::default())
                            .unwrap()
                            .iter()
                            .filter(|e| e.request_id.starts_with(&format!("t{thread}-")))
                            .count();
                        assert_eq!(written, n + 1, "thread {thread} at {n}");
                    } else {
                        enc(kms, &caller, key, b"y", &CanonicalContext::none()).unwrap();
                    }
                }
            });
        }
    });
    kms.audit_trail().unwrap().flush().unwrap();
    let events = all(kms);
    for thread in 0..12 {
        let ids: Vec<&str> = events
            .iter()
            .map(|e| e.request_id.as_str())
            .filter(|id| id.starts_with(&format!("t{thread}-")))
            .collect();
        let expected: Vec<String> = (0..300).map(|n| format!("t{thread}-{n:03}")).collect();
        assert_eq!(ids, expected, "thread {thread}");
    }
    let report = kms.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.broken);
    assert_eq!(report.events, 2 + 12 * 300);
}

#[test]
fn a_full_disk_refuses_what_must_be_recorded_and_leaves_nothing_half_done() {
    let (ks, kms) = TestKeystore::new();
    let key = new_key(&kms, "full");
    let context = CanonicalContext::none();
    let blob = enc(&kms, &owner(), &key, b"kept", &context)
        .unwrap()
        .ciphertext_blob;
    let trail = kms.audit_trail().unwrap();
    // Room for a few more events and no reserve: as if the disk just filled.
    let used = trail_bytes(&kms);
    trail.set_limits(None, Some(used + 600));

    let refused = dec(&kms, &owner(), &blob, &context).err().unwrap();
    assert_eq!(refused.code, ErrorCode::AuditUnavailable);
    assert!(refused.message.contains("no space"), "{}", refused.message);
    let refused = KmsService::change_keys(
        &kms,
        &owner(),
        std::slice::from_ref(&key),
        KeyChange::Disable,
    )
    .err()
    .unwrap();
    assert_eq!(refused.code, ErrorCode::AuditUnavailable);
    let refused = KmsService::change_secret(&kms, &owner(), "none", SecretChange::Enable)
        .err()
        .unwrap();
    assert_eq!(refused.code, ErrorCode::AuditUnavailable);
    // Nothing changed: the key is enabled, here and in a process that opens the keystore now.
    assert_eq!(
        ks.reopen().describe_key(&key).unwrap().key_state,
        keyconsole::kms::KeyState::Enabled
    );

    // Space again: everything works, and the chain is whole.
    trail.set_limits(None, None);
    dec(&kms, &owner(), &blob, &context).unwrap();
    KmsService::change_keys(&kms, &owner(), &[key], KeyChange::Disable).unwrap();
    let report = kms.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.broken);
    // The refusals themselves are on record, written once there was room.
    let outcomes: Vec<String> = all(&kms).iter().map(|e| e.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        [
            "Success",
            "Success",
            "AuditUnavailable",
            "AuditUnavailable",
            "AuditUnavailable",
            "Success",
            "Success"
        ]
    );
}

#[test]
fn a_failed_write_refuses_everything_until_space_returns_and_loses_no_event() {
    let (_ks, kms) = TestKeystore::new();
    let key = new_key(&kms, "torn");
    let trail = kms.audit_trail().unwrap();
    let used = trail_bytes(&kms);
    // Enough reserve to admit the operation, not enough for its event.
    trail.set_limits(None, Some(used + 10));
    let context = CanonicalContext::none();
    let blob = enc(&kms, &owner(), &key, b"x", &context);
    // The encryption's event is queued; writing it fails, and from then on all is refused.
    let _ = blob;
    let error = loop {
        match enc(&kms, &owner(), &key, b"x", &context) {
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => break e,
        }
    };
    assert_eq!(error.code, ErrorCode::AuditUnavailable);
    let file = segment_files(&kms).pop().unwrap();
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes.last(), Some(&b'\n'));
    trail.set_limits(None, None);
    enc(&kms, &owner(), &key, b"x", &context).unwrap();
    assert!(kms.verify_audit().unwrap().is_intact());
}
