//! The layer check (`scripts/check_layers.sh`, run by CI) on trees made to break it: upward uses in
//! every form a file can write them, over one line or many.

use std::path::Path;
use std::process::Command;

fn check(files: &[(&str, &str)]) -> (bool, String) {
    let root = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = root.path().join("src").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_layers.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(root.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn upward_uses_fail_in_every_form() {
    let fine = [
        (
            "kms/mod.rs",
            "use crate::{\n    store::Store,\n    util::{a, b},\n};\n",
        ),
        (
            "ui/mod.rs",
            "use crate::{api::{self, http}, kms::{\n    Kms,\n}};\n",
        ),
        ("cli/mod.rs", "fn f() { crate::kms::thing(); }\n"),
    ];
    assert_eq!(check(&fine), (true, String::new()));
    for (file, text, complaint) in [
        ("kms/a.rs", "use crate::ui::Page;\n", "kms uses ui"),
        (
            "kms/b.rs",
            "fn f() { crate::api::call(); }\n",
            "kms uses api",
        ),
        ("kms/c.rs", "use crate::{store, ui};\n", "kms uses ui"),
        (
            "kms/d.rs",
            "use crate::{\n    store::Store,\n    api::{\n        x,\n        y,\n    },\n};\n",
            "kms uses api",
        ),
        (
            "ui/e.rs",
            "use crate::{kms::{A, B}, cli::C};\n",
            "ui uses cli",
        ),
        (
            "store/f.rs",
            "use crate::{\n    kms,\n};\n",
            "store uses kms",
        ),
    ] {
        let (passed, stderr) = check(&[(file, text)]);
        assert!(!passed, "{file} passed: {text}");
        assert!(stderr.contains(complaint), "{file}: {stderr}");
    }
}
