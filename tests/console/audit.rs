//! The Audit page: the trail of what was done (here or on the team's server), filtered, exported
//! as CSV, and verified: a changed byte is found and the page says where.

use crate::harness::Console;

twice! {
    /// What the console did shows on the page; filters narrow it; the export holds what is shown.
    fn the_audit_page_shows_filters_and_exports_what_was_done(start) {
    let mut console = start(&["orders"]);
    let remote = console.is_remote();
    console.kms().disable_key("orders").unwrap();
    console.click("Audit");
    console.wait_until("the trail read", |c| c.shows("Audit trail") && c.shows("ListKeys"));

    // By action: only the listings of keys remain.
    console.type_into("Action", "ListKeys");
    console.wait_until("the filter", |c| !c.shows("ListSecrets"));
    assert!(console.shows("ListKeys"));
    // Failures only: none so far.
    console.choose("Outcome", "Failed");
    console.wait_until("the filter", |c| c.shows("No event matches the filter."));
    console.choose("Outcome", "All");
    console.replace_in("Action", "");
    console.wait_until("the filter", |c| c.shows("ListSecrets"));

    // A time the filter cannot read says so.
    console.type_into("From", "yesterday");
    assert!(console.shows("“yesterday” is not a time"));
    console.replace_in("From", "2026-01-01");
    console.wait_until("the filter", |c| !c.shows("is not a time"));

    let out = console.dir.path().join("audit.csv");
    console.dialogs.answer_next(Some(out.clone()));
    console.click("Export CSV…");
    console.wait_until("the export", |_| out.exists());
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("seq,time_utc,user,face"), "{csv}");
    assert!(csv.contains(",ListKeys,"), "{csv}");

    if remote {
        // The chain's keys are the server's keystore's: verifying is done there.
        assert!(
            !console.enabled("Verify"),
            "Verify needs the keystore's password"
        );
    }
}
}

/// Verify on a local keystore: intact, then a changed byte found, with its place.
#[test]
fn verify_finds_a_changed_byte_and_says_where() {
    let mut console = Console::unlocked(&["orders"]);
    console.click("Audit");
    console.wait_until("the trail read", |c| c.shows("ListKeys"));
    console.click("Verify");
    console.wait_until("the check", |c| c.shows("✔ Intact"));

    let segment =
        keyconsole::kms::audit::trail_dir(console.managed_keystore()).join("000001.jsonl");
    let text = std::fs::read_to_string(&segment).unwrap();
    std::fs::write(&segment, text.replacen("\"ListKeys\"", "\"ListKeyz\"", 1)).unwrap();
    console.click("Verify");
    console.wait_until("the check", |c| c.shows("✖ Broken at 000001.jsonl line"));
    assert!(console.shows("the event was altered"));
}

/// After `audit prune`, Verify still checks every event left and says where the check began.
#[test]
fn verify_after_a_prune_says_where_the_trail_begins() {
    use keyconsole::kms::KeystoreAdmin;
    use keyconsole::kms::service::{Caller, Face, KmsService};
    let mut console = Console::unlocked(&["orders"]);
    {
        let kms = console.kms();
        let trail = kms.audit_trail().unwrap();
        trail.set_limits(Some(1500), None);
        let owner = Caller::local(Face::Cli, keyconsole::util::i18n::Language::English);
        for _ in 0..20 {
            KmsService::describe_key(kms, &owner, "orders").unwrap();
        }
        trail.flush().unwrap();
        let far = 4_102_444_800; // 2100-01-01
        let pruned = kms.prune_audit_trail(&owner, far, true).unwrap();
        assert!(!pruned.segments.is_empty());
    }
    console.click("Audit");
    console.wait_until("the trail read", |c| c.shows("DescribeKey"));
    console.click("Verify");
    console.wait_until("the check", |c| c.shows("✔ Intact"));
    assert!(console.shows("were pruned at"));
}
