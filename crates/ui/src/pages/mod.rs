//! The console's pages. Each owns its state and draws itself with a `*_ui` method; none does I/O
//! or calls a changing engine method while drawing: they push commands (`ui::command`).
//!
//! `PageId` is the registry: every screen a person can reach, so one test walks them all and the
//! snapshot test checks each has its picture.

pub mod api_access;
pub mod audit;
pub mod create_key;
pub mod files;
pub mod key_changes;
pub mod key_detail;
pub mod key_pair_tools;
pub mod keys;
pub mod online_tools;
pub mod secrets;
pub mod tags;
pub mod team;
pub mod unlock;

/// Every screen of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageId {
    /// The unlock screen of an existing keystore.
    Unlock,
    /// The unlock screen when there is no keystore yet: create one.
    FirstRun,
    Keys,
    /// The create-key dialog over the key list.
    CreateKey,
    KeyDetail,
    Files,
    Api,
    Secrets,
    Audit,
}

impl PageId {
    pub const ALL: [PageId; 9] = [
        PageId::Unlock,
        PageId::FirstRun,
        PageId::Keys,
        PageId::CreateKey,
        PageId::KeyDetail,
        PageId::Files,
        PageId::Api,
        PageId::Secrets,
        PageId::Audit,
    ];

    /// The snapshot image of this page (`tests/snapshots/NAME.png`), which the README shows.
    pub fn snapshot_name(self) -> &'static str {
        match self {
            PageId::Unlock => "unlock",
            PageId::FirstRun => "first_run",
            PageId::Keys => "key_list",
            PageId::CreateKey => "create_dialog",
            PageId::KeyDetail => "key_detail",
            PageId::Files => "file_tools",
            PageId::Api => "api_access",
            PageId::Secrets => "secrets",
            PageId::Audit => "audit",
        }
    }

    /// Whether the page needs an unlocked keystore.
    pub fn needs_unlock(self) -> bool {
        !matches!(self, PageId::Unlock | PageId::FirstRun)
    }
}
