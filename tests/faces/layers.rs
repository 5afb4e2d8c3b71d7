//! The layers are crates: a copy of the workspace with an upward dependency added to one manifest
//! is refused, by Cargo when it makes a cycle (the engine using the console) and by
//! `scripts/check_layers.sh` (run by CI) when Cargo alone would let it through (the CLI using the
//! console). Rust code can only name the crates its manifest lists, so an upward import cannot
//! compile once the manifests are in order.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The manifests and sources Cargo reads to load the workspace (no target/, no .git).
fn copy_workspace() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        if from.is_dir() {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                copy(&entry.path(), &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(from, to).unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    for part in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "crates",
        "benches",
        "scripts",
    ] {
        copy(&Path::new(ROOT).join(part), &dir.path().join(part));
    }
    dir
}

fn add_dependency(workspace: &Path, krate: &str, on: &str) {
    let manifest = workspace.join("crates").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replacen(
        "[dependencies]\n",
        &format!("[dependencies]\n{on}.workspace = true\n"),
        1,
    );
    std::fs::write(&manifest, text).unwrap();
}

fn check_layers(workspace: &Path) -> (bool, String) {
    let out = Command::new("bash")
        .arg(workspace.join("scripts/check_layers.sh"))
        .arg(workspace)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_workspace_as_it_is_keeps_its_layers() {
    let copy = copy_workspace();
    assert_eq!(check_layers(copy.path()), (true, String::new()));
}

#[test]
fn cargo_refuses_the_engine_using_the_console() {
    let copy = copy_workspace();
    add_dependency(copy.path(), "kms", "keyconsole-ui");
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--offline", "--format-version", "1"])
        .current_dir(copy.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cyclic package dependency"), "{stderr}");
}

#[test]
fn the_layer_check_refuses_what_cargo_would_let_through() {
    for (krate, on, complaint) in [
        ("cli", "keyconsole-ui", "keyconsole-cli uses keyconsole-ui"),
        ("ui", "keyconsole-cli", "keyconsole-ui uses keyconsole-cli"),
        ("api", "keyconsole-ui", "keyconsole-api uses keyconsole-ui"),
    ] {
        let copy = copy_workspace();
        add_dependency(copy.path(), krate, on);
        let (passed, stderr) = check_layers(copy.path());
        assert!(!passed, "{krate} → {on} passed");
        assert!(stderr.contains(complaint), "{krate} → {on}: {stderr}");
    }
}
