//! The *Audit* page: the keystore's audit trail (or, connected, the server's, through CloudAudit's
//! LookUpEvents), newest first. Filters by time, user, action, key or secret, outcome and any
//! text; filtering runs on the worker, and the table draws only the rows in view, so 100,000
//! events scroll without a dropped frame. Exports what is shown as JSON Lines or CSV; *Verify*
//! checks the chain and says where it breaks.

use std::sync::Arc;

use egui::RichText;
use egui_extras::{Column, TableBuilder};
use keyconsole_base::tr;
use keyconsole_base::util::format_time;
use keyconsole_kms::audit::{AuditEvent, AuditFilter, AuditQuery, VerifyReport, parse_time_bound};
use keyconsole_kms::{Caller, Face, KmsError};

use crate::app::backend::{Outcome, PageCalls};
use crate::command::Command;
use crate::platform::DialogPurpose;

const ROW_HEIGHT: f32 = 22.0;

/// Which outcomes the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutcomeChoice {
    #[default]
    All,
    Succeeded,
    Failed,
}

/// The filter as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditForm {
    pub since: String,
    pub until: String,
    pub user: String,
    pub action: String,
    pub resource: String,
    pub outcome: OutcomeChoice,
    pub search: String,
}

impl AuditForm {
    /// The engine's filter; a time that does not read is an error to show.
    fn filter(&self, now: i64) -> Result<AuditFilter, String> {
        let time = |text: &str| -> Result<Option<i64>, String> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            parse_time_bound(text, now)
                .map(Some)
                .ok_or_else(|| tr!("ui.audit.time_not_understood", time = text.trim()))
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            since: time(&self.since)?,
            until: time(&self.until)?,
            user: text(&self.user),
            action: text(&self.action),
            resource: text(&self.resource),
            succeeded: match self.outcome {
                OutcomeChoice::All => None,
                OutcomeChoice::Succeeded => Some(true),
                OutcomeChoice::Failed => Some(false),
            },
            text: text(&self.search),
            ..AuditFilter::default()
        })
    }
}

#[derive(Default)]
pub struct AuditState {
    /// Every event read, newest first.
    pub events: Arc<Vec<AuditEvent>>,
    /// The positions in `events` the applied filter shows.
    pub shown: Arc<Vec<u32>>,
    pub form: AuditForm,
    /// The form `shown` was filtered with.
    applied: AuditForm,
    pub loaded: bool,
    pub loading: bool,
    filtering: bool,
    /// The form's time fields did not read.
    pub form_error: Option<String>,
    pub verify: Option<Result<VerifyReport, KmsError>>,
    pub verifying: bool,
    pub error: Option<KmsError>,
}

/// What the page asks of the worker.
#[derive(Debug)]
pub enum AuditRequest {
    Load,
    Filter,
    Verify,
    /// Writes the events shown to `path` (`csv` or JSON Lines).
    Export {
        path: std::path::PathBuf,
        csv: bool,
    },
}

fn owner() -> Caller {
    Caller::local(Face::Console, keyconsole_base::util::i18n::current())
}

/// The trail's own names for who acted, as the page shows them (a user's name as it is).
fn user_name(user: &str) -> String {
    match user {
        "owner" => tr!("ui.audit.owner"),
        "maintenance" => tr!("ui.audit.maintenance"),
        name => name.to_owned(),
    }
}

fn face_name(face: &str) -> String {
    match face {
        "console" => tr!("ui.audit.via_console"),
        "cli" => tr!("ui.audit.via_cli"),
        "api" => tr!("ui.audit.via_api"),
        "engine" => tr!("ui.audit.maintenance"),
        other => other.to_owned(),
    }
}

fn filtered(events: &[AuditEvent], filter: &AuditFilter) -> Vec<u32> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| filter.matches(e))
        .map(|(i, _)| i as u32)
        .collect()
}

impl AuditRequest {
    pub(crate) fn run(
        self,
        page: &mut AuditState,
        mut calls: PageCalls<'_, AuditState>,
        now: i64,
    ) -> Outcome {
        match self {
            AuditRequest::Load => {
                page.loading = true;
                calls.call(
                    |session| {
                        let query = AuditQuery {
                            filter: AuditFilter::default(),
                            before: None,
                            limit: 0,
                        };
                        session.service().look_up_events(&owner(), &query)
                    },
                    move |page, read| {
                        let Some(page) = page else { return Ok(None) };
                        page.loading = false;
                        match read {
                            Ok(read) => {
                                page.events = Arc::new(read.events);
                                page.loaded = true;
                                page.error = None;
                                // Shown as filtered when the worker answers.
                                page.applied = AuditForm {
                                    search: "\u{0}".to_owned(),
                                    ..AuditForm::default()
                                };
                                page.shown = Arc::new((0..page.events.len() as u32).collect());
                                Ok(None)
                            }
                            Err(e) => {
                                page.error = Some(e.clone());
                                Err(e)
                            }
                        }
                    },
                )
            }
            AuditRequest::Filter => {
                let form = page.form.clone();
                let filter = match form.filter(now) {
                    Ok(filter) => filter,
                    Err(why) => {
                        page.form_error = Some(why);
                        page.applied = form;
                        return Ok(None);
                    }
                };
                page.form_error = None;
                page.filtering = true;
                page.applied = form.clone();
                let events = page.events.clone();
                calls.call(
                    move |_| Ok(filtered(&events, &filter)),
                    move |page, shown| {
                        if let Some(page) = page {
                            page.filtering = false;
                            // A newer filter was asked meanwhile: its answer follows.
                            if page.applied == form {
                                page.shown = Arc::new(shown?);
                            }
                        }
                        Ok(None)
                    },
                )
            }
            AuditRequest::Verify => {
                page.verifying = true;
                calls.call(
                    |session| session.admin()?.verify_audit_trail(),
                    |page, report| {
                        if let Some(page) = page {
                            page.verifying = false;
                            page.verify = Some(report);
                        }
                        Ok(None)
                    },
                )
            }
            AuditRequest::Export { path, csv } => {
                let events = page.events.clone();
                let shown = page.shown.clone();
                calls.call(
                    move |session| {
                        let chosen: Vec<AuditEvent> = shown
                            .iter()
                            .rev()
                            .filter_map(|&i| events.get(i as usize).cloned())
                            .collect();
                        let text = if csv {
                            keyconsole_kms::audit::to_csv(&chosen)
                        } else {
                            keyconsole_kms::audit::to_jsonl(&chosen)
                        };
                        if let Some(keystore) = session.service().keystore_path() {
                            keyconsole_kms::outputs::check_output_path(keystore, &path)?;
                        }
                        keyconsole_base::util::atomic_file::replace_file(&path, text.as_bytes())
                            .map_err(|e| crate::platform::file_error(&path, &e, true))?;
                        Ok((path, chosen.len()))
                    },
                    |_, written| {
                        let (path, count) = written?;
                        Ok(Some(tr!(
                            "ui.audit.exported",
                            count = count,
                            path = path.display()
                        )))
                    },
                )
            }
        }
    }
}

impl AuditState {
    /// Never read yet (the page came back after unlocking).
    pub fn wants_load(&self) -> bool {
        !self.loaded && !self.loading && self.error.is_none()
    }

    /// The filter changed since the rows were filtered (asked again by the app after the frame).
    pub fn wants_filter(&self) -> bool {
        self.loaded && !self.filtering && self.form != self.applied
    }

    /// `why_not`: why the connected user may not read the trail (its policy), if it may not.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        remote: bool,
        why_not: Option<String>,
        commands: &mut Vec<Command>,
    ) {
        ui.heading(tr!("ui.audit.audit_trail"));
        ui.label(if remote {
            tr!("ui.audit.about_remote")
        } else {
            tr!("ui.audit.about_local")
        });
        ui.add_space(6.0);
        self.filters_ui(ui);
        ui.add_space(4.0);
        let refused = why_not.is_some();
        if let Some(why) = &why_not {
            ui.colored_label(ui.visuals().warn_fg_color, why);
        }
        self.actions_ui(ui, remote, why_not, commands);
        if let Some(why) = &self.form_error {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e.message_here());
        }
        self.verify_ui(ui);
        ui.separator();
        if !self.loaded {
            if refused {
                return;
            }
            ui.add_space(20.0);
            ui.vertical_centered(|ui| ui.spinner());
            return;
        }
        self.table_ui(ui);
    }

    fn filters_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let field = |ui: &mut egui::Ui, label: String, value: &mut String, hint: String| {
                let label = ui.label(label);
                ui.add(
                    egui::TextEdit::singleline(value)
                        .desired_width(120.0)
                        .hint_text(hint),
                )
                .labelled_by(label.id);
            };
            field(
                ui,
                tr!("ui.audit.from"),
                &mut self.form.since,
                tr!("ui.audit.time_hint"),
            );
            field(
                ui,
                tr!("ui.audit.to"),
                &mut self.form.until,
                tr!("ui.audit.time_hint"),
            );
            field(ui, tr!("ui.audit.user"), &mut self.form.user, String::new());
            field(
                ui,
                tr!("ui.audit.action"),
                &mut self.form.action,
                "Decrypt".to_owned(),
            );
            field(
                ui,
                tr!("ui.audit.key_or_secret"),
                &mut self.form.resource,
                String::new(),
            );
            let label = ui.label(tr!("ui.audit.outcome"));
            let name = |o: OutcomeChoice| match o {
                OutcomeChoice::All => tr!("ui.audit.all"),
                OutcomeChoice::Succeeded => tr!("ui.audit.succeeded"),
                OutcomeChoice::Failed => tr!("ui.audit.failed"),
            };
            egui::ComboBox::from_id_salt("audit outcome")
                .selected_text(name(self.form.outcome))
                .show_ui(ui, |ui| {
                    for o in [
                        OutcomeChoice::All,
                        OutcomeChoice::Succeeded,
                        OutcomeChoice::Failed,
                    ] {
                        ui.selectable_value(&mut self.form.outcome, o, name(o));
                    }
                })
                .response
                .labelled_by(label.id);
            field(
                ui,
                tr!("ui.audit.search"),
                &mut self.form.search,
                String::new(),
            );
        });
    }

    fn actions_ui(
        &mut self,
        ui: &mut egui::Ui,
        remote: bool,
        why_not: Option<String>,
        commands: &mut Vec<Command>,
    ) {
        ui.horizontal(|ui| {
            let shown = self.shown.len();
            let total = self.events.len();
            ui.label(tr!("ui.audit.shown_of_total", shown = shown, total = total));
            if self.loading || self.filtering {
                ui.spinner();
            }
            if crate::widgets::permitted_button(
                ui,
                !self.loading,
                why_not,
                egui::Button::new(tr!("ui.audit.reload")),
            )
            .clicked()
            {
                commands.push(Command::Audit(AuditRequest::Load));
            }
            let can_export = self.loaded && shown > 0;
            if ui
                .add_enabled(can_export, egui::Button::new(tr!("ui.audit.export_jsonl")))
                .clicked()
            {
                commands.push(Command::Dialog(DialogPurpose::SaveAuditJsonl));
            }
            if ui
                .add_enabled(can_export, egui::Button::new(tr!("ui.audit.export_csv")))
                .clicked()
            {
                commands.push(Command::Dialog(DialogPurpose::SaveAuditCsv));
            }
            let verify = ui
                .add_enabled(
                    !remote && !self.verifying,
                    egui::Button::new(tr!("ui.audit.verify")),
                )
                .on_disabled_hover_text(if remote {
                    tr!("ui.audit.verify_on_the_server")
                } else {
                    tr!("ui.audit.verifying")
                });
            if verify.clicked() {
                commands.push(Command::Audit(AuditRequest::Verify));
            }
        });
    }

    fn verify_ui(&self, ui: &mut egui::Ui) {
        if self.verifying {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(tr!("ui.audit.verifying"));
            });
            return;
        }
        match &self.verify {
            None => {}
            Some(Ok(report)) => match &report.broken {
                None => {
                    ui.colored_label(
                        egui::Color32::from_rgb(0x2e, 0x9d, 0x4f),
                        tr!(
                            "ui.audit.intact",
                            events = report.events,
                            segments = report.segments
                        ),
                    );
                    if let Some(anchor) = &report.pruned {
                        ui.label(tr!(
                            "ui.audit.pruned_before",
                            seq = anchor.seq,
                            time = format_time(anchor.time),
                            pruned_at = format_time(anchor.pruned_at)
                        ));
                    }
                }
                Some(broken) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        RichText::new(tr!(
                            "ui.audit.broken",
                            place = broken.to_string(),
                            events = report.events
                        ))
                        .strong(),
                    );
                }
            },
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e.message_here());
            }
        }
    }

    fn table_ui(&self, ui: &mut egui::Ui) {
        if self.shown.is_empty() {
            ui.add_space(12.0);
            ui.label(if self.events.is_empty() {
                tr!("ui.audit.no_events")
            } else {
                tr!("ui.audit.none_match")
            });
            return;
        }
        let compact = ui.available_width() < 1100.0;
        let mut table = TableBuilder::new(ui)
            .striped(true)
            .resizable(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(60.0).at_least(40.0))
            .column(Column::initial(if compact { 130.0 } else { 175.0 }).clip(true))
            .column(Column::initial(90.0).clip(true))
            .column(Column::initial(95.0).clip(true))
            .column(Column::initial(150.0).clip(true));
        if !compact {
            table = table.column(Column::initial(110.0).clip(true));
        }
        table
            .column(Column::initial(150.0).clip(true))
            .column(Column::remainder().at_least(160.0).clip(true))
            .header(20.0, |mut header| {
                let mut titles = vec![
                    tr!("ui.audit.seq"),
                    tr!("ui.audit.time"),
                    tr!("ui.audit.user"),
                    tr!("ui.audit.face"),
                    tr!("ui.audit.action"),
                ];
                if !compact {
                    titles.push(tr!("ui.audit.source"));
                }
                titles.push(tr!("ui.audit.outcome"));
                titles.push(tr!("ui.audit.resource"));
                for title in titles {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, self.shown.len(), |mut row| {
                    let Some(event) = self
                        .shown
                        .get(row.index())
                        .and_then(|&i| self.events.get(i as usize))
                    else {
                        return;
                    };
                    row.col(|ui| {
                        ui.label(event.seq.to_string());
                    });
                    row.col(|ui| {
                        ui.label(format_time(event.time));
                    });
                    row.col(|ui| {
                        ui.label(user_name(&event.user));
                    });
                    row.col(|ui| {
                        let face = face_name(&event.face);
                        if event.dialect.is_empty() {
                            ui.label(face);
                        } else {
                            ui.label(format!("{face} · {}", event.dialect));
                        }
                    });
                    row.col(|ui| {
                        ui.label(&event.action);
                    });
                    if !compact {
                        row.col(|ui| {
                            ui.label(&event.source);
                        });
                    }
                    row.col(|ui| {
                        if event.succeeded() {
                            ui.label(tr!("ui.audit.success"));
                        } else {
                            ui.colored_label(ui.visuals().error_fg_color, &event.outcome);
                        }
                    });
                    row.col(|ui| {
                        ui.label(event.resource())
                            .on_hover_text(tr!("ui.audit.request_id", id = &event.request_id));
                    });
                });
            });
    }
}
