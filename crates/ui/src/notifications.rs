//! Notifications in a strip along the bottom of the window, above nothing: one for every success
//! and every failure, newest last. They take their own room (the page above gets shorter), so they
//! never cover an output or a button. Successes go after 5 s; errors and warnings carry their code
//! and stay until dismissed.

use egui::{Color32, RichText};
use keyconsole_base::tr;

use keyconsole_kms::KmsError;

const SUCCESS_SECONDS: i64 = 5;
/// At most this many at once: a burst of failures must not push the page off the window.
const SHOWN_MAX: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Success,
    Error,
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub level: Level,
    pub text: String,
    shown_at: i64,
}

#[derive(Debug, Default)]
pub struct Notifications {
    items: Vec<Notification>,
}

impl Notifications {
    pub fn success(&mut self, now: i64, text: impl Into<String>) {
        self.push(Level::Success, now, text.into());
    }

    pub fn error(&mut self, now: i64, error: &KmsError) {
        self.push(Level::Error, now, crate::widgets::error_text(error));
    }

    /// Something that went wrong without failing what was asked (it stays as long as an error).
    pub fn warning(&mut self, now: i64, text: impl Into<String>) {
        self.push(Level::Error, now, text.into());
    }

    fn push(&mut self, level: Level, now: i64, text: String) {
        self.items.push(Notification {
            level,
            text,
            shown_at: now,
        });
        if self.items.len() > SHOWN_MAX {
            self.items.remove(0);
        }
    }

    pub fn items(&self) -> &[Notification] {
        &self.items
    }

    /// Successes go after a few seconds; errors stay until dismissed.
    pub fn expire(&mut self, now: i64) {
        self.items
            .retain(|n| n.level == Level::Error || now - n.shown_at < SUCCESS_SECONDS);
    }

    /// The strip along the bottom; drawn before the page, so the page gets the room above it.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.items.is_empty() {
            return;
        }
        let mut dismissed = None;
        egui::Panel::bottom("notifications")
            .resizable(false)
            .show(ui, |ui| {
                ui.add_space(4.0);
                for (i, item) in self.items.iter().enumerate() {
                    let (fill, icon) = match item.level {
                        Level::Success => (Color32::from_rgb(30, 110, 60), "✔"),
                        Level::Error => (Color32::from_rgb(150, 40, 40), "⚠"),
                    };
                    egui::Frame::new()
                        .fill(fill)
                        .corner_radius(6.0)
                        .inner_margin(10.0)
                        .show(ui, |ui| {
                            ui.horizontal(|ui| {
                                ui.label(RichText::new(icon).color(Color32::WHITE));
                                ui.add(
                                    egui::Label::new(
                                        RichText::new(&item.text).color(Color32::WHITE),
                                    )
                                    .wrap(),
                                );
                                if ui
                                    .add(
                                        egui::Button::new(RichText::new("🗙").color(Color32::WHITE))
                                            .frame(false),
                                    )
                                    .on_hover_text(tr!("ui.notifications.dismiss"))
                                    .clicked()
                                {
                                    dismissed = Some(i);
                                }
                            });
                        });
                    ui.add_space(4.0);
                }
            });
        if let Some(i) = dismissed {
            self.items.remove(i);
        }
    }
}
