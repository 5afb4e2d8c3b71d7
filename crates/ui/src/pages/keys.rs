//! The key list: a virtualized table of every key, searchable by KeyId or alias, filtered by state,
//! sorted by creation time, with multi-select for batch enable/disable.

use keyconsole_base::tr;
use std::collections::{BTreeSet, HashSet};

use egui::{Color32, RichText};
use egui_extras::{Column, TableBuilder};

use std::sync::Arc;

use super::key_changes::{KeyRequest, SettlesKeyChanges};
use crate::command::Command;
use crate::model::Model;
use crate::widgets::{
    Answer, Confirmation, origin_label, permitted_button, state_color, state_filter_ui,
    state_label, usage_label,
};
use keyconsole_base::util::format_time;
use keyconsole_kms::{KeyChange, KeyIndex, KeyMetadata, KeyQuery, KeyState, Order};

pub const ROW_HEIGHT: f32 = 26.0;
/// Below this width the key table leaves out its usage and origin columns.
const COMPACT_BELOW: f32 = 1150.0;

/// What keys do, as the list filters them: encrypt and decrypt data (symmetric keys), decrypt
/// what was encrypted to a public key, or sign and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageGroup {
    EncryptDecrypt,
    AsymmetricDecrypt,
    SignVerify,
}

impl UsageGroup {
    pub const ALL: [UsageGroup; 3] = [
        UsageGroup::EncryptDecrypt,
        UsageGroup::AsymmetricDecrypt,
        UsageGroup::SignVerify,
    ];

    fn of(usage: &str) -> Option<UsageGroup> {
        let usage = keyconsole_kms::KeyUsage::from_name(usage)?;
        Some(if usage.signs() {
            UsageGroup::SignVerify
        } else if usage.decrypts_asymmetric() {
            UsageGroup::AsymmetricDecrypt
        } else {
            UsageGroup::EncryptDecrypt
        })
    }

    pub fn label(self) -> String {
        match self {
            UsageGroup::EncryptDecrypt => tr!("ui.widgets.usage_encrypt_decrypt"),
            UsageGroup::AsymmetricDecrypt => tr!("ui.widgets.usage_asymmetric_decrypt"),
            UsageGroup::SignVerify => tr!("ui.widgets.usage_sign_verify"),
        }
    }
}

#[derive(Debug, Default)]
pub struct KeyListState {
    pub search: String,
    pub state_filter: Option<KeyState>,
    pub usage_filter: Option<UsageGroup>,
    pub oldest_first: bool,
    /// KeyIds of the ticked rows.
    pub selected: BTreeSet<String>,
    pub focus_search: bool,
    /// The *Service keys* tab (the secrets manager's default keys) rather than the customer keys.
    pub service_tab: bool,
    /// Keys to disable, asked about first (applications using them stop working).
    pub confirm_disable: Option<Vec<String>>,
    rows: Vec<usize>,
    rows_for: Option<ViewInputs>,
    /// The snapshot the rows point into.
    rows_in: Option<Arc<KeyIndex>>,
}

/// What the visible rows depend on; when any of it changes the rows are computed again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ViewInputs {
    search: String,
    state: Option<KeyState>,
    usage: Option<UsageGroup>,
    oldest_first: bool,
    service_tab: bool,
}

impl KeyListState {
    /// Positions (in `self.rows_in`, the keys they were computed on) of the rows to show,
    /// recomputed only when something changed.
    pub fn rows(&mut self, keys: &Arc<KeyIndex>, service_keys: &HashSet<String>) -> &[usize] {
        let inputs = ViewInputs {
            search: self.search.clone(),
            state: self.state_filter,
            usage: self.usage_filter,
            oldest_first: self.oldest_first,
            service_tab: self.service_tab,
        };
        let same_keys = self.rows_in.as_ref().is_some_and(|k| Arc::ptr_eq(k, keys));
        if !same_keys || self.rows_for.as_ref() != Some(&inputs) {
            let query = KeyQuery {
                state: self.state_filter.into(),
                search: Some(self.search.clone()),
                order: if self.oldest_first {
                    Order::OldestFirst
                } else {
                    Order::NewestFirst
                },
                ..KeyQuery::default()
            };
            self.rows = keys.matching(&query);
            if let Some(group) = self.usage_filter {
                self.rows
                    .retain(|&i| UsageGroup::of(&keys[i].key_usage) == Some(group));
            }
            if !service_keys.is_empty() || self.service_tab {
                let service_tab = self.service_tab;
                self.rows
                    .retain(|&i| service_keys.contains(&keys[i].key_id) == service_tab);
            }
            // Keys deleted elsewhere leave the selection too.
            self.selected.retain(|id| keys.find(id).is_some());
            self.rows_for = Some(inputs);
            self.rows_in = Some(keys.clone());
        }
        &self.rows
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model, commands: &mut Vec<Command>) {
        self.tabs_ui(ui, model);
        self.toolbar_ui(ui, model, commands);
        ui.add_space(6.0);
        let total = model.keys.len();
        let shown = self.rows(&model.keys, &model.service_keys).len();
        ui.horizontal(|ui| {
            ui.label(tr!(
                "ui.keys.shown_of_total_keys",
                shown = shown,
                total = total
            ));
            if !self.selected.is_empty() {
                ui.separator();
                ui.label(tr!(
                    "ui.keys.selected_selected",
                    selected = self.selected.len()
                ));
            }
        });
        ui.add_space(4.0);
        if total == 0 {
            ui.add_space(30.0);
            ui.vertical_centered(|ui| {
                ui.label(RichText::new(tr!("ui.keys.no_keys_yet")).size(18.0));
                ui.label(tr!("ui.keys.create_a_customer_master_key_to"));
                if permitted_button(
                    ui,
                    true,
                    model.why_not("kms:CreateKey", "*"),
                    crate::widgets::primary_button(tr!("ui.keys.create_key")),
                )
                .clicked()
                {
                    commands.push(Command::OpenCreateKey);
                }
            });
            return;
        }
        self.table_ui(ui, model, commands);
        self.confirm_disable_ui(ui.ctx(), model, commands);
    }

    /// Customer keys and service keys apart, as the cloud consoles list their services' default
    /// keys apart from the keys people make.
    fn tabs_ui(&mut self, ui: &mut egui::Ui, model: &Model) {
        let service = model.service_keys.len();
        if service == 0 && !self.service_tab {
            return;
        }
        ui.horizontal(|ui| {
            let customer = model.keys.len().saturating_sub(service);
            if ui
                .selectable_label(
                    !self.service_tab,
                    tr!("ui.keys.customer_keys", count = customer),
                )
                .clicked()
            {
                self.service_tab = false;
            }
            if ui
                .selectable_label(
                    self.service_tab,
                    tr!("ui.keys.service_keys", count = service),
                )
                .on_hover_text(tr!("ui.keys.service_keys_hint"))
                .clicked()
            {
                self.service_tab = true;
            }
        });
        ui.add_space(4.0);
    }

    /// Asks before keys are disabled, naming the secrets they protect.
    fn confirm_disable_ui(
        &mut self,
        ctx: &egui::Context,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        let Some(keys) = &self.confirm_disable else {
            return;
        };
        let question = disable_question(model, keys);
        match question.ui(ctx, "disable keys") {
            Answer::Open => {}
            Answer::Cancelled => self.confirm_disable = None,
            Answer::Confirmed => {
                if let Some(keys) = self.confirm_disable.take() {
                    commands.push(Command::KeyListChange(KeyRequest::SetEnabled {
                        keys,
                        enable: false,
                    }));
                }
            }
        }
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui, model: &Model, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            if permitted_button(
                ui,
                true,
                model.why_not("kms:CreateKey", "*"),
                crate::widgets::primary_button(tr!("ui.keys.create_key")),
            )
            .on_hover_text(tr!("ui.keys.ctrl_n"))
            .clicked()
            {
                commands.push(Command::OpenCreateKey);
            }
            ui.separator();
            let search = ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text(tr!("ui.keys.search_keyid_or_alias_ctrl_f"))
                    .desired_width(280.0),
            );
            search.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::TextInput, true, tr!("ui.keys.search"))
            });
            if std::mem::take(&mut self.focus_search) {
                search.request_focus();
            }
            let label = ui.label(tr!("ui.keys.state"));
            state_filter_ui(
                ui,
                "Key state filter",
                label.id,
                (tr!("ui.keys.all"), &KeyState::ALL),
                state_label,
                &mut self.state_filter,
            );
            let label = ui.label(tr!("ui.keys.usage"));
            state_filter_ui(
                ui,
                "Key usage filter",
                label.id,
                (tr!("ui.keys.all"), &UsageGroup::ALL),
                UsageGroup::label,
                &mut self.usage_filter,
            );

            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let any = !self.selected.is_empty();
                if ui
                    .add_enabled(any, egui::Button::new(tr!("ui.keys.clear_selection")))
                    .clicked()
                {
                    self.selected.clear();
                }
                let keys: Vec<String> = self.selected.iter().cloned().collect();
                // Forbidden when any one selected key is: the reason names the first.
                let why_not =
                    |action: &str| keys.iter().find_map(|id| model.why_not_on_key(action, id));
                if permitted_button(
                    ui,
                    any,
                    why_not("kms:DisableKey"),
                    egui::Button::new(tr!("ui.keys.disable_selected")),
                )
                .clicked()
                {
                    self.confirm_disable = Some(keys.clone());
                }
                if permitted_button(
                    ui,
                    any,
                    why_not("kms:EnableKey"),
                    egui::Button::new(tr!("ui.keys.enable_selected")),
                )
                .clicked()
                {
                    commands.push(Command::KeyListChange(KeyRequest::SetEnabled {
                        keys,
                        enable: true,
                    }));
                }
            });
        });
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, model: &Model, commands: &mut Vec<Command>) {
        self.rows(&model.keys, &model.service_keys);
        // Borrow the rows out for the frame instead of copying 100,000 positions.
        let rows = std::mem::take(&mut self.rows);
        let Some(keys) = self.rows_in.clone() else {
            return;
        };
        let text_height = ROW_HEIGHT;
        // A narrow window leaves out usage and origin (the key's page has them) so that every
        // row's operations stay in sight; narrower still, the table scrolls sideways.
        let compact = ui.available_width() < COMPACT_BELOW;
        egui::ScrollArea::horizontal()
            .id_salt("key table sideways")
            .show(ui, |ui| {
                let mut table = TableBuilder::new(ui)
                    .striped(true)
                    .resizable(true)
                    .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                    .column(Column::exact(28.0))
                    .column(
                        Column::initial(if compact { 215.0 } else { 290.0 })
                            .at_least(120.0)
                            .clip(true),
                    )
                    .column(Column::initial(140.0).at_least(80.0).clip(true))
                    .column(Column::initial(100.0));
                if !compact {
                    table = table
                        .column(Column::initial(125.0).clip(true))
                        .column(Column::initial(95.0).clip(true));
                }
                table
                    .column(Column::initial(if compact { 170.0 } else { 190.0 }))
                    .column(Column::initial(80.0))
                    .column(Column::remainder().at_least(130.0))
                    .header(text_height, |mut header| {
                        header.col(|ui| {
                            ui.label("");
                        });
                        let mut titles = vec![
                            tr!("ui.common.key_id"),
                            tr!("ui.keys.alias"),
                            tr!("ui.keys.state"),
                        ];
                        if !compact {
                            titles.push(tr!("ui.keys.usage"));
                            titles.push(tr!("ui.keys.origin"));
                        }
                        for title in titles {
                            header.col(|ui| {
                                ui.strong(title);
                            });
                        }
                        header.col(|ui| {
                            let arrow = if self.oldest_first { "⬆" } else { "⬇" };
                            if ui
                                .button(
                                    RichText::new(tr!("ui.keys.created_arrow", arrow = arrow))
                                        .strong(),
                                )
                                .on_hover_text(tr!("ui.keys.sort_by_creation_time"))
                                .clicked()
                            {
                                self.oldest_first = !self.oldest_first;
                            }
                        });
                        header.col(|ui| {
                            ui.strong(tr!("ui.keys.rotation"));
                        });
                        header.col(|ui| {
                            ui.strong(tr!("ui.keys.operations"));
                        });
                    })
                    .body(|body| {
                        body.rows(text_height, rows.len(), |mut row| {
                            let key = &keys[rows[row.index()]];
                            self.row_ui(&mut row, key, compact, commands);
                        });
                    });
            });
        self.rows = rows;
    }

    fn row_ui(
        &mut self,
        row: &mut egui_extras::TableRow<'_, '_>,
        key: &KeyMetadata,
        compact: bool,
        commands: &mut Vec<Command>,
    ) {
        let id = key.key_id.clone();
        let mut ticked = self.selected.contains(&id);
        row.set_selected(ticked);
        row.col(|ui| {
            let response = ui.checkbox(&mut ticked, "");
            response.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::Role::CheckBox,
                    true,
                    ticked,
                    tr!("ui.keys.select_alias", alias = key.alias),
                )
            });
            if response.changed() {
                if ticked {
                    self.selected.insert(id.clone());
                } else {
                    self.selected.remove(&id);
                }
            }
        });
        row.col(|ui| {
            if ui
                .link(RichText::new(&id).monospace())
                .on_hover_text(tr!("ui.keys.open_the_key"))
                .clicked()
            {
                commands.push(Command::ShowKey(id.clone()));
            }
        });
        row.col(|ui| {
            let link = ui.link(&key.alias);
            let link = if key.description.is_empty() {
                link
            } else {
                link.on_hover_text(&key.description)
            };
            if link.clicked() {
                commands.push(Command::ShowKey(id.clone()));
            }
        });
        row.col(|ui| {
            ui.label(
                RichText::new(state_label(key.key_state))
                    .color(state_color(key.key_state, ui.visuals())),
            );
        });
        if !compact {
            row.col(|ui| {
                ui.label(usage_label(&key.key_usage));
            });
            row.col(|ui| {
                ui.label(origin_label(&key.origin));
            });
        }
        row.col(|ui| {
            ui.label(format_time(key.create_time));
        });
        row.col(|ui| {
            let text = if key.key_rotation_enabled {
                tr!("ui.keys.every_rotate_days_d", rotate_days = key.rotate_days)
            } else {
                tr!("ui.common.off")
            };
            ui.label(RichText::new(text).color(if key.key_rotation_enabled {
                ui.visuals().text_color()
            } else {
                Color32::GRAY
            }));
        });
        row.col(|ui| operations_ui(ui, key, &id, &mut self.confirm_disable, commands));
    }
}

/// A row's operations, as the cloud consoles put them at the end of each row: enable or disable,
/// schedule deletion (the key's page with its dialog), cancel deletion, unarchive. Each button's accessible
/// name says which key it acts on.
fn operations_ui(
    ui: &mut egui::Ui,
    key: &KeyMetadata,
    id: &str,
    confirm_disable: &mut Option<Vec<String>>,
    commands: &mut Vec<Command>,
) {
    let button = |ui: &mut egui::Ui, text: &str| {
        let response = ui.small_button(text);
        let name = format!("{text} {}", key.alias);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
        response.clicked()
    };
    match key.key_state {
        KeyState::Enabled if button(ui, &tr!("ui.keys.disable")) => {
            *confirm_disable = Some(vec![id.to_owned()]);
        }
        KeyState::Disabled if button(ui, &tr!("ui.keys.enable")) => {
            commands.push(Command::KeyListChange(KeyRequest::SetEnabled {
                keys: vec![id.to_owned()],
                enable: true,
            }))
        }
        KeyState::PendingDelete if button(ui, &tr!("ui.keys.cancel_deletion")) => {
            commands.push(Command::KeyListChange(KeyRequest::Change {
                key: id.to_owned(),
                change: KeyChange::CancelDeletion,
            }));
        }
        KeyState::Archived if button(ui, &tr!("ui.keys.unarchive")) => {
            commands.push(Command::KeyListChange(KeyRequest::Change {
                key: id.to_owned(),
                change: KeyChange::Unarchive,
            }));
        }
        _ => {}
    }
    if (key.key_state.may_enable_or_disable() || key.key_state == KeyState::PendingImport)
        && button(ui, &tr!("ui.keys.delete"))
    {
        commands.push(Command::ShowKeyDeletion(id.to_owned()));
    }
}

impl SettlesKeyChanges for KeyListState {
    /// A batch that went through leaves the selection.
    fn settled(&mut self, keys: &[String], change: &KeyChange) {
        if keys.len() > 1 && matches!(change, KeyChange::Enable | KeyChange::Disable) {
            self.selected.clear();
        }
    }
}

/// The question before `keys` are disabled: what stops working, and the secrets they protect by
/// name (at most ten, then how many more), since a disabled key's secrets cannot be read.
pub fn disable_question(model: &Model, keys: &[String]) -> Confirmation {
    let title = match keys {
        [one] => {
            let alias = model
                .keys
                .find(one)
                .map_or(one.as_str(), |k| k.alias.as_str());
            tr!("ui.keys.disable_alias", alias = alias)
        }
        _ => tr!("ui.keys.disable_n_keys", count = keys.len()),
    };
    let mut lines = vec![tr!("ui.keys.disabled_keys_refuse")];
    lines.extend(protected_secrets_lines(model, keys));
    Confirmation {
        title,
        lines,
        confirm: if keys.len() == 1 {
            tr!("ui.keys.disable_confirm")
        } else {
            tr!("ui.keys.disable_confirm_many")
        },
        danger: true,
    }
}

/// What a change to `keys` does to the secrets they protect, named (empty when none).
pub fn protected_secrets_lines(model: &Model, keys: &[String]) -> Vec<String> {
    let names: Vec<&str> = keys
        .iter()
        .flat_map(|k| model.secrets_protected_by(k))
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let shown = names
        .iter()
        .take(10)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let mut lines = vec![tr!(
        "ui.keys.it_protects_secrets",
        count = names.len(),
        names = shown
    )];
    if names.len() > 10 {
        lines.push(tr!("ui.keys.and_more", count = names.len() - 10));
    }
    if keys.iter().any(|k| model.is_service_key(k)) {
        lines.push(tr!("ui.keys.service_key_warning"));
    }
    lines
}
