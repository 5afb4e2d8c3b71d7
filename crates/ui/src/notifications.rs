//! Toasts in the bottom-right corner: one for every success and every failure. Errors carry their
//! code and stay longer; either can be dismissed.

use egui::{Align2, Color32, RichText};
use keyconsole_base::tr;

use keyconsole_kms::KmsError;

const SUCCESS_SECONDS: i64 = 5;
const ERROR_SECONDS: i64 = 15;

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
        // A burst of failures should not bury the screen.
        if self.items.len() > 5 {
            self.items.remove(0);
        }
    }

    pub fn items(&self) -> &[Notification] {
        &self.items
    }

    pub fn expire(&mut self, now: i64) {
        self.items.retain(|n| {
            let lifetime = match n.level {
                Level::Success => SUCCESS_SECONDS,
                Level::Error => ERROR_SECONDS,
            };
            now - n.shown_at < lifetime
        });
    }

    pub fn ui(&mut self, ctx: &egui::Context) {
        if self.items.is_empty() {
            return;
        }
        let mut dismissed = None;
        egui::Area::new(egui::Id::unique("notifications"))
            .anchor(Align2::RIGHT_BOTTOM, [-12.0, -12.0])
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                ui.set_max_width(420.0);
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
                    ui.add_space(6.0);
                }
            });
        if let Some(i) = dismissed {
            self.items.remove(i);
        }
    }
}
