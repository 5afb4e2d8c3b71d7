//! The key list: a virtualized table of every key, searchable by KeyId or alias, filtered by state,
//! sorted by creation time, with multi-select for batch enable/disable.

use std::collections::BTreeSet;

use egui::{Color32, RichText};
use egui_extras::{Column, TableBuilder};

use crate::kms::{KeyQuery, KeyRecord, KeyState, Keys, Kms, Order};
use crate::ui::command::Command;
use crate::ui::widgets::{state_color, state_filter_ui, state_label};
use crate::util::format_time;

pub const ROW_HEIGHT: f32 = 26.0;

#[derive(Debug, Default)]
pub struct KeyListState {
    pub search: String,
    pub state_filter: Option<KeyState>,
    pub oldest_first: bool,
    /// KeyIds of the ticked rows.
    pub selected: BTreeSet<String>,
    pub focus_search: bool,
    rows: Vec<usize>,
    rows_for: Option<ViewInputs>,
    /// The published keys the rows point into.
    rows_in: Option<Keys>,
}

/// What the visible rows depend on; when any of it changes the rows are computed again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ViewInputs {
    search: String,
    state: Option<KeyState>,
    oldest_first: bool,
}

impl KeyListState {
    /// Positions (in `self.rows_in`, the keys they were computed on) of the rows to show,
    /// recomputed only when something changed.
    pub fn rows(&mut self, kms: &Kms) -> &[usize] {
        let keys = kms.keys();
        let inputs = ViewInputs {
            search: self.search.clone(),
            state: self.state_filter,
            oldest_first: self.oldest_first,
        };
        let same_keys = self.rows_in.as_ref().is_some_and(|k| k.is_same(&keys));
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
            self.rows = keys.matching(&query).unwrap_or_default();
            // Keys deleted elsewhere leave the selection too.
            self.selected.retain(|id| kms.describe_key(id).is_ok());
            self.rows_for = Some(inputs);
            self.rows_in = Some(keys);
        }
        &self.rows
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, kms: &Kms, commands: &mut Vec<Command>) {
        self.toolbar_ui(ui, commands);
        ui.add_space(6.0);
        let total = kms.keys().len();
        let shown = self.rows(kms).len();
        ui.horizontal(|ui| {
            ui.label(format!("{shown} of {total} keys"));
            if !self.selected.is_empty() {
                ui.separator();
                ui.label(format!("{} selected", self.selected.len()));
            }
        });
        ui.add_space(4.0);
        if total == 0 {
            ui.add_space(30.0);
            ui.vertical_centered(|ui| {
                ui.label(RichText::new("No keys yet.").size(18.0));
                ui.label("Create a customer master key to encrypt your first secret.");
                if ui.button("➕ Create key").clicked() {
                    commands.push(Command::OpenCreateKey);
                }
            });
            return;
        }
        self.table_ui(ui, kms, commands);
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            if ui
                .button(RichText::new("➕ Create key").strong())
                .on_hover_text("Ctrl+N")
                .clicked()
            {
                commands.push(Command::OpenCreateKey);
            }
            ui.separator();
            let search = ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text("🔍 Search KeyId or alias (Ctrl+F)")
                    .desired_width(280.0),
            );
            search.widget_info(|| egui::WidgetInfo::labeled(egui::Role::TextInput, true, "Search"));
            if std::mem::take(&mut self.focus_search) {
                search.request_focus();
            }
            let label = ui.label("State");
            state_filter_ui(
                ui,
                "state filter",
                label.id,
                ("All", &KeyState::ALL),
                state_label,
                &mut self.state_filter,
            );

            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let any = !self.selected.is_empty();
                if ui
                    .add_enabled(any, egui::Button::new("Clear selection"))
                    .clicked()
                {
                    self.selected.clear();
                }
                let keys: Vec<String> = self.selected.iter().cloned().collect();
                if ui
                    .add_enabled(any, egui::Button::new("Disable selected"))
                    .clicked()
                {
                    commands.push(Command::SetEnabled {
                        keys: keys.clone(),
                        enable: false,
                    });
                }
                if ui
                    .add_enabled(any, egui::Button::new("Enable selected"))
                    .clicked()
                {
                    commands.push(Command::SetEnabled { keys, enable: true });
                }
            });
        });
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, kms: &Kms, commands: &mut Vec<Command>) {
        self.rows(kms);
        // Borrow the rows out for the frame instead of copying 100,000 positions.
        let rows = std::mem::take(&mut self.rows);
        let Some(keys) = self.rows_in.clone() else {
            return;
        };
        let text_height = ROW_HEIGHT;
        // A narrow window scrolls the table sideways rather than cutting its last columns off.
        egui::ScrollArea::horizontal()
            .id_salt("key table sideways")
            .show(ui, |ui| {
                TableBuilder::new(ui)
                    .striped(true)
                    .resizable(true)
                    .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                    .column(Column::exact(28.0))
                    .column(Column::initial(290.0).at_least(120.0).clip(true))
                    .column(Column::initial(160.0).at_least(80.0).clip(true))
                    .column(Column::initial(110.0))
                    .column(Column::initial(125.0))
                    .column(Column::initial(95.0))
                    .column(Column::initial(165.0))
                    .column(Column::initial(80.0))
                    .column(Column::remainder().at_least(130.0))
                    .header(text_height, |mut header| {
                        header.col(|ui| {
                            ui.label("");
                        });
                        for title in ["KeyId", "Alias", "State", "Usage", "Origin"] {
                            header.col(|ui| {
                                ui.strong(title);
                            });
                        }
                        header.col(|ui| {
                            let arrow = if self.oldest_first { "⬆" } else { "⬇" };
                            if ui
                                .button(RichText::new(format!("Created {arrow}")).strong())
                                .on_hover_text("Sort by creation time")
                                .clicked()
                            {
                                self.oldest_first = !self.oldest_first;
                            }
                        });
                        header.col(|ui| {
                            ui.strong("Rotation");
                        });
                        header.col(|ui| {
                            ui.strong("Operations");
                        });
                    })
                    .body(|body| {
                        body.rows(text_height, rows.len(), |mut row| {
                            let key = &keys[rows[row.index()]];
                            self.row_ui(&mut row, key, commands);
                        });
                    });
            });
        self.rows = rows;
    }

    fn row_ui(
        &mut self,
        row: &mut egui_extras::TableRow<'_, '_>,
        key: &KeyRecord,
        commands: &mut Vec<Command>,
    ) {
        let id = key.key_id.to_string();
        let mut ticked = self.selected.contains(&id);
        row.set_selected(ticked);
        row.col(|ui| {
            let response = ui.checkbox(&mut ticked, "");
            response.widget_info(|| {
                egui::WidgetInfo::selected(
                    egui::Role::CheckBox,
                    true,
                    ticked,
                    format!("Select {}", key.alias),
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
                .on_hover_text("Open the key")
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
                RichText::new(state_label(key.state)).color(state_color(key.state, ui.visuals())),
            );
        });
        row.col(|ui| {
            ui.label(key.usage.as_str());
        });
        row.col(|ui| {
            ui.label(key.origin.as_str());
        });
        row.col(|ui| {
            ui.label(format_time(key.create_time));
        });
        row.col(|ui| {
            let text = if key.rotation_enabled {
                format!("every {} d", key.rotate_days)
            } else {
                "off".to_owned()
            };
            ui.label(RichText::new(text).color(if key.rotation_enabled {
                ui.visuals().text_color()
            } else {
                Color32::GRAY
            }));
        });
        row.col(|ui| operations_ui(ui, key, &id, commands));
    }
}

/// A row's operations, as the cloud consoles put them at the end of each row: enable or disable,
/// schedule deletion (the key's page with its dialog), cancel deletion, unarchive. Each button's accessible
/// name says which key it acts on.
fn operations_ui(ui: &mut egui::Ui, key: &KeyRecord, id: &str, commands: &mut Vec<Command>) {
    let button = |ui: &mut egui::Ui, text: &str| {
        let response = ui.small_button(text);
        let name = format!("{text} {}", key.alias);
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
        response.clicked()
    };
    match key.state {
        KeyState::Enabled if button(ui, "Disable") => commands.push(Command::SetEnabled {
            keys: vec![id.to_owned()],
            enable: false,
        }),
        KeyState::Disabled if button(ui, "Enable") => commands.push(Command::SetEnabled {
            keys: vec![id.to_owned()],
            enable: true,
        }),
        KeyState::PendingDelete if button(ui, "Cancel deletion") => {
            commands.push(Command::CancelDeletion(id.to_owned()));
        }
        KeyState::Archived if button(ui, "Unarchive") => {
            commands.push(Command::Unarchive(id.to_owned()));
        }
        _ => {}
    }
    if key.state.may_enable_or_disable() && button(ui, "Delete…") {
        commands.push(Command::ShowKeyDeletion(id.to_owned()));
    }
}
