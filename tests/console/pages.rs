//! The page registry (`ui::pages::PageId`): every page can be reached the way a person reaches it,
//! draws what identifies it, and has its snapshot (which the README shows).

use keyconsole::ui::pages::PageId;

use crate::harness::Console;

/// Opens `page` as a person would: from the start, by clicking.
fn open(page: PageId) -> Console {
    let mut console = match page {
        PageId::Unlock => return Console::start(Some(&["app"])),
        PageId::FirstRun => return Console::start(None),
        _ => Console::unlocked(&["app"]),
    };
    match page {
        PageId::CreateKey => console.click("➕ Create key"),
        PageId::KeyDetail => console.click("app"),
        PageId::Files => console.click("File tools"),
        PageId::Api => console.click("API access"),
        PageId::Secrets => console.click("Secrets"),
        PageId::Audit => {
            console.click("Audit");
            console.wait_until("the trail read", |c| c.shows("events"));
        }
        PageId::Keys | PageId::Unlock | PageId::FirstRun => {}
    }
    console
}

/// Text that only this page shows.
fn landmark(page: PageId) -> &'static str {
    match page {
        PageId::Unlock => "Unlock your keystore",
        PageId::FirstRun => "Create a keystore",
        PageId::Keys => "1 of 1 keys",
        PageId::CreateKey => "A symmetric customer master key",
        PageId::KeyDetail => "Online tools",
        PageId::Files => "Envelope encryption for files",
        PageId::Api => "Listen address",
        PageId::Secrets => {
            "Named, versioned values that applications fetch by name (GetSecretValue)."
        }
        PageId::Audit => "Audit trail",
    }
}

#[test]
fn every_page_can_be_reached_and_draws() {
    for page in PageId::ALL {
        let console = open(page);
        assert_eq!(console.app().is_locked(), !page.needs_unlock(), "{page:?}");
        assert!(
            console.shows(landmark(page)),
            "{page:?} does not show {:?}",
            landmark(page)
        );
    }
}

#[test]
fn every_page_has_a_snapshot() {
    for page in PageId::ALL {
        let path = format!("tests/snapshots/{}.png", page.snapshot_name());
        assert!(
            std::path::Path::new(&path).exists(),
            "{page:?} has no snapshot at {path}; add it to tests/console/snapshots.rs"
        );
    }
}
