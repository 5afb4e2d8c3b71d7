//! The API access page: start and stop the loopback API (HTTP, or HTTPS with the local CA) over
//! this console's engine, the credentials applications sign with (one pair per cloud: Tencent,
//! Huawei, JD Cloud), ready-to-run snippets for each cloud's official clients, and the live
//! access log.

use keyconsole_base::tr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{Color32, RichText};
use egui_extras::{Column, TableBuilder};
use zeroize::Zeroizing;

use crate::app::backend::{Outcome, PageCalls, Session, console_caller};
use crate::command::Command;
use keyconsole_api::{AccessLog, AccessLogEntry, ApiServer, DEFAULT_LISTEN, ServerConfig, tls};
use keyconsole_base::util::format_time;
use keyconsole_kms::local_ca::server_names;
use keyconsole_kms::policy::Preset;
use keyconsole_kms::users::{UserChange, UserInfo};
use keyconsole_kms::{ApiCredentials, Cloud, ErrorCode, KmsError};

/// How many requests the page keeps for its log.
const LOG_ENTRIES: usize = 1000;

/// The official clients the page has a ready-to-run snippet for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Python,
    Node,
    Tccli,
}

impl Client {
    /// The clients of a cloud with a snippet here (Huawei publishes no Node.js KMS package).
    fn of(cloud: Cloud) -> &'static [Client] {
        match cloud {
            Cloud::Tencent => &[Client::Python, Client::Node, Client::Tccli],
            Cloud::Huawei => &[Client::Python],
            Cloud::Jd => &[Client::Python, Client::Node],
        }
    }

    fn label(self) -> String {
        match self {
            Client::Python => tr!("ui.api_access.python_sdk"),
            Client::Node => tr!("ui.api_access.node_js_sdk"),
            Client::Tccli => "tccli".to_owned(),
        }
    }
}

fn cloud_name(cloud: Cloud) -> String {
    match cloud {
        Cloud::Tencent => tr!("ui.api_access.tencent_cloud"),
        Cloud::Huawei => tr!("ui.api_access.huawei_cloud"),
        Cloud::Jd => tr!("ui.api_access.jd_cloud"),
    }
}

pub struct ApiAccessState {
    pub listen: String,
    /// Serve HTTPS with a certificate from the keystore's local CA.
    pub https: bool,
    /// Where the local CA's certificate is (or will be, once HTTPS first starts).
    pub ca_path: PathBuf,
    /// Whose credentials and snippets the page shows.
    cloud: Cloud,
    /// Whose snippet the page shows.
    client: Client,
    pub server: Option<ApiServer>,
    pub log: Arc<AccessLog>,
    pub show_secret_key: bool,
    pub confirm_rotation: bool,
    pub error: Option<KmsError>,
    /// The team's users of this keystore.
    pub team: super::team::TeamState,
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
            cloud: Cloud::Tencent,
            client: Client::Python,
            server: None,
            log: Arc::new(AccessLog::new(LOG_ENTRIES)),
            show_secret_key: false,
            confirm_rotation: false,
            error: None,
            team: super::team::TeamState::default(),
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
        credentials: &[ApiCredentials],
        users: &[UserInfo],
        commands: &mut Vec<Command>,
    ) {
        // The whole page scrolls, so the access log stays reachable with the snippets open.
        egui::ScrollArea::vertical()
            .id_salt("api page")
            .auto_shrink(false)
            .show(ui, |ui| {
                ui.heading(tr!("ui.api_access.api_access"));
                ui.label(tr!(
                    "ui.api_access.applications_written_for_the_tencent_cloud"
                ));
                ui.add_space(8.0);
                self.server_ui(ui, commands);
                ui.add_space(8.0);
                ui.separator();
                credentials_ui(self, ui, credentials, commands);
                ui.add_space(8.0);
                ui.separator();
                self.team.ui(ui, users, commands);
                ui.add_space(8.0);
                ui.separator();
                self.log_ui(ui);
            });
    }

    fn server_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            let label = ui.label(tr!("ui.api_access.listen_address"));
            ui.add_enabled(
                !self.is_running(),
                egui::TextEdit::singleline(&mut self.listen)
                    .desired_width(180.0)
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(label.id);
            ui.add_enabled(
                !self.is_running(),
                egui::Checkbox::new(&mut self.https, tr!("ui.api_access.https_local_ca")),
            )
            .on_hover_text(tr!("ui.api_access.serve_https_with_a_certificate_for"));
            if self.is_running() {
                if ui.button(tr!("ui.api_access.stop_server")).clicked() {
                    commands.push(Command::Api(ApiRequest::Stop));
                }
            } else if ui
                .add(crate::widgets::primary_button(tr!(
                    "ui.api_access.start_server"
                )))
                .clicked()
            {
                commands.push(Command::Api(ApiRequest::Start));
            }
        });
        match &self.server {
            Some(server) => {
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(tr!("ui.api_access.running"))
                            .strong()
                            .color(Color32::from_rgb(80, 180, 90)),
                    );
                    ui.label(tr!(
                        "ui.api_access.listening_on_server",
                        server = server.url()
                    ));
                    ui.separator();
                    ui.label(tr!(
                        "ui.api_access.requests_refused",
                        requests = self.log.total(),
                        refused = self.log.errors()
                    ));
                });
            }
            None => {
                ui.label(RichText::new(tr!("ui.api_access.stopped")).weak());
            }
        }
        if self.uses_https() {
            ui.horizontal(|ui| {
                ui.label(tr!("ui.api_access.clients_trust_the_local_ca"));
                ui.monospace(self.ca_path.display().to_string());
                if ui.button(tr!("ui.api_access.copy_path")).clicked() {
                    commands.push(Command::Copy {
                        text: Zeroizing::new(self.ca_path.display().to_string()),
                        what: tr!("ui.api_access.the_ca_certificate_s_path"),
                    });
                }
            });
        }
        if let Some(error) = &self.error {
            ui.colored_label(
                ui.visuals().error_fg_color,
                crate::widgets::error_text(error),
            );
        }
    }

    fn log_ui(&mut self, ui: &mut egui::Ui) {
        crate::widgets::section_title(ui, tr!("ui.api_access.access_log"));
        let total = self.log.total();
        if self.entries_at != Some(total) {
            self.entries = self.log.recent();
            self.entries.reverse(); // newest first
            self.entries_at = Some(total);
        }
        if self.entries.is_empty() {
            ui.label(RichText::new(tr!("ui.api_access.no_requests_yet")).weak());
            ui.label(RichText::new(tr!("ui.api_access.no_requests_yet_hint")).weak());
            return;
        }
        TableBuilder::new(ui)
            .striped(true)
            // Its own scrolling, at least 200 px tall inside the page's.
            .min_scrolled_height(200.0)
            .max_scroll_height(360.0)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(180.0))
            .column(Column::initial(80.0))
            .column(Column::initial(170.0))
            .column(Column::initial(290.0).clip(true))
            .column(Column::initial(300.0).clip(true))
            .column(Column::remainder().at_least(70.0))
            .header(22.0, |mut header| {
                for title in [
                    tr!("ui.api_access.time"),
                    tr!("ui.api_access.cloud"),
                    tr!("ui.api_access.action"),
                    tr!("ui.common.key_id"),
                    tr!("ui.api_access.result"),
                    tr!("ui.api_access.duration"),
                ] {
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
                        ui.label(entry.dialect);
                    });
                    row.col(|ui| {
                        ui.label(entry.action);
                    });
                    row.col(|ui| {
                        ui.monospace(entry.key_id.as_deref().unwrap_or("-"));
                    });
                    row.col(|ui| {
                        if entry.is_success() {
                            ui.label(tr!("ui.api_access.success"));
                        } else {
                            ui.colored_label(ui.visuals().error_fg_color, entry.code);
                        }
                    });
                    row.col(|ui| {
                        ui.label(tr!(
                            "ui.api_access.entry_ms",
                            entry = format!("{:.2}", entry.duration.as_secs_f64() * 1e3)
                        ));
                    });
                });
            });
    }
}

fn credentials_ui(
    state: &mut ApiAccessState,
    ui: &mut egui::Ui,
    credentials: &[ApiCredentials],
    commands: &mut Vec<Command>,
) {
    crate::widgets::section_title(ui, tr!("ui.api_access.credentials"));
    ui.horizontal(|ui| {
        for cloud in Cloud::ALL {
            if ui
                .selectable_label(state.cloud == cloud, cloud_name(cloud))
                .clicked()
                && state.cloud != cloud
            {
                state.cloud = cloud;
                state.show_secret_key = false;
                state.confirm_rotation = false;
            }
        }
    });
    let cloud = state.cloud;
    let (id_label, key_label) = cloud.labels();
    let Some(credentials) = credentials.iter().find(|c| c.cloud == cloud) else {
        ui.horizontal(|ui| {
            ui.label(tr!("ui.api_access.no_credentials_yet"));
            if ui.button(tr!("ui.api_access.create_credentials")).clicked() {
                commands.push(Command::Api(ApiRequest::CreateCredentials(cloud)));
            }
        });
        return;
    };
    egui::Grid::new("api credentials")
        .num_columns(3)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.label(id_label);
            ui.monospace(&credentials.secret_id);
            if ui
                .button(tr!("ui.api_access.copy_id", id = id_label))
                .clicked()
            {
                commands.push(Command::Copy {
                    text: Zeroizing::new(credentials.secret_id.clone()),
                    what: id_label.to_owned(),
                });
            }
            ui.end_row();
            ui.label(key_label);
            if state.show_secret_key {
                ui.monospace(credentials.secret_key.as_str());
            } else {
                ui.monospace("•".repeat(credentials.secret_key.len()));
            }
            ui.horizontal(|ui| {
                if ui
                    .button(tr!("ui.api_access.copy_key", key = key_label))
                    .clicked()
                {
                    commands.push(Command::Copy {
                        text: credentials.secret_key.clone(),
                        what: key_label.to_owned(),
                    });
                }
                let toggle = if state.show_secret_key {
                    tr!("ui.api_access.hide")
                } else {
                    tr!("ui.api_access.show")
                };
                if ui.button(toggle).clicked() {
                    state.show_secret_key = !state.show_secret_key;
                }
            });
            ui.end_row();
            ui.label(tr!("ui.api_access.created"));
            ui.label(format_time(credentials.created));
            ui.end_row();
        });
    ui.add_space(4.0);
    if state.confirm_rotation {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                tr!(
                    "ui.api_access.applications_using_the_current_key_will",
                    key = key_label
                ),
            );
            if ui.button(tr!("ui.api_access.rotate_now")).clicked() {
                commands.push(Command::Api(ApiRequest::RotateCredentials(cloud)));
            }
            if ui.button(tr!("ui.api_access.cancel")).clicked() {
                state.confirm_rotation = false;
            }
        });
    } else if ui
        .button(tr!("ui.api_access.rotate_credentials"))
        .on_hover_text(tr!(
            "ui.api_access.replace_the_id_and_key_with",
            id = id_label,
            key = key_label
        ))
        .clicked()
    {
        state.confirm_rotation = true;
    }
    ui.add_space(6.0);
    let clients = Client::of(cloud);
    if !clients.contains(&state.client) {
        state.client = clients[0];
    }
    let endpoint = state.endpoint();
    let ca = state.uses_https().then_some(state.ca_path.as_path());
    let id = credentials.secret_id.as_str();
    let (hint, snippet) = match (cloud, state.client) {
        (Cloud::Tencent, Client::Node) => (
            tr!("ui.api_access.npm_install_tencentcloud_sdk_nodejs_the"),
            node_snippet(&endpoint, id, ca),
        ),
        (Cloud::Tencent, Client::Tccli) => (
            tr!("ui.api_access.pip_install_tccli_the_credentials_come"),
            tccli_snippet(&endpoint, id, ca),
        ),
        (Cloud::Tencent, _) => (
            tr!("ui.api_access.pip_install_tencentcloud_sdk_python_kms"),
            python_snippet(&endpoint, id, ca),
        ),
        (Cloud::Huawei, _) => (
            tr!("ui.api_access.pip_install_huawei"),
            huawei_python_snippet(&endpoint, id, ca),
        ),
        (Cloud::Jd, Client::Node) => (
            tr!("ui.api_access.npm_install_jd"),
            jd_node_snippet(&endpoint, id, ca),
        ),
        (Cloud::Jd, _) => (
            tr!("ui.api_access.pip_install_jd"),
            jd_python_snippet(&endpoint, id, ca),
        ),
    };
    egui::CollapsingHeader::new(tr!("ui.api_access.client_snippets"))
        .id_salt("client snippets")
        .default_open(false)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                for &client in clients {
                    ui.selectable_value(&mut state.client, client, client.label());
                }
            });
            ui.label(hint);
            let mut text = snippet.as_str();
            ui.add(
                egui::TextEdit::multiline(&mut text)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(f32::INFINITY),
            );
            if ui.button(tr!("ui.api_access.copy_snippet")).clicked() {
                commands.push(Command::Copy {
                    text: Zeroizing::new(snippet.clone()),
                    what: tr!("ui.api_access.the_snippet"),
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
            tr!(
                "ui.api_access.once_tccli_trusts_only_its_own",
                ca = ca.display()
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

/// Huawei Cloud's Python SDK: any project id does (the path carries it, keyconsole has none);
/// the endpoint needs its scheme, or the SDK makes it https; the CA goes in `ssl_ca_cert`.
pub fn huawei_python_snippet(endpoint: &str, ak: &str, ca: Option<&Path>) -> String {
    let (scheme, tls) = match ca {
        Some(ca) => (
            "https",
            format!("config.ssl_ca_cert = \"{}\"\n", ca.display()),
        ),
        None => ("http", String::new()),
    };
    format!(
        r#"import os
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkkms.v2 import (KmsClient, EncryptDataRequest, EncryptDataRequestBody,
                                  DecryptDataRequest, DecryptDataRequestBody)

cred = BasicCredentials("{ak}", os.environ["KEYCONSOLE_SK"], "keyconsole")  # any project id
config = HttpConfig.get_default_config()
{tls}kms = (KmsClient.new_builder().with_http_config(config).with_credentials(cred)
       .with_endpoint("{scheme}://{endpoint}").build())

sealed = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
    key_id="your-key-alias", plain_text="db password"))).cipher_text
print(kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
    cipher_text=sealed))).plain_text)
"#
    )
}

/// JD Cloud's Python SDK: the endpoint is host:port with the scheme apart; it has no TLS option
/// (requests reads REQUESTS_CA_BUNDLE); its default logger prints request bodies, plaintexts
/// included, so it is given a quiet one.
pub fn jd_python_snippet(endpoint: &str, access_key: &str, ca: Option<&Path>) -> String {
    let (scheme, run) = match ca {
        Some(ca) => (
            "https",
            format!("REQUESTS_CA_BUNDLE={} python3 app.py", ca.display()),
        ),
        None => ("http", "python3 app.py".to_owned()),
    };
    format!(
        r#"# Run: KEYCONSOLE_SK=... {run}
import base64, os
from jdcloud_sdk.core.config import Config
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import ERROR, Logger
from jdcloud_sdk.services.kms.client.KmsClient import KmsClient
from jdcloud_sdk.services.kms.apis.EncryptRequest import EncryptParameters, EncryptRequest
from jdcloud_sdk.services.kms.apis.DecryptRequest import DecryptParameters, DecryptRequest

client = KmsClient(Credential("{access_key}", os.environ["KEYCONSOLE_SK"]),
                   Config("{endpoint}", scheme="{scheme}"),
                   Logger(ERROR))  # the default logger prints request bodies, plaintexts too

params = EncryptParameters("your-key-alias")
params.setPlaintext(base64.b64encode(b"db password").decode())
blob = client.send(EncryptRequest(params)).result["ciphertextBlob"]
params = DecryptParameters("your-key-alias")
params.setCiphertextBlob(blob)
print(base64.b64decode(client.send(DecryptRequest(params)).result["plaintext"]))
"#
    )
}

/// JD Cloud's Node.js SDK (`jdcloud-sdk-js`); over HTTPS Node trusts the CA through
/// NODE_EXTRA_CA_CERTS.
pub fn jd_node_snippet(endpoint: &str, access_key: &str, ca: Option<&Path>) -> String {
    let (run, protocol) = match ca {
        Some(ca) => (
            format!("NODE_EXTRA_CA_CERTS={} node app.js", ca.display()),
            "https",
        ),
        None => ("node app.js".to_owned(), "http"),
    };
    format!(
        r#"// Run: KEYCONSOLE_SK=... {run}
const KMS = require("jdcloud-sdk-js/src/services/kms");
const kms = new KMS({{
  credentials: {{ accessKeyId: "{access_key}", secretAccessKey: process.env.KEYCONSOLE_SK }},
  endpoint: {{ host: "{endpoint}", protocol: "{protocol}" }},
  regionId: "cn-north-1",
}});
const keyId = "your-key-alias";
kms.encrypt({{ keyId, plaintext: Buffer.from("db password").toString("base64") }})
  .then((r) => kms.decrypt({{ keyId, ciphertextBlob: r.result.ciphertextBlob }}))
  .then((r) => console.log(Buffer.from(r.result.plaintext, "base64").toString()));
"#
    )
}

/// What the API access page asks for, on the worker: making credentials and a certificate saves
/// the keystore, and stopping the server waits for its requests.
#[derive(Debug, Clone)]
pub enum ApiRequest {
    Start,
    Stop,
    CreateCredentials(Cloud),
    RotateCredentials(Cloud),
    /// A user with a ready-made policy on the keys or secrets named (all when none).
    CreateUser {
        name: String,
        preset: Preset,
        on: Vec<String>,
    },
    User(UserChange),
}

impl ApiRequest {
    pub(crate) fn run(
        self,
        page: &mut ApiAccessState,
        mut calls: PageCalls<'_, ApiAccessState>,
    ) -> Outcome {
        match self {
            ApiRequest::Start if page.server.is_none() => {
                let listen = page.listen.trim().to_owned();
                let https = page.https;
                let log = page.log.clone();
                calls.change(
                    move |session| start_server(session, &listen, https, log),
                    |page, started| match started {
                        Ok(server) => {
                            let message = tr!(
                                "ui.commands.the_api_listens_on_server",
                                server = server.url()
                            );
                            if let Some(page) = page {
                                page.server = Some(server);
                                page.error = None;
                            } else {
                                server.stop();
                            }
                            Ok(Some(message))
                        }
                        Err(e) => {
                            if let Some(page) = page {
                                page.error = Some(e.clone());
                            }
                            Err(e)
                        }
                    },
                )
            }
            ApiRequest::Start => Ok(None),
            ApiRequest::Stop => match page.server.take() {
                Some(server) => calls.call(
                    move |_| {
                        server.stop();
                        Ok(())
                    },
                    |_, stopped| {
                        stopped?;
                        Ok(Some(tr!("ui.commands.the_api_server_stopped")))
                    },
                ),
                None => Ok(None),
            },
            ApiRequest::CreateCredentials(cloud) => calls.change(
                move |session| {
                    session
                        .admin()?
                        .api_credential(&console_caller(), cloud, false)
                },
                |_, made| {
                    made?;
                    Ok(Some(tr!("ui.commands.api_credentials_created")))
                },
            ),
            ApiRequest::RotateCredentials(cloud) => {
                page.confirm_rotation = false;
                calls.change(
                    move |session| {
                        session
                            .admin()?
                            .api_credential(&console_caller(), cloud, true)
                    },
                    |_, made| {
                        made?;
                        Ok(Some(tr!(
                            "ui.commands.new_api_credentials_the_old_secretkey"
                        )))
                    },
                )
            }
            ApiRequest::CreateUser { name, preset, on } => {
                let shown_name = name.clone();
                calls.change(
                    move |session| {
                        let admin = session.admin()?;
                        // Policies name keys by KeyId: an alias is resolved now.
                        let on = match preset {
                            Preset::CryptoUser => on
                                .iter()
                                .map(|key| {
                                    admin.describe_key(&console_caller(), key).map(|k| k.key_id)
                                })
                                .collect::<Result<Vec<_>, _>>()?,
                            _ => on,
                        };
                        let policy = preset.policy(&on);
                        admin.change_user(&console_caller(), UserChange::Create { name, policy })
                    },
                    move |page, made| user_made(page, shown_name, made),
                )
            }
            ApiRequest::User(change) => {
                let name = change.user().to_owned();
                calls.change(
                    move |session| session.admin()?.change_user(&console_caller(), change),
                    move |page, made| user_made(page, name, made),
                )
            }
        }
    }
}

/// A user change's answer on the page: a new key is shown once; an error stays beside the form.
fn user_made(
    page: Option<&mut ApiAccessState>,
    name: String,
    made: Result<Option<ApiCredentials>, KmsError>,
) -> Outcome {
    match made {
        Ok(key) => {
            if let Some(page) = page {
                page.team.error = None;
                if let Some(key) = key {
                    page.team.new_name.clear();
                    page.team.on.clear();
                    page.team.show_secret = false;
                    page.team.shown = Some((name.clone(), key));
                }
            }
            Ok(Some(tr!("ui.team.user_saved", user = name)))
        }
        Err(e) => {
            if let Some(page) = page {
                page.team.error = Some(e.clone());
            }
            Err(e)
        }
    }
}

/// Starts the loopback server on the local keystore; the credentials are made on first use, so a
/// new keystore serves at once.
fn start_server(
    session: &Session,
    listen: &str,
    https: bool,
    log: Arc<AccessLog>,
) -> Result<ApiServer, KmsError> {
    let kms = session.local()?;
    let admin = session.admin()?;
    let addr = listen.parse::<std::net::SocketAddr>().map_err(|_| {
        KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "ui.commands.api_is_not_an_address_and",
                api = listen,
                example = keyconsole_api::DEFAULT_LISTEN
            ),
        )
    })?;
    admin.api_credential(&console_caller(), Cloud::Tencent, false)?;
    let tls = if https {
        let names = server_names(addr.ip(), &[]);
        let identity = admin.server_identity(&console_caller(), &names)?;
        Some(tls::from_identity(&identity)?)
    } else {
        None
    };
    let config = ServerConfig {
        tls,
        ..ServerConfig::loopback(addr)
    };
    ApiServer::start(kms.clone(), &config, log)
}
