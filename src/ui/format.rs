//! How the console shows states.

use egui::Color32;

use crate::kms::KeyState;

pub fn state_label(state: KeyState) -> &'static str {
    match state {
        KeyState::Enabled => "Enabled",
        KeyState::Disabled => "Disabled",
        KeyState::PendingDelete => "Pending deletion",
        KeyState::Archived => "Archived",
    }
}

pub fn state_color(state: KeyState, visuals: &egui::Visuals) -> Color32 {
    let dark = visuals.dark_mode;
    match state {
        KeyState::Enabled if dark => Color32::from_rgb(90, 200, 120),
        KeyState::Enabled => Color32::from_rgb(20, 130, 60),
        KeyState::Disabled => Color32::GRAY,
        KeyState::PendingDelete if dark => Color32::from_rgb(240, 130, 90),
        KeyState::PendingDelete => Color32::from_rgb(190, 60, 30),
        KeyState::Archived if dark => Color32::from_rgb(120, 170, 240),
        KeyState::Archived => Color32::from_rgb(40, 90, 180),
    }
}
