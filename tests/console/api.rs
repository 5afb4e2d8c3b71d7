//! The API access page, driven by role and label, with real requests sent to the server it starts.

use crate::harness::Console;
use egui_kittest::kittest::Queryable;
use keyconsole::testing::api_client::{Signer, call};
use serde_json::json;

fn credentials(console: &Console) -> (String, String) {
    let kms = console.kms();
    let c = kms
        .existing_api_credentials()
        .expect("credentials were made");
    (c.secret_id.clone(), c.secret_key.to_string())
}

#[test]
fn start_the_server_serve_a_request_and_see_it_in_the_log() {
    let mut console = Console::unlocked(&["app-config"]);
    console.click("API access");
    assert!(console.shows("No credentials yet"));
    assert!(console.shows("Stopped"));
    console.replace_in("Listen address", "127.0.0.1:0");
    console.click("▶ Start server");
    let addr = console.app().api_address().expect("the server is running");
    assert!(console.shows(&format!("Listening on http://{addr}")));
    let (secret_id, secret_key) = credentials(&console);
    assert!(console.shows(&secret_id));
    assert!(
        !console.shows(&secret_key),
        "the SecretKey is hidden until asked for"
    );

    let signer = Signer {
        secret_id: &secret_id,
        secret_key: &secret_key,
        timestamp: console.kms().now(),
    };
    let plaintext = "c2VjcmV0IGNvbmZpZw==";
    let reply = call(
        addr,
        "Encrypt",
        json!({"KeyId": "app-config", "Plaintext": plaintext}),
        signer,
    );
    assert_eq!(reply.code(), "Success");
    let key_id = reply.field("KeyId").as_str().unwrap().to_owned();
    let refused = call(
        addr,
        "Encrypt",
        json!({"KeyId": "app-config", "Plaintext": plaintext}),
        Signer {
            secret_key: "wrong",
            ..signer
        },
    );
    assert_eq!(refused.code(), "AuthFailure.SignatureFailure");

    // The log shows both requests, live, and never the plaintext.
    console.settle();
    assert!(console.shows("2 requests, 1 refused"));
    assert!(console.shows(&key_id));
    assert!(console.shows("AuthFailure.SignatureFailure"));
    assert!(!console.shows(plaintext));

    // A key disabled in the console is refused over the API at once: one engine.
    console.click("Keys");
    console.click("app-config");
    console.click("Disable");
    console.click("Disable key");
    let reply = call(
        addr,
        "Encrypt",
        json!({"KeyId": key_id, "Plaintext": plaintext}),
        signer,
    );
    assert_eq!(reply.code(), "ResourceUnavailable.CmkDisabled");

    console.click("API access (running)");
    console.click("⏹ Stop server");
    assert!(console.shows("Stopped"));
    assert!(keyconsole::testing::api_client::exchange(addr, b"GET / HTTP/1.1\r\n\r\n").is_none());
}

#[test]
fn show_copy_and_rotate_the_credentials() {
    let mut console = Console::unlocked(&[]);
    console.click("API access");
    console.click("Create credentials");
    let (secret_id, secret_key) = credentials(&console);
    console.click("Show");
    assert!(console.shows(&secret_key));
    console.click("Hide");
    assert!(!console.shows(&secret_key));
    console.click("Copy SecretKey");
    assert_eq!(
        console.clipboard.contents().as_deref(),
        Some(secret_key.as_str())
    );
    console.click("Rotate credentials…");
    assert!(console.shows("will be refused from now on"));
    console.click("Cancel");
    assert_eq!(credentials(&console).0, secret_id);
    console.click("Rotate credentials…");
    console.click("Rotate now");
    let (new_id, new_key) = credentials(&console);
    assert_ne!(new_id, secret_id);
    assert_ne!(new_key, secret_key);
    assert!(console.shows(&new_id));
}

#[test]
fn locking_stops_the_server_and_a_bad_address_is_refused() {
    let mut console = Console::unlocked(&["k"]);
    console.click("API access");
    console.replace_in("Listen address", "0.0.0.0:0");
    console.click("▶ Start server");
    assert!(console.app().api_address().is_none());
    assert!(console.shows("--allow-remote"));
    console.replace_in("Listen address", "not an address");
    console.click("▶ Start server");
    assert!(console.shows("is not an address and port"));

    console.replace_in("Listen address", "127.0.0.1:0");
    console.click("▶ Start server");
    let addr = console.app().api_address().expect("running");
    console.shortcut(egui::Key::L);
    assert!(console.app().is_locked());
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nothing listens once the console is locked"
    );
}

#[test]
fn https_with_the_local_ca_and_snippets_that_trust_it() {
    let mut console = Console::unlocked(&["app-config"]);
    console.click("API access");
    console.replace_in("Listen address", "127.0.0.1:0");
    console.click("HTTPS (local CA)");
    console.click("Create credentials");
    console.click("▶ Start server");
    let addr = console.app().api_address().expect("the server is running");
    assert!(console.shows(&format!("Listening on https://{addr}")));
    let ca = console.kms().local_ca().unwrap();
    assert!(console.shows(&ca.path.display().to_string()));

    let (secret_id, secret_key) = credentials(&console);
    let request = keyconsole::testing::api_client::signed_request(
        addr,
        "POST",
        "Encrypt",
        "2019-01-18",
        &json!({"KeyId": "app-config", "Plaintext": "c2VjcmV0"}),
        Signer {
            secret_id: &secret_id,
            secret_key: &secret_key,
            timestamp: console.kms().now(),
        },
    );
    let reply =
        keyconsole::testing::api_client::exchange_tls(addr, "localhost", &ca.cert_pem, &request)
            .expect("a TLS answer from a server the CA vouches for");
    assert_eq!(reply.code(), "Success");

    // Every snippet carries the setting its client needs to trust the CA.
    console.click("Client snippets");
    let ca_path = ca.path.display().to_string();
    assert!(console.field_holds(&format!("certification=\"{ca_path}\"")));
    assert!(
        !console.field_holds(&secret_key),
        "no snippet holds the SecretKey"
    );
    console.click("Node.js SDK");
    assert!(console.field_holds(&format!("NODE_EXTRA_CA_CERTS={ca_path} node app.js")));
    assert!(console.field_holds("protocol: \"https://\""));
    console.click("tccli");
    assert!(console.field_holds(&format!("cat {ca_path} >>")));
    assert!(console.field_holds(&format!("--endpoint {addr} ")));
    assert!(
        !console.field_holds(&secret_key),
        "no snippet holds the SecretKey"
    );
    console.click("⏹ Stop server");
    assert!(console.shows("Stopped"));
}

#[test]
fn each_cloud_has_its_own_credentials_snippets_and_log_entries() {
    use keyconsole::kms::Cloud;
    let mut console = Console::unlocked(&["app-config"]);
    console.click("API access");
    console.replace_in("Listen address", "127.0.0.1:0");
    console.click("Huawei Cloud");
    assert!(console.shows("No credentials yet"));
    console.click("Create credentials");
    let huawei = console
        .kms()
        .existing_api_credentials_for(Cloud::Huawei)
        .expect("Huawei's pair was made");
    assert!(console.shows(&huawei.secret_id));
    assert!(!console.shows(huawei.secret_key.as_str()));
    console.click("Copy SK");
    assert_eq!(
        console.clipboard.contents().as_deref(),
        Some(huawei.secret_key.as_str())
    );
    assert!(
        console.kms().existing_api_credentials().is_none(),
        "Tencent's pair is not made by making Huawei's"
    );
    console.click("▶ Start server");
    let addr = console.app().api_address().expect("the server is running");
    console.click("Client snippets");
    assert!(console.field_holds(&format!("with_endpoint(\"http://{addr}\")")));
    assert!(console.field_holds(&format!("BasicCredentials(\"{}\"", huawei.secret_id)));

    // The Huawei SDK's request, signed with the pair the page shows, is answered; Tencent's pair
    // does not sign Huawei requests.
    let signer = Signer {
        secret_id: &huawei.secret_id,
        secret_key: &huawei.secret_key,
        timestamp: console.kms().now(),
    };
    let request = keyconsole::testing::api_client::huawei_request(
        addr,
        "encrypt-data",
        &json!({"key_id": "app-config", "plain_text": "db password"}),
        signer,
    );
    let reply = keyconsole::testing::api_client::exchange(addr, &request).unwrap();
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert!(reply.json["cipher_text"].as_str().is_some());
    let key_id = reply.json["key_id"].as_str().unwrap().to_owned();
    let tencent = console.kms().api_credentials().unwrap();
    let refused = keyconsole::testing::api_client::huawei_request(
        addr,
        "encrypt-data",
        &json!({"key_id": "app-config", "plain_text": "db password"}),
        Signer {
            secret_id: &tencent.secret_id,
            secret_key: &tencent.secret_key,
            ..signer
        },
    );
    let reply = keyconsole::testing::api_client::exchange(addr, &refused).unwrap();
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json["error"]["error_code"], "APIGW.0301");
    console.settle();
    assert!(console.shows("huawei"), "the access log names the dialect");
    assert!(console.shows("encrypt-data"));
    assert!(
        console.shows(&key_id),
        "the log names the key by its KeyId, though the request gave its alias"
    );

    // JD Cloud: its own pair, a Python snippet with a quiet logger and a Node.js one.
    console.click("JD Cloud");
    console.click("Create credentials");
    let jd = console
        .kms()
        .existing_api_credentials_for(Cloud::Jd)
        .expect("JD's pair was made");
    assert!(console.shows(&jd.secret_id));
    assert!(console.field_holds("Logger(ERROR)"));
    assert!(console.field_holds(&format!("Config(\"{addr}\", scheme=\"http\")")));
    console.click("Node.js SDK");
    assert!(console.field_holds(&format!("accessKeyId: \"{}\"", jd.secret_id)));
    console.click("Rotate credentials…");
    assert!(console.shows("Applications using the current SecretKey will be refused"));
    console.click("Rotate now");
    let rotated = console
        .kms()
        .existing_api_credentials_for(Cloud::Jd)
        .unwrap();
    assert_ne!(rotated.secret_id, jd.secret_id);
    assert_eq!(
        console
            .kms()
            .existing_api_credentials_for(Cloud::Huawei)
            .unwrap()
            .secret_id,
        huawei.secret_id,
        "rotating JD's pair leaves Huawei's"
    );
    console.click("⏹ Stop server");
}

#[test]
fn users_are_created_disabled_rotated_and_deleted_from_the_api_page() {
    let mut console = Console::unlocked(&["orders"]);
    console.click("API access");
    assert!(console.shows("No users yet."));
    console.type_into("New user", "alice");
    // The Users section is below the credentials: bring it into view first.
    console.harness.get_by_label("New user").scroll_to_me();
    console.settle();
    console.choose("Policy", "Crypto user (encrypt, decrypt, data keys)");
    console.type_into("On", "orders");
    console.click("Create user");
    let users = console.kms().users();
    assert_eq!(users.len(), 1);
    let key_id = console.kms().key_id_of("orders").unwrap();
    let policy = serde_json::to_string(&users[0].policy).unwrap();
    assert!(
        policy.contains(&key_id),
        "the alias became its KeyId: {policy}"
    );
    let (_, secret_id, _, _) = &users[0].keys[0];
    assert!(console.shows("New key of alice"));
    assert!(console.shows(secret_id));
    let secret = console
        .kms()
        .user_credentials("alice", keyconsole::kms::Cloud::Tencent)
        .unwrap();
    assert!(!console.shows(&secret.secret_key), "hidden until Show");
    console.click("Copy SecretKey");
    assert_eq!(
        console.clipboard.contents().as_deref(),
        Some(secret.secret_key.as_str())
    );
    console.click("Done");
    assert!(!console.shows("New key of alice"));

    // A bad name is refused beside the form, and nothing is made.
    console.type_into("New user", "no spaces here");
    console.choose("Policy", "Read only");
    console.click("Create user");
    assert!(console.shows("is not a user name"));
    assert_eq!(console.kms().users().len(), 1);

    console.click("Disable");
    assert!(console.kms().users()[0].disabled);
    console.click("Enable");
    assert!(!console.kms().users()[0].disabled);
    console.click("Rotate key…");
    console.replace_in("hours", "2");
    console.click("Rotate now");
    let keys = &console.kms().users()[0].keys;
    assert_eq!(keys.len(), 2);
    assert!(keys[0].3 > 0, "the old key has an end");
    console.click("Done");

    // The policy as JSON: checked as typed, saved only when valid.
    console.click("Policy…");
    let editor = "Policy of alice (CAM's JSON: version 2.0, statements of effect, action, resource, condition)";
    console.replace_in(editor, r#"{"version":"2.0","statement":[{"effect":"allow","action":["kms:Fly"],"resource":["*"]}]}"#);
    assert!(console.shows("kms:Fly"), "the unknown action is named");
    assert!(!console.enabled("Save policy"));
    console.replace_in(editor, r#"{"version":"2.0","statement":[{"effect":"allow","action":["kms:Encrypt"],"resource":["*"],"condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8"]}}}]}"#);
    assert!(console.shows("✔ Valid"));
    console.click("Save policy");
    let policy = serde_json::to_string(&console.kms().users()[0].policy).unwrap();
    assert!(policy.contains("10.0.0.0/8"), "{policy}");
    console.click("Delete…");
    assert!(console.shows("this cannot be undone"));
    console.click("Delete user");
    assert!(console.kms().users().is_empty());
}
