//! keyconsole's own file dialog, for desktops where the native one cannot open (no portal, no
//! zenity) or when the user prefers it (Settings). It is egui_file's dialog with what a save
//! needs on top: the suggested name, a question before replacing a file, and recent places.

use keyconsole_base::tr;
use std::path::{Path, PathBuf};

use egui_file::{DialogType, FileDialog, State};

use super::platform::{DialogAnswer, DialogRequest};

/// How many folders *Recent places* remembers.
pub const RECENT_PLACES_MAX: usize = 8;

/// Which dialog the console opens for files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DialogPreference {
    /// The desktop's own, or keyconsole's when the desktop has none.
    #[default]
    Desktop,
    /// Always keyconsole's own.
    InApp,
}

/// One open in-app dialog.
pub struct InAppDialog {
    request: DialogRequest,
    dialog: FileDialog,
    /// A save that would replace this file, waiting for the user's answer.
    confirm_replace: Option<PathBuf>,
    places: Vec<(String, PathBuf)>,
}

impl std::fmt::Debug for InAppDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InAppDialog")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

/// The button that picks the file: its own words, so it is never taken for another Save.
pub fn save_button() -> String {
    tr!("ui.file_dialog.save_here")
}

pub fn open_button() -> String {
    tr!("ui.file_dialog.open_this_file")
}

impl InAppDialog {
    /// Opens in the most recent place (else the home folder), with the suggested name.
    pub fn open(request: DialogRequest, recent: &[PathBuf]) -> Self {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let start = recent
            .iter()
            .find(|p| p.is_dir())
            .cloned()
            .or_else(|| home.clone())
            .unwrap_or_else(|| PathBuf::from("/"));
        let mut places: Vec<(String, PathBuf)> = recent
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| (place_name(p), p.clone()))
            .collect();
        if let Some(home) = home.filter(|h| !recent.contains(h)) {
            places.push((tr!("ui.file_dialog.home"), home));
        }
        let dialog = if request.purpose.is_save() {
            FileDialog::save_file()
                .initial_path(start)
                .default_filename(request.default_name.clone().unwrap_or_default())
                .save_button_text(save_button().into())
        } else {
            FileDialog::open_file()
                .initial_path(start)
                .open_button_text(open_button().into())
        };
        // Every word of egui_file's dialog in the console's language.
        let mut dialog = dialog
            .title(&request.title)
            .cancel_button_text(tr!("ui.file_dialog.cancel").into())
            .new_folder_button_text(tr!("ui.file_dialog.new_folder").into())
            .new_folder_name_text(tr!("ui.file_dialog.new_folder_name").into())
            .rename_button_text(tr!("ui.file_dialog.rename").into())
            .refresh_button_hover_text(tr!("ui.file_dialog.refresh").into())
            .parent_folder_button_hover_text(tr!("ui.file_dialog.parent_folder").into())
            .file_label_text(tr!("ui.file_dialog.file_label").into())
            .show_hidden_checkbox_text(tr!("ui.file_dialog.show_hidden").into())
            .show_new_folder(true)
            .show_rename(false)
            .default_size([640.0, 420.0])
            // At the top, a little right of center: room for Recent places on its left, and
            // clear of the notifications, which stack up from the bottom right.
            .anchor(egui::Align2::CENTER_TOP, [90.0, 48.0]);
        dialog.open();
        Self {
            request,
            dialog,
            confirm_replace: None,
            places,
        }
    }

    /// Draws the dialog; returns the answer once the user chose or cancelled.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<DialogAnswer> {
        let purpose = self.request.purpose;
        let answer = move |path| DialogAnswer {
            purpose,
            path,
            unavailable: None,
        };
        if let Some(path) = self.confirm_replace.clone() {
            let mut decision = None;
            egui::Modal::new(egui::Id::unique("confirm replace")).show(ctx, |ui| {
                ui.heading(tr!("ui.file_dialog.replace_the_file"));
                ui.label(tr!(
                    "ui.file_dialog.path_already_exists_replace_it",
                    path = path.display()
                ));
                ui.horizontal(|ui| {
                    if ui.button(tr!("ui.file_dialog.replace")).clicked() {
                        decision = Some(true);
                    }
                    if ui
                        .button(tr!("ui.file_dialog.choose_another_name"))
                        .clicked()
                    {
                        decision = Some(false);
                    }
                });
            });
            return match decision {
                Some(true) => Some(answer(Some(path))),
                Some(false) => {
                    self.confirm_replace = None;
                    self.dialog.open();
                    None
                }
                None => None,
            };
        }
        self.places_ui(ctx);
        match self.dialog.show(ctx).state() {
            State::Open => None,
            State::Selected => {
                let path = self.dialog.path()?.to_path_buf();
                if self.dialog.dialog_type() == DialogType::SaveFile && path.exists() {
                    self.confirm_replace = Some(path);
                    return None;
                }
                Some(answer(Some(path)))
            }
            State::Cancelled | State::Closed => Some(answer(None)),
        }
    }

    /// *Recent places*, beside the dialog: a click goes there.
    fn places_ui(&mut self, ctx: &egui::Context) {
        if self.places.is_empty() {
            return;
        }
        let mut go = None;
        egui::Window::new(tr!("ui.file_dialog.recent_places"))
            .id(egui::Id::unique("recent places"))
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::LEFT_TOP, [16.0, 48.0])
            .show(ctx, |ui| {
                for (name, path) in &self.places {
                    if ui
                        .button(name)
                        .on_hover_text(path.display().to_string())
                        .clicked()
                    {
                        go = Some(path.clone());
                    }
                }
            });
        if let Some(path) = go {
            self.dialog.set_path(path);
        }
    }
}

fn place_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `recent` with `folder` first, without repeats, at most `RECENT_PLACES_MAX`.
pub fn remember_place(recent: &mut Vec<PathBuf>, folder: &Path) {
    recent.retain(|p| p != folder);
    recent.insert(0, folder.to_path_buf());
    recent.truncate(RECENT_PLACES_MAX);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_places_put_the_last_first_without_repeats() {
        let mut recent = Vec::new();
        for dir in ["/a", "/b", "/a", "/c"] {
            remember_place(&mut recent, Path::new(dir));
        }
        assert_eq!(recent, [PathBuf::from("/c"), "/a".into(), "/b".into()]);
        for n in 0..20 {
            remember_place(&mut recent, Path::new(&format!("/d{n}")));
        }
        assert_eq!(recent.len(), RECENT_PLACES_MAX);
    }
}
