//! The real binary, started under Xvfb with a fresh keystore path: a window appears, is drawn
//! (not blank), and its title names the keystore and says it is locked.
//! Needs Xvfb, xdotool and ImageMagick: scripts/test.sh installs them.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keyconsole");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is missing: run the tests with scripts/test.sh, which installs it"
    );
}

fn output(command: &mut Command) -> String {
    let out = command.output().expect("run a helper tool");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_console_window_opens_and_draws_under_xvfb() {
    for tool in ["Xvfb", "xdotool", "import", "convert"] {
        require(tool);
    }
    let display = (150..250)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .map(|n| format!(":{n}"))
        .expect("a free X display");
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
    let deadline = Instant::now() + Duration::from_secs(10);
    // The socket appears before the server answers: wait until a client gets an answer too.
    let answers = || {
        Command::new("xdotool")
            .arg("getdisplaygeometry")
            .env("DISPLAY", &display)
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success())
    };
    while !Path::new(&socket).exists() || !answers() {
        assert!(Instant::now() < deadline, "Xvfb did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    let dir = tempfile::tempdir().unwrap();
    let keystore = dir.path().join("fresh.kcks");
    let started = Instant::now();
    let mut app = Killed(
        Command::new(BIN)
            .arg("--keystore")
            .arg(&keystore)
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = app.0.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let window = loop {
        let found = output(
            Command::new("xdotool")
                .args(["search", "--onlyvisible", "--pid", &pid])
                .env("DISPLAY", &display),
        );
        if let Some(window) = found.lines().next() {
            break window.to_owned();
        }
        if let Ok(Some(status)) = app.0.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = app.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            panic!("the app exited ({status}) before showing a window: {stderr}");
        }
        assert!(Instant::now() < deadline, "no window appeared within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("window after {} ms", started.elapsed().as_millis());

    // The title is set by the first frames; give them a moment.
    let deadline = Instant::now() + Duration::from_secs(20);
    let title = loop {
        let title = output(
            Command::new("xdotool")
                .args(["getwindowname", &window])
                .env("DISPLAY", &display),
        );
        if title.contains("locked") || Instant::now() > deadline {
            break title;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        title.contains("fresh.kcks") && title.contains("(locked)"),
        "window title: {title:?}"
    );

    // The title is set while the first frame is laid out; its pixels may reach the screen a
    // little later on a busy machine, so look again for a while before calling it blank.
    let shot = dir.path().join("window.png");
    let deadline = Instant::now() + Duration::from_secs(20);
    let colors = loop {
        let status = Command::new("import")
            .args(["-window", &window])
            .arg(&shot)
            .env("DISPLAY", &display)
            .status()
            .unwrap();
        assert!(status.success(), "screenshot failed");
        let colors: u32 = output(
            Command::new("convert")
                .arg(&shot)
                .args(["-format", "%k", "info:"]),
        )
        .parse()
        .unwrap_or(0);
        if colors > 16 || Instant::now() > deadline {
            break colors;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(colors > 16, "the window looks blank ({colors} colours)");
    assert!(
        !keystore.exists(),
        "nothing is written before the user creates the keystore"
    );
}
