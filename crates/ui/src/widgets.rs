//! How the console shows states.

use egui::Color32;
use keyconsole_base::tr;

use keyconsole_kms::KeyState;

pub fn state_label(state: KeyState) -> String {
    match state {
        KeyState::Enabled => tr!("ui.widgets.enabled"),
        KeyState::Disabled => tr!("ui.widgets.disabled"),
        KeyState::PendingDelete => tr!("ui.widgets.pending_deletion"),
        KeyState::Archived => tr!("ui.widgets.archived"),
        KeyState::PendingImport => tr!("ui.widgets.pending_import"),
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
        KeyState::PendingImport if dark => Color32::from_rgb(230, 190, 90),
        KeyState::PendingImport => Color32::from_rgb(160, 110, 0),
    }
}

/// "☐ Rotate automatically every [N] days", as the create dialog and the detail page show it.
pub fn rotation_period_ui(ui: &mut egui::Ui, enabled: &mut bool, days: &mut u32) {
    use keyconsole_kms::keys::rules::{ROTATE_DAYS_MAX, ROTATE_DAYS_MIN};
    ui.horizontal(|ui| {
        ui.checkbox(enabled, tr!("ui.widgets.rotate_automatically_every"));
        ui.add_enabled(
            *enabled,
            egui::DragValue::new(days).range(ROTATE_DAYS_MIN..=ROTATE_DAYS_MAX),
        )
        .widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::Role::SpinButton,
                *enabled,
                tr!("ui.widgets.rotation_period_in_days"),
            )
        });
        ui.label(tr!("ui.widgets.days"));
    });
}

/// A "State" filter: a combo box of `states` plus `all` (no filter), labelled by the label `label`.
pub fn state_filter_ui<S: Copy + PartialEq>(
    ui: &mut egui::Ui,
    id: &str,
    label: egui::Id,
    (all, states): (String, &[S]),
    state_label: impl Fn(S) -> String,
    filter: &mut Option<S>,
) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(filter.map_or_else(|| all.clone(), &state_label))
        .show_ui(ui, |ui| {
            ui.selectable_value(filter, None, all);
            for &state in states {
                ui.selectable_value(filter, Some(state), state_label(state));
            }
        })
        .response
        .labelled_by(label);
}

/// A count a server may not tell (its metadata has no version count): 0 shows as "-", since
/// every key and secret has at least one version.
pub fn count_text(count: usize) -> String {
    match count {
        0 => "-".to_owned(),
        n => n.to_string(),
    }
}

/// An error as the console shows it: the cloud's code (Tencent's, as the SDKs and the cloud's own
/// console show it, whether the keystore is local or a server's), then the message in the
/// console's language.
pub fn error_text(error: &keyconsole_kms::KmsError) -> String {
    format!(
        "{}: {}",
        keyconsole_api::tencent::codes::code(error.code),
        error.message_here()
    )
}

/// A question before something that cannot be undone or that others feel (a replaced file, a
/// deleted version, a disabled key): what will happen, said plainly, and two buttons. Escape, a
/// click beside it or *Cancel* answer no; nothing happens until the confirming button is clicked.
pub struct Confirmation {
    pub title: String,
    /// What will happen, one line each (a key's secrets are listed by name).
    pub lines: Vec<String>,
    pub confirm: String,
    /// The confirming button in the danger colour (data is lost or access stops).
    pub danger: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Open,
    Confirmed,
    Cancelled,
}

impl Confirmation {
    pub fn ui(&self, ctx: &egui::Context, id: &str) -> Answer {
        let mut answer = Answer::Open;
        let modal = egui::Modal::new(egui::Id::unique(("confirmation", id))).show(ctx, |ui| {
            ui.set_width(460.0);
            ui.heading(&self.title);
            ui.add_space(4.0);
            for line in &self.lines {
                ui.label(line);
            }
            ui.add_space(10.0);
            ui.horizontal(|ui| {
                let text = egui::RichText::new(&self.confirm);
                let button = if self.danger {
                    egui::Button::new(text.color(Color32::WHITE))
                        .fill(Color32::from_rgb(190, 50, 40))
                } else {
                    egui::Button::new(text)
                };
                if ui.add(button).clicked() {
                    answer = Answer::Confirmed;
                }
                if ui.button(tr!("ui.widgets.cancel")).clicked() {
                    answer = Answer::Cancelled;
                }
            });
        });
        if answer == Answer::Open && modal.should_close() {
            answer = Answer::Cancelled;
        }
        answer
    }
}

/// A key's usage as a person reads it (the API's `KeyUsage` value otherwise).
pub fn usage_label(usage: &str) -> String {
    match usage {
        "ENCRYPT_DECRYPT" => tr!("ui.widgets.usage_encrypt_decrypt"),
        "ASYMMETRIC_DECRYPT_RSA_2048" | "ASYMMETRIC_DECRYPT_SM2" => {
            tr!("ui.widgets.usage_asymmetric_decrypt")
        }
        "ASYMMETRIC_SIGN_VERIFY_SM2"
        | "ASYMMETRIC_SIGN_VERIFY_ECC"
        | "ASYMMETRIC_SIGN_VERIFY_RSA_2048"
        | "ASYMMETRIC_SIGN_VERIFY_ECDSA384" => tr!("ui.widgets.usage_sign_verify"),
        other => other.to_owned(),
    }
}

/// A key's algorithm as a person reads it (the API's key spec otherwise).
pub fn spec_label(spec: &str) -> String {
    match spec {
        "AES_256" => "AES-256".to_owned(),
        "SM4" => tr!("ui.widgets.spec_sm4"),
        "RSA_2048" => "RSA-2048".to_owned(),
        "EC_P256" => "ECC P-256".to_owned(),
        "EC_P384" => "ECC P-384".to_owned(),
        "SM2" => tr!("ui.widgets.spec_sm2"),
        other => other.to_owned(),
    }
}

/// Where a key's material came from, as a person reads it (the API's `Origin` value otherwise).
pub fn origin_label(origin: &str) -> String {
    match origin {
        "KEYCONSOLE" | "TENCENT_KMS" => tr!("ui.widgets.origin_generated"),
        "EXTERNAL" => tr!("ui.widgets.origin_imported"),
        other => other.to_owned(),
    }
}

/// The blue of the cloud consoles' primary buttons.
pub const PRIMARY: Color32 = Color32::from_rgb(0x00, 0x6e, 0xff);

/// A page's main action, as the cloud consoles draw it: filled blue, white text. One per page or
/// dialog; everything else is an ordinary button.
pub fn primary_button(text: impl Into<String>) -> egui::Button<'static> {
    egui::Button::new(
        egui::RichText::new(text.into())
            .color(Color32::WHITE)
            .strong(),
    )
    .fill(PRIMARY)
}

/// A section's title on a page: larger and in the text colour, so the page reads in parts.
pub fn section_title(ui: &mut egui::Ui, text: impl Into<String>) {
    ui.add_space(4.0);
    ui.label(
        egui::RichText::new(text.into())
            .size(16.0)
            .strong()
            .color(ui.visuals().strong_text_color()),
    );
    ui.add_space(2.0);
}

/// Whether a dialog with typed input closes: Escape or its own Cancel, never a click beside it
/// (that would throw away what was typed).
pub fn closes_keeping_input<T>(modal: &egui::ModalResponse<T>) -> bool {
    !modal.backdrop_response.clicked() && modal.should_close()
}

/// A button the connected user's policy may forbid (`why_not`, from [`crate::model::Model`]):
/// then shown disabled, with the reason as its tooltip, rather than hidden.
pub fn permitted_button(
    ui: &mut egui::Ui,
    enabled: bool,
    why_not: Option<String>,
    button: egui::Button<'_>,
) -> egui::Response {
    let response = ui.add_enabled(enabled && why_not.is_none(), button);
    match why_not {
        Some(why) => response.on_disabled_hover_text(why),
        None => response,
    }
}
