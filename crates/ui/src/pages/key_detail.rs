//! A key's detail page: every metadata field, in-place edits, state actions, rotation settings,
//! scheduling deletion, and the online tools.

use egui::{Color32, RichText};
use keyconsole_base::tr;
use zeroize::Zeroizing;

use super::key_changes::{KeyRequest, SettlesKeyChanges};
use super::key_pair_tools::{ImportPanel, KeyPairTools};
use super::keys::{disable_question, protected_secrets_lines};
use super::online_tools::OnlineTools;
use super::tags::TagsSection;
use crate::command::Command;
use crate::model::Model;
use crate::widgets::{
    Answer, Confirmation, origin_label, permitted_button, rotation_period_ui, section_title,
    spec_label, state_color, state_label, usage_label,
};
use keyconsole_base::util::format_time;
use keyconsole_kms::keys::rules::{PENDING_WINDOW_MAX_DAYS, PENDING_WINDOW_MIN_DAYS};
use keyconsole_kms::{KeyChange, KeyMetadata, KeyState};

pub struct DeletionDialog {
    pub days: u32,
    pub confirm_alias: String,
}

pub struct KeyDetailState {
    pub key_id: String,
    pub editing_alias: Option<String>,
    pub editing_description: Option<String>,
    pub rotation_enabled: bool,
    pub rotation_days: u32,
    pub deletion: Option<DeletionDialog>,
    pub tools: OnlineTools,
    /// A change asked about first (disable, archive).
    pub question: Option<KeyChange>,
    pub tags: TagsSection,
    /// A key pair's tools (public key, sign, verify, decrypt).
    pub pairs: KeyPairTools,
    /// An EXTERNAL key's import.
    pub import: ImportPanel,
    /// The key's state when last drawn: a change clears messages about the old one.
    seen_state: Option<KeyState>,
}

impl KeyDetailState {
    /// Opens the *Schedule deletion* dialog.
    pub fn open_deletion(&mut self) {
        self.deletion = Some(DeletionDialog {
            days: PENDING_WINDOW_MAX_DAYS,
            confirm_alias: String::new(),
        });
    }

    pub fn new(key: &KeyMetadata) -> Self {
        Self {
            key_id: key.key_id.clone(),
            editing_alias: None,
            editing_description: None,
            rotation_enabled: key.key_rotation_enabled,
            rotation_days: key.rotate_days,
            deletion: None,
            tools: OnlineTools::default(),
            question: None,
            tags: TagsSection::default(),
            pairs: KeyPairTools::default(),
            import: ImportPanel::default(),
            seen_state: Some(key.key_state),
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model, commands: &mut Vec<Command>) {
        if ui.link(tr!("ui.key_detail.all_keys")).clicked() {
            commands.push(Command::ShowKeys);
        }
        let Some(key) = model.keys.find(&self.key_id) else {
            ui.add_space(20.0);
            ui.label(RichText::new(tr!("ui.key_detail.this_key_no_longer_exists")).size(18.0));
            ui.label(tr!("ui.key_detail.its_deletion_date_passed_or_it"));
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(RichText::new(&key.alias).size(22.0));
            ui.label(
                RichText::new(state_label(key.key_state))
                    .color(state_color(key.key_state, ui.visuals()))
                    .strong(),
            );
        });
        // "The key is disabled" under Execute goes once the key is enabled again.
        if self.seen_state != Some(key.key_state) {
            self.seen_state = Some(key.key_state);
            self.tools.clear_errors();
        }
        let protected = model.secrets_protected_by(&key.key_id).len();
        if model.is_service_key(&key.key_id) {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                tr!("ui.key_detail.service_key_note", count = protected),
            );
        } else if protected > 0 {
            ui.label(tr!("ui.key_detail.protects_secrets", count = protected));
        }
        ui.add_space(6.0);
        egui::ScrollArea::vertical()
            .auto_shrink(false)
            .show(ui, |ui| {
                ui.columns(2, |columns| {
                    section_title(&mut columns[0], tr!("ui.key_detail.key_information"));
                    self.metadata_ui(&mut columns[0], model, key, commands);
                    section_title(&mut columns[1], tr!("ui.key_detail.actions"));
                    self.actions_ui(&mut columns[1], key, model, commands);
                    columns[1].add_space(12.0);
                    section_title(&mut columns[1], tr!("ui.key_detail.rotation"));
                    self.rotation_ui(&mut columns[1], key, model, commands);
                    columns[1].add_space(12.0);
                    section_title(&mut columns[1], tr!("ui.tags.tags"));
                    if let Some((set, remove)) =
                        self.tags
                            .ui(&mut columns[1], "key tags", &key.tags, !model.remote)
                    {
                        commands.push(change(&key.key_id, KeyChange::Tag { set, remove }));
                    }
                });
                if key.origin == keyconsole_kms::KeyOrigin::External.as_str() {
                    ui.add_space(12.0);
                    ui.separator();
                    section_title(ui, tr!("ui.key_pairs.key_material"));
                    self.import.ui(ui, key, model, commands);
                }
                ui.add_space(12.0);
                ui.separator();
                section_title(ui, tr!("ui.key_detail.online_tools"));
                if key.key_state == KeyState::PendingImport {
                    ui.label(tr!("ui.key_pairs.the_tools_work_once_the_material"));
                } else if key.is_symmetric() {
                    self.tools.ui(ui, &key.key_id, &key.alias, model, commands);
                } else {
                    self.pairs.ui(ui, key, model, commands);
                }
            });
        if self.deletion.is_some() {
            self.deletion_ui(ui.ctx(), model, key, commands);
        }
        self.question_ui(ui.ctx(), model, key, commands);
    }

    /// Asks before the key is disabled or archived, naming the secrets it protects.
    fn question_ui(
        &mut self,
        ctx: &egui::Context,
        model: &Model,
        key: &KeyMetadata,
        commands: &mut Vec<Command>,
    ) {
        let Some(asked) = &self.question else {
            return;
        };
        let keys = [key.key_id.clone()];
        let question = match asked {
            KeyChange::Archive => {
                let mut lines = vec![tr!("ui.key_detail.archived_keys_decrypt_only")];
                lines.extend(protected_secrets_lines(model, &keys));
                Confirmation {
                    title: tr!("ui.key_detail.archive_alias", alias = key.alias),
                    lines,
                    confirm: tr!("ui.key_detail.archive_confirm"),
                    danger: false,
                }
            }
            _ => disable_question(model, &keys),
        };
        match question.ui(ctx, "key question") {
            Answer::Open => {}
            Answer::Cancelled => self.question = None,
            Answer::Confirmed => match self.question.take() {
                Some(KeyChange::Archive) => {
                    commands.push(change(&key.key_id, KeyChange::Archive));
                }
                Some(_) => commands.push(Command::KeyPageChange(KeyRequest::SetEnabled {
                    keys: keys.to_vec(),
                    enable: false,
                })),
                None => {}
            },
        }
    }

    fn metadata_ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &Model,
        key: &KeyMetadata,
        commands: &mut Vec<Command>,
    ) {
        let keys = &model.keys;
        let pencil = |ui: &mut egui::Ui, action: &str, hint: String| {
            permitted_button(
                ui,
                true,
                model.why_not_on_key(action, &key.key_id),
                egui::Button::new("✏").small(),
            )
            .on_hover_text(hint)
        };
        egui::Grid::new("key metadata")
            .num_columns(2)
            .spacing([14.0, 6.0])
            .striped(true)
            .show(ui, |ui| {
                ui.label(tr!("ui.common.key_id"));
                ui.horizontal(|ui| {
                    ui.monospace(&key.key_id);
                    if ui
                        .small_button("🗐")
                        .on_hover_text(tr!("ui.key_detail.copy_the_keyid"))
                        .clicked()
                    {
                        commands.push(Command::Copy {
                            text: Zeroizing::new(key.key_id.clone()),
                            what: tr!("ui.key_detail.the_keyid"),
                        });
                    }
                });
                ui.end_row();

                let label = ui.label(tr!("ui.key_detail.alias"));
                let mut stop_editing = false;
                ui.vertical(|ui| match &mut self.editing_alias {
                    Some(alias) => {
                        ui.horizontal(|ui| {
                            ui.add(egui::TextEdit::singleline(alias).desired_width(180.0))
                                .labelled_by(label.id);
                            if ui.button(tr!("ui.key_detail.save")).clicked() {
                                commands.push(change(
                                    &key.key_id,
                                    KeyChange::Update {
                                        alias: Some(alias.clone()),
                                        description: None,
                                    },
                                ));
                            }
                            stop_editing = ui.button(tr!("ui.key_detail.cancel")).clicked();
                        });
                        if let Err(e) = keys.check_alias(alias, Some(&key.key_id)) {
                            ui.colored_label(ui.visuals().error_fg_color, e.message_here());
                        }
                    }
                    None => {
                        ui.horizontal(|ui| {
                            ui.label(&key.alias);
                            if pencil(ui, "kms:UpdateAlias", tr!("ui.key_detail.edit_the_alias"))
                                .clicked()
                            {
                                self.editing_alias = Some(key.alias.clone());
                            }
                        });
                    }
                });
                if stop_editing {
                    self.editing_alias = None;
                }
                ui.end_row();

                let label = ui.label(tr!("ui.key_detail.description"));
                let mut stop_editing = false;
                ui.vertical(|ui| match &mut self.editing_description {
                    Some(description) => {
                        ui.add(
                            egui::TextEdit::multiline(description)
                                .desired_rows(2)
                                .desired_width(260.0),
                        )
                        .labelled_by(label.id);
                        ui.horizontal(|ui| {
                            ui.label(
                                RichText::new(tr!(
                                    "ui.key_detail.description_1024_bytes",
                                    description = description.len()
                                ))
                                .small(),
                            );
                            if ui.button(tr!("ui.key_detail.save")).clicked() {
                                commands.push(change(
                                    &key.key_id,
                                    KeyChange::Update {
                                        alias: None,
                                        description: Some(description.clone()),
                                    },
                                ));
                            }
                            stop_editing = ui.button(tr!("ui.key_detail.cancel")).clicked();
                        });
                    }
                    None => {
                        ui.horizontal(|ui| {
                            let shown = if key.description.is_empty() {
                                "—"
                            } else {
                                key.description.as_str()
                            };
                            ui.add(egui::Label::new(shown).wrap());
                            if pencil(
                                ui,
                                "kms:UpdateKeyDescription",
                                tr!("ui.key_detail.edit_the_description"),
                            )
                            .clicked()
                            {
                                self.editing_description = Some(key.description.clone());
                            }
                        });
                    }
                });
                if stop_editing {
                    self.editing_description = None;
                }
                ui.end_row();

                let rows = [
                    (tr!("ui.key_detail.key_state"), state_label(key.key_state)),
                    (tr!("ui.key_detail.key_usage"), usage_label(&key.key_usage)),
                    (tr!("ui.key_pairs.algorithm"), spec_label(&key.key_spec)),
                    (tr!("ui.key_detail.origin"), origin_label(&key.origin)),
                    (tr!("ui.key_detail.created"), format_time(key.create_time)),
                    (
                        tr!("ui.key_detail.key_versions"),
                        crate::widgets::count_text(key.version_count as usize),
                    ),
                    (
                        tr!("ui.key_detail.automatic_rotation"),
                        if key.key_rotation_enabled {
                            tr!(
                                "ui.key_detail.on_every_rotate_days_days",
                                rotate_days = key.rotate_days
                            )
                        } else {
                            tr!("ui.common.off")
                        },
                    ),
                    (
                        tr!("ui.key_detail.last_rotation"),
                        format_time(key.last_rotate_time),
                    ),
                    (
                        tr!("ui.key_detail.next_rotation"),
                        format_time(key.next_rotate_time),
                    ),
                ];
                for (name, value) in rows {
                    ui.label(name);
                    ui.label(value);
                    ui.end_row();
                }
                if key.key_state == KeyState::PendingDelete {
                    ui.label(tr!("ui.key_detail.deletion_date"));
                    ui.colored_label(
                        state_color(KeyState::PendingDelete, ui.visuals()),
                        format_time(key.deletion_date),
                    );
                    ui.end_row();
                }
            });
    }

    fn actions_ui(
        &mut self,
        ui: &mut egui::Ui,
        key: &KeyMetadata,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        let id = key.key_id.clone();
        let remote = model.remote;
        // Shown to a user whose policy forbids them, disabled with the reason.
        let button = |ui: &mut egui::Ui, action: &str, text: String| {
            permitted_button(
                ui,
                true,
                model.why_not_on_key(action, &id),
                egui::Button::new(text),
            )
        };
        // Which actions a state allows is the engine's rule; the buttons follow it.
        let state = key.key_state;
        ui.horizontal_wrapped(|ui| {
            if state.may_enable_or_disable() {
                let enable = !state.may_encrypt();
                let (action, text) = if enable {
                    ("kms:EnableKey", tr!("ui.key_detail.enable"))
                } else {
                    ("kms:DisableKey", tr!("ui.key_detail.disable"))
                };
                if button(ui, action, text).clicked() {
                    if enable {
                        commands.push(Command::KeyPageChange(KeyRequest::SetEnabled {
                            keys: vec![id.clone()],
                            enable,
                        }));
                    } else {
                        self.question = Some(KeyChange::Disable);
                    }
                }
            }
            if state.may_archive()
                && !state.may_unarchive()
                && button(ui, "kms:ArchiveKey", tr!("ui.key_detail.archive"))
                    .on_hover_text(tr!("ui.key_detail.decrypt_only_no_new_encryptions"))
                    .clicked()
            {
                self.question = Some(KeyChange::Archive);
            }
            // A server is not asked to rotate now: the cloud's API has no such action.
            if state.may_rotate()
                && key.rotates()
                && !remote
                && button(ui, "kms:RotateKey", tr!("ui.key_detail.rotate_now"))
                    .on_hover_text(tr!("ui.key_detail.add_a_new_key_version_old"))
                    .clicked()
            {
                commands.push(change(&id, KeyChange::Rotate));
            }
            // Offered to enabled keys too: the dialog says to disable first, as the cloud's does.
            if (state.may_enable_or_disable() || state == KeyState::PendingImport)
                && button(
                    ui,
                    "kms:ScheduleKeyDeletion",
                    tr!("ui.key_detail.schedule_deletion"),
                )
                .clicked()
            {
                self.open_deletion();
            }
            if state.may_encrypt()
                && key.is_symmetric()
                && button(
                    ui,
                    "kms:GenerateDataKey",
                    tr!("ui.key_detail.encrypt_a_file"),
                )
                .on_hover_text(tr!("ui.key_detail.envelope_encrypt_a_file_of_any"))
                .clicked()
            {
                commands.push(Command::ShowFiles(Some(id.clone())));
            }
            if state.may_cancel_deletion()
                && button(
                    ui,
                    "kms:CancelKeyDeletion",
                    tr!("ui.key_detail.cancel_deletion"),
                )
                .clicked()
            {
                commands.push(change(&id, KeyChange::CancelDeletion));
            }
            if state.may_unarchive()
                && button(ui, "kms:CancelKeyArchive", tr!("ui.key_detail.unarchive")).clicked()
            {
                commands.push(change(&id, KeyChange::Unarchive));
            }
        });
    }

    fn rotation_ui(
        &mut self,
        ui: &mut egui::Ui,
        key: &KeyMetadata,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        if !key.rotates() {
            ui.label(if key.is_symmetric() {
                tr!("ui.key_pairs.imported_material_does_not_rotate")
            } else {
                tr!("ui.key_pairs.key_pairs_do_not_rotate")
            });
            return;
        }
        rotation_period_ui(ui, &mut self.rotation_enabled, &mut self.rotation_days);
        let changed = self.rotation_enabled != key.key_rotation_enabled
            || (self.rotation_enabled && self.rotation_days != key.rotate_days);
        ui.horizontal(|ui| {
            let action = if self.rotation_enabled {
                "kms:EnableKeyRotation"
            } else {
                "kms:DisableKeyRotation"
            };
            if permitted_button(
                ui,
                changed,
                model.why_not_on_key(action, &key.key_id),
                egui::Button::new(tr!("ui.key_detail.apply_rotation_settings")),
            )
            .clicked()
            {
                let rotation = if self.rotation_enabled {
                    KeyChange::EnableRotation {
                        days: Some(self.rotation_days),
                    }
                } else {
                    KeyChange::DisableRotation
                };
                commands.push(change(&key.key_id, rotation));
            }
        });
    }

    fn deletion_ui(
        &mut self,
        ctx: &egui::Context,
        model: &Model,
        key: &KeyMetadata,
        commands: &mut Vec<Command>,
    ) {
        let Some(dialog) = &mut self.deletion else {
            return;
        };
        let mut close = false;
        let modal = egui::Modal::new(egui::Id::unique("schedule deletion")).show(ctx, |ui| {
            ui.set_width(440.0);
            ui.heading(tr!("ui.key_detail.schedule_key_deletion"));
            ui.label(tr!("ui.key_detail.when_the_waiting_period_ends_the"));
            for line in protected_secrets_lines(model, std::slice::from_ref(&key.key_id)) {
                ui.colored_label(ui.visuals().warn_fg_color, line);
            }
            ui.add_space(6.0);
            let disabled = key.key_state.may_schedule_deletion();
            if !disabled {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    tr!("ui.key_detail.the_key_must_be_disabled_first"),
                );
            }
            ui.horizontal(|ui| {
                let label = ui.label(tr!("ui.key_detail.waiting_period"));
                ui.add(
                    egui::DragValue::new(&mut dialog.days)
                        .range(PENDING_WINDOW_MIN_DAYS..=PENDING_WINDOW_MAX_DAYS),
                )
                .labelled_by(label.id);
                ui.label(tr!(
                    "ui.key_detail.days_pending_window_min_days_pending",
                    pending_window_min_days = PENDING_WINDOW_MIN_DAYS,
                    pending_window_max_days = PENDING_WINDOW_MAX_DAYS
                ));
            });
            let label = ui.label(tr!(
                "ui.key_detail.type_the_alias_alias_to_confirm",
                alias = key.alias
            ));
            ui.add(
                egui::TextEdit::singleline(&mut dialog.confirm_alias).desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let confirmed = dialog.confirm_alias == key.alias;
                let button = egui::Button::new(
                    RichText::new(tr!("ui.key_detail.schedule_deletion_3")).color(Color32::WHITE),
                )
                .fill(Color32::from_rgb(170, 50, 40));
                if ui.add_enabled(disabled && confirmed, button).clicked() {
                    commands.push(change(
                        &key.key_id,
                        KeyChange::ScheduleDeletion { days: dialog.days },
                    ));
                    close = true;
                }
                if ui.button(tr!("ui.key_detail.cancel")).clicked() {
                    close = true;
                }
            });
        });
        if close || crate::widgets::closes_keeping_input(&modal) {
            self.deletion = None;
        }
    }
}

/// A change to this page's key.
fn change(key: &str, change: KeyChange) -> Command {
    Command::KeyPageChange(KeyRequest::Change {
        key: key.to_owned(),
        change,
    })
}

impl SettlesKeyChanges for KeyDetailState {
    /// A saved alias or description closes its edit (if the page still shows that key).
    fn settled(&mut self, keys: &[String], change: &KeyChange) {
        if matches!(change, KeyChange::Tag { .. }) && keys.contains(&self.key_id) {
            self.tags.editing = None;
        }
        if let KeyChange::Update { alias, description } = change
            && keys.contains(&self.key_id)
        {
            if alias.is_some() {
                self.editing_alias = None;
            }
            if description.is_some() {
                self.editing_description = None;
            }
        }
    }
}
