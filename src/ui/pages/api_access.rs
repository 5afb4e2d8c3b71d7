//! The API access page: start and stop the loopback API (HTTP, or HTTPS with the local CA) over
//! this console's engine, the credentials applications sign with, ready-to-run snippets for the
//! Python and Node.js SDKs and tccli, and the live access log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{Color32, RichText};
use egui_extras::{Column, TableBuilder};
use zeroize::Zeroizing;

use crate::api::{AccessLog, AccessLogEntry, ApiServer, DEFAULT_LISTEN};
use crate::kms::{ApiCredentials, KmsError};
use crate::ui::command::Command;
use crate::util::format_time;

/// How many requests the page keeps for its log.
const LOG_ENTRIES: usize = 1000;

/// The official clients the page has a ready-to-run snippet for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Python,
    Node,
    Tccli,
}

pub struct ApiAccessState {
    pub listen: String,
    /// Serve HTTPS with a certificate from the keystore's local CA.
    pub https: bool,
    /// Where the local CA's certificate is (or will be, once HTTPS first starts).
    pub ca_path: PathBuf,
    /// Whose snippet the page shows.
    client: Client,
    pub server: Option<ApiServer>,
    pub log: Arc<AccessLog>,
    pub show_secret_key: bool,
    pub confirm_rotation: bool,
    pub error: Option<KmsError>,
    /// The log as last copied out, and the request count it was copied at (no copy per frame).
    entries: Vec<AccessLogEntry>,
    entries_at: Option<u64>,
}

impl Default for ApiAccessState {
    fn default() -> Self {
        Self::new(DEFAULT_LISTEN.to_owned(), false, PathBuf::new())
    }
}

impl ApiAccessState {
    pub fn new(listen: String, https: bool, ca_path: PathBuf) -> Self {
        Self {
            listen,
            https,
            ca_path,
            client: Client::Python,
            server: None,
            log: Arc::new(AccessLog::new(LOG_ENTRIES)),
            show_secret_key: false,
            confirm_rotation: false,
            error: None,
            entries: Vec::new(),
            entries_at: None,
        }
    }

    pub fn is_running(&self) -> bool {
        self.server.is_some()
    }

    /// Whether clients are to use HTTPS: what the server runs with, else what it would start with.
    fn uses_https(&self) -> bool {
        self.server.as_ref().map_or(self.https, ApiServer::is_https)
    }

    /// The address applications use: what the server is bound to, else what it would bind to.
    fn endpoint(&self) -> String {
        self.server.as_ref().map_or_else(
            || self.listen.trim().to_owned(),
            |s| s.local_addr().to_string(),
        )
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        credentials: Option<&ApiCredentials>,
        commands: &mut Vec<Command>,
    ) {
        ui.heading("API access");
        ui.label(
            "Applications written for the Tencent Cloud KMS API (2019-01-18) or Secrets Manager API \
             (2019-09-23) reach this keystore when pointed at the endpoint below, over http or, with \
             HTTPS on, over https trusting the local CA. The server runs while the console is \
             unlocked; locking stops it. For a service that must keep running, use `keyconsole serve`.",
        );
        ui.add_space(8.0);
        self.server_ui(ui, commands);
        ui.add_space(8.0);
        ui.separator();
        credentials_ui(self, ui, credentials, commands);
        ui.add_space(8.0);
        ui.separator();
        self.log_ui(ui);
    }

    fn server_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            let label = ui.label("Listen address");
            ui.add_enabled(
                !self.is_running(),
                egui::TextEdit::singleline(&mut self.listen)
                    .desired_width(180.0)
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(label.id);
            ui.add_enabled(
                !self.is_running(),
                egui::Checkbox::new(&mut self.https, "HTTPS (local CA)"),
            )
            .on_hover_text(
                "Serve HTTPS with a certificate for 127.0.0.1, ::1 and localhost signed by this \
                 keystore's own CA; clients trust the CA's certificate file shown below.",
            );
            if self.is_running() {
                if ui.button("⏹ Stop server").clicked() {
                    commands.push(Command::StopApi);
                }
            } else if ui.button("▶ Start server").clicked() {
                commands.push(Command::StartApi);
            }
        });
        match &self.server {
            Some(server) => {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new("Running")
                            .strong()
                            .color(Color32::from_rgb(80, 180, 90)),
                    );
                    ui.label(format!("Listening on {}", server.url()));
                    ui.separator();
                    ui.label(format!(
                        "{} requests, {} refused",
                        self.log.total(),
                        self.log.errors()
                    ));
                });
            }
            None => {
                ui.label(RichText::new("Stopped").weak());
            }
        }
        if self.uses_https() {
            ui.horizontal(|ui| {
                ui.label("Clients trust the local CA:");
                ui.monospace(self.ca_path.display().to_string());
                if ui.button("Copy path").clicked() {
                    commands.push(Command::Copy {
                        text: Zeroizing::new(self.ca_path.display().to_string()),
                        what: "the CA certificate's path",
                    });
                }
            });
        }
        if let Some(error) = &self.error {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("{}: {}", error.code, error.message),
            );
        }
    }

    fn log_ui(&mut self, ui: &mut egui::Ui) {
        ui.strong("Access log");
        let total = self.log.total();
        if self.entries_at != Some(total) {
            self.entries = self.log.recent();
            self.entries.reverse(); // newest first
            self.entries_at = Some(total);
        }
        if self.entries.is_empty() {
            ui.label(RichText::new("No requests yet.").weak());
            return;
        }
        TableBuilder::new(ui)
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(180.0))
            .column(Column::initial(170.0))
            .column(Column::initial(290.0).clip(true))
            .column(Column::initial(300.0).clip(true))
            .column(Column::remainder().at_least(70.0))
            .header(22.0, |mut header| {
                for title in ["Time", "Action", "KeyId", "Result", "Duration"] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, self.entries.len(), |mut row| {
                    let entry = &self.entries[row.index()];
                    row.col(|ui| {
                        ui.label(format_time(entry.time));
                    });
                    row.col(|ui| {
                        ui.label(&entry.action);
                    });
                    row.col(|ui| {
                        ui.monospace(entry.key_id.as_deref().unwrap_or("-"));
                    });
                    row.col(|ui| {
                        if entry.is_success() {
                            ui.label(entry.code);
                        } else {
                            ui.colored_label(ui.visuals().error_fg_color, entry.code);
                        }
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.2} ms", entry.duration.as_secs_f64() * 1e3));
                    });
                });
            });
    }
}

fn credentials_ui(
    state: &mut ApiAccessState,
    ui: &mut egui::Ui,
    credentials: Option<&ApiCredentials>,
    commands: &mut Vec<Command>,
) {
    ui.strong("Credentials");
    let Some(credentials) = credentials else {
        ui.horizontal(|ui| {
            ui.label("No credentials yet.");
            if ui.button("Create credentials").clicked() {
                commands.push(Command::CreateApiCredentials);
            }
        });
        return;
    };
    egui::Grid::new("api credentials")
        .num_columns(3)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.label("SecretId");
            ui.monospace(&credentials.secret_id);
            if ui.button("Copy SecretId").clicked() {
                commands.push(Command::Copy {
                    text: Zeroizing::new(credentials.secret_id.clone()),
                    what: "the SecretId",
                });
            }
            ui.end_row();
            ui.label("SecretKey");
            if state.show_secret_key {
                ui.monospace(credentials.secret_key.as_str());
            } else {
                ui.monospace("•".repeat(32));
            }
            ui.horizontal(|ui| {
                if ui.button("Copy SecretKey").clicked() {
                    commands.push(Command::Copy {
                        text: credentials.secret_key.clone(),
                        what: "the SecretKey",
                    });
                }
                let toggle = if state.show_secret_key {
                    "Hide"
                } else {
                    "Show"
                };
                if ui.button(toggle).clicked() {
                    state.show_secret_key = !state.show_secret_key;
                }
            });
            ui.end_row();
            ui.label("Created");
            ui.label(format_time(credentials.created));
            ui.end_row();
        });
    ui.add_space(4.0);
    if state.confirm_rotation {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Applications using the current SecretKey will be refused from now on.",
            );
            if ui.button("Rotate now").clicked() {
                commands.push(Command::RotateApiCredentials);
            }
            if ui.button("Cancel").clicked() {
                state.confirm_rotation = false;
            }
        });
    } else if ui
        .button("Rotate credentials…")
        .on_hover_text("Replace the SecretId and SecretKey with a new pair")
        .clicked()
    {
        state.confirm_rotation = true;
    }
    ui.add_space(6.0);
    let endpoint = state.endpoint();
    let ca = state.uses_https().then_some(state.ca_path.as_path());
    let (hint, snippet) = match state.client {
        Client::Python => (
            "pip install tencentcloud-sdk-python-kms; the SecretKey is read from an environment \
             variable so it never sits in the source.",
            python_snippet(&endpoint, &credentials.secret_id, ca),
        ),
        Client::Node => (
            "npm install tencentcloud-sdk-nodejs; the SecretKey comes from the environment.",
            node_snippet(&endpoint, &credentials.secret_id, ca),
        ),
        Client::Tccli => (
            "pip install tccli; the credentials come from tccli's own environment variables.",
            tccli_snippet(&endpoint, &credentials.secret_id, ca),
        ),
    };
    egui::CollapsingHeader::new("Client snippets")
        .default_open(false)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut state.client, Client::Python, "Python SDK");
                ui.selectable_value(&mut state.client, Client::Node, "Node.js SDK");
                ui.selectable_value(&mut state.client, Client::Tccli, "tccli");
            });
            ui.label(hint);
            let mut text = snippet.as_str();
            ui.add(
                egui::TextEdit::multiline(&mut text)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            );
            if ui.button("Copy snippet").clicked() {
                commands.push(Command::Copy {
                    text: Zeroizing::new(snippet.clone()),
                    what: "the snippet",
                });
            }
        });
}

/// The seed document's client setup with this console as the endpoint; over HTTPS the SDK is
/// given the CA's certificate (`certification`), as it otherwise trusts only public CAs.
pub fn python_snippet(endpoint: &str, secret_id: &str, ca: Option<&Path>) -> String {
    let http = match ca {
        Some(ca) => format!(
            "HttpProfile(protocol=\"https\", endpoint=\"{endpoint}\",\n                   certification=\"{}\")",
            ca.display()
        ),
        None => format!("HttpProfile(protocol=\"http\", endpoint=\"{endpoint}\")"),
    };
    format!(
        r#"import base64, os
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client, models

cred = credential.Credential("{secret_id}", os.environ["KEYCONSOLE_SECRET_KEY"])
http = {http}
client = kms_client.KmsClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))

req = models.EncryptRequest()
req.KeyId = "your-key-alias"
req.Plaintext = base64.b64encode(b"db password").decode()
blob = client.Encrypt(req).CiphertextBlob

req = models.DecryptRequest()
req.CiphertextBlob = blob
print(base64.b64decode(client.Decrypt(req).Plaintext))
"#
    )
}

/// The Node.js SDK; over HTTPS Node trusts the CA through NODE_EXTRA_CA_CERTS, read at start.
pub fn node_snippet(endpoint: &str, secret_id: &str, ca: Option<&Path>) -> String {
    let (run, protocol) = match ca {
        Some(ca) => (
            format!("NODE_EXTRA_CA_CERTS={} node app.js", ca.display()),
            "https://",
        ),
        None => ("node app.js".to_owned(), "http://"),
    };
    format!(
        r#"// Run: KEYCONSOLE_SECRET_KEY=... {run}
const tencentcloud = require("tencentcloud-sdk-nodejs");
const kms = new tencentcloud.kms.v20190118.Client({{
  credential: {{ secretId: "{secret_id}", secretKey: process.env.KEYCONSOLE_SECRET_KEY }},
  region: "ap-guangzhou",
  profile: {{ httpProfile: {{ endpoint: "{endpoint}", protocol: "{protocol}" }} }},
}});
kms.Encrypt({{ KeyId: "your-key-alias", Plaintext: Buffer.from("db password").toString("base64") }})
  .then((r) => kms.Decrypt({{ CiphertextBlob: r.CiphertextBlob }}))
  .then((r) => console.log(Buffer.from(r.Plaintext, "base64").toString()));
"#
    )
}

/// tccli; over HTTPS it trusts only its Python's certifi bundle, so the CA is added to that.
pub fn tccli_snippet(endpoint: &str, secret_id: &str, ca: Option<&Path>) -> String {
    let (setup, endpoint) = match ca {
        Some(ca) => (
            format!(
                "# once: tccli trusts only its own certificate bundle\ncat {} >> \"$(python3 -m certifi)\"   # the python3 tccli runs on\n",
                ca.display()
            ),
            endpoint.to_owned(),
        ),
        None => (String::new(), format!("http://{endpoint}")),
    };
    format!(
        r#"{setup}export TENCENTCLOUD_SECRET_ID={secret_id}
export TENCENTCLOUD_SECRET_KEY=...   # the SecretKey above
tccli kms Encrypt --region ap-guangzhou --endpoint {endpoint} \
  --KeyId your-key-alias --Plaintext "$(printf 'db password' | base64)"
"#
    )
}
