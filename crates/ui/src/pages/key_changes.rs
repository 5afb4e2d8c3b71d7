//! Changes to keys, as the key list (its rows and batch buttons) and a key's page ask for them.
//! Each is worded here once, in the console's language; the page that asked settles its own state
//! (the list drops its selection, the key's page closes the edit it saved).

use keyconsole_base::tr;
use keyconsole_kms::{KeyChange, KeyChanged, KmsError};

use crate::app::backend::{Outcome, PageCalls, console_caller};

#[derive(Debug)]
pub enum KeyRequest {
    /// Enable or disable up to 100 keys, all or none.
    SetEnabled { keys: Vec<String>, enable: bool },
    /// Any other change to one key.
    Change { key: String, change: KeyChange },
}

/// A page that asks for key changes, told when one went through.
pub trait SettlesKeyChanges: 'static {
    fn settled(&mut self, keys: &[String], change: &KeyChange);
}

impl KeyRequest {
    /// On the worker; the page gets the answer if the console still shows it.
    pub(crate) fn run<P: SettlesKeyChanges>(self, mut calls: PageCalls<'_, P>) -> Outcome {
        let (keys, change) = match self {
            KeyRequest::SetEnabled { keys, enable } => {
                let change = if enable {
                    KeyChange::Enable
                } else {
                    KeyChange::Disable
                };
                (keys, change)
            }
            KeyRequest::Change { key, change } => (vec![key], change),
        };
        let asked = (keys.clone(), change.clone());
        calls.change(
            move |session| {
                session
                    .service()
                    .change_keys(&console_caller(), &keys, change)
            },
            move |page, changed: Result<KeyChanged, KmsError>| {
                let changed = changed?;
                let (keys, change) = asked;
                if let Some(page) = page {
                    page.settled(&keys, &change);
                }
                Ok(Some(said(&change, changed, keys.len())))
            },
        )
    }
}

/// What the notification says of a change that went through.
fn said(change: &KeyChange, changed: KeyChanged, count: usize) -> String {
    match change {
        KeyChange::Enable | KeyChange::Disable => {
            let verb = if matches!(change, KeyChange::Enable) {
                tr!("ui.commands.enabled")
            } else {
                tr!("ui.commands.disabled")
            };
            tr!("ui.commands.verb_keys_key_s", verb = verb, keys = count)
        }
        KeyChange::Update { .. } => tr!("ui.commands.saved"),
        KeyChange::Archive => tr!("ui.commands.archived_the_key_decrypts_but_no"),
        KeyChange::Unarchive => tr!("ui.commands.unarchived"),
        KeyChange::Rotate => {
            let v = match changed {
                KeyChanged::Version(v) => v,
                KeyChanged::Done | KeyChanged::DeletionDate(_) => 0,
            };
            // A server's RotateKey does not say which version it made.
            if v == 0 {
                tr!("ui.commands.rotated_a_new_version_now_encrypts")
            } else {
                tr!("ui.commands.rotated_key_version_v_now_encrypts", v = v)
            }
        }
        KeyChange::Tag { .. } => tr!("ui.commands.tags_saved"),
        KeyChange::EnableRotation { .. } | KeyChange::DisableRotation => {
            tr!("ui.commands.rotation_settings_saved")
        }
        KeyChange::ScheduleDeletion { .. } => {
            let date = match changed {
                KeyChanged::DeletionDate(date) => date,
                KeyChanged::Done | KeyChanged::Version(_) => 0,
            };
            tr!(
                "ui.commands.deletion_scheduled_for_date",
                date = keyconsole_base::util::format_time(date)
            )
        }
        KeyChange::CancelDeletion => tr!("ui.commands.deletion_cancelled_the_key_is_disabled"),
        KeyChange::ImportMaterial { .. } => tr!("ui.commands.key_material_imported_the_key_is"),
        KeyChange::DeleteMaterial => tr!("ui.commands.key_material_deleted_the_key_waits"),
    }
}
