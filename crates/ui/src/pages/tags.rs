//! Tags in the console: the rows of a tag editor (in the create dialogs and on a key's or secret's
//! page) and the page section that shows a resource's tags and edits them.

use keyconsole_base::tr;
use keyconsole_kms::Tag;

/// Tags being written: rows of key and value, added and removed freely, checked with the engine's
/// rules before they are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagRows {
    pub rows: Vec<(String, String)>,
}

impl TagRows {
    pub fn of(tags: &[Tag]) -> Self {
        Self {
            rows: tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
        }
    }

    /// The tags the rows say (rows with neither key nor value are left out).
    pub fn tags(&self) -> Vec<Tag> {
        self.rows
            .iter()
            .filter(|(k, v)| !(k.trim().is_empty() && v.trim().is_empty()))
            .map(|(k, v)| Tag::new(k.trim(), v.trim()))
            .collect()
    }

    /// What is wrong with the rows, in the engine's words, if anything.
    pub fn problem(&self) -> Option<String> {
        keyconsole_kms::tags::validate_tags(&self.tags())
            .err()
            .map(|e| e.message_here())
    }

    /// What to send to turn `before` into these rows: the tags new or changed, and the keys gone.
    pub fn change_from(&self, before: &[Tag]) -> (Vec<Tag>, Vec<String>) {
        let after = self.tags();
        let set = after
            .iter()
            .filter(|t| !before.contains(t))
            .cloned()
            .collect();
        let remove = before
            .iter()
            .filter(|b| !after.iter().any(|a| a.key == b.key))
            .map(|b| b.key.clone())
            .collect();
        (set, remove)
    }

    /// One row a tag (key, value, remove), *Add tag* below, and the rules' complaint if any.
    pub fn ui(&mut self, ui: &mut egui::Ui, id_salt: &str) {
        let mut remove = None;
        if !self.rows.is_empty() {
            egui::Grid::new(("tag rows", id_salt))
                .num_columns(3)
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    let key_label = ui.label(tr!("ui.tags.tag_key"));
                    let value_label = ui.label(tr!("ui.tags.tag_value"));
                    ui.end_row();
                    for (i, (key, value)) in self.rows.iter_mut().enumerate() {
                        ui.add(egui::TextEdit::singleline(key).desired_width(140.0))
                            .labelled_by(key_label.id);
                        ui.add(egui::TextEdit::singleline(value).desired_width(160.0))
                            .labelled_by(value_label.id);
                        if ui
                            .small_button("✖")
                            .on_hover_text(tr!("ui.tags.remove_tag"))
                            .clicked()
                        {
                            remove = Some(i);
                        }
                        ui.end_row();
                    }
                });
        }
        if let Some(i) = remove {
            self.rows.remove(i);
        }
        if ui.button(tr!("ui.tags.add_tag")).clicked() {
            self.rows.push((String::new(), String::new()));
        }
        if let Some(problem) = self.problem() {
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
    }
}

/// The tags as `key: value` chips (or "No tags"), in the caller's (wrapping) row.
pub fn chips_ui(ui: &mut egui::Ui, tags: &[Tag]) {
    if tags.is_empty() {
        ui.weak(tr!("ui.tags.no_tags"));
        return;
    }
    for tag in tags {
        let text = if tag.value.is_empty() {
            tag.key.clone()
        } else {
            format!("{}: {}", tag.key, tag.value)
        };
        egui::Frame::new()
            .fill(ui.visuals().faint_bg_color)
            .stroke(ui.visuals().widgets.noninteractive.bg_stroke)
            .corner_radius(4.0)
            .inner_margin(egui::Margin::symmetric(6, 2))
            .show(ui, |ui| ui.label(text));
    }
}

/// A page's Tags section: the tags, and *Edit tags* to change them in place.
#[derive(Debug, Default)]
pub struct TagsSection {
    pub editing: Option<TagRows>,
}

impl TagsSection {
    /// Draws the section; returns the change to send when *Save tags* is pressed (tags set, tag
    /// keys removed). `editable` is false on a server (its tags are edited where it runs).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        id_salt: &str,
        tags: &[Tag],
        editable: bool,
    ) -> Option<(Vec<Tag>, Vec<String>)> {
        let mut save = None;
        match &mut self.editing {
            None => {
                ui.horizontal_wrapped(|ui| {
                    chips_ui(ui, tags);
                    if editable {
                        if ui.small_button(tr!("ui.tags.edit_tags")).clicked() {
                            self.editing = Some(TagRows::of(tags));
                        }
                    } else {
                        ui.weak(tr!("ui.tags.edited_on_the_server"));
                    }
                });
            }
            Some(rows) => {
                rows.ui(ui, id_salt);
                let mut cancel = false;
                ui.horizontal(|ui| {
                    let changed = rows.tags() != tags;
                    if ui
                        .add_enabled(
                            changed && rows.problem().is_none(),
                            egui::Button::new(tr!("ui.tags.save_tags")),
                        )
                        .clicked()
                    {
                        save = Some(rows.change_from(tags));
                    }
                    if ui.button(tr!("ui.tags.cancel")).clicked() {
                        cancel = true;
                    }
                });
                if cancel {
                    self.editing = None;
                }
            }
        }
        save
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_sets_what_is_new_and_removes_what_is_gone() {
        let before = [Tag::new("env", "test"), Tag::new("team", "pay")];
        let rows = TagRows {
            rows: vec![
                ("env".into(), "prod".into()),
                (" owner ".into(), "li".into()),
                (String::new(), String::new()),
            ],
        };
        assert_eq!(
            rows.change_from(&before),
            (
                vec![Tag::new("env", "prod"), Tag::new("owner", "li")],
                vec!["team".to_owned()]
            )
        );
        assert!(rows.problem().is_none());
        let twice = TagRows {
            rows: vec![("env".into(), "a".into()), ("env".into(), "b".into())],
        };
        assert!(twice.problem().is_some());
    }
}
