//! The real binary under Xvfb. With a fresh keystore path: a window appears, is drawn (not blank),
//! and its title names the keystore and says it is locked. On a bare X server (no desktop portal,
//! no zenity): a newcomer encrypts a secret, clicks Download, saves through keyconsole's own file
//! dialog, and opens the file again in Decrypt.
//! Needs Xvfb, xdotool and ImageMagick: scripts/test.sh installs them. `KEYCONSOLE_SMOKE_BIN`
//! runs another binary (scripts/package.sh: the one the installed desktop entry starts).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> String {
    std::env::var("KEYCONSOLE_SMOKE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_keyconsole").to_owned())
}

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

/// A private X server on a free display, stopped when dropped.
fn start_xvfb() -> (Killed, String) {
    for tool in ["Xvfb", "xdotool", "import", "convert"] {
        require(tool);
    }
    // Xvfb picks a free display itself and writes its number to -displayfd: two tests starting
    // servers at once cannot take the same one.
    let mut xvfb = Killed(
        Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
                // Without it the server resets when its last client (our readiness probe) leaves,
                // and a client connecting during the reset is refused.
                "-noreset",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut number = String::new();
    // Read through a borrow: the pipe stays open while Xvfb runs (a write to a closed pipe would
    // kill it with SIGPIPE).
    let stdout = xvfb.0.stdout.as_mut().expect("Xvfb's stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut number)
        .expect("Xvfb names its display");
    let display = format!(":{}", number.trim());
    assert!(display.len() > 1, "Xvfb did not start");
    let deadline = Instant::now() + Duration::from_secs(10);
    let answers = || {
        Command::new("xdotool")
            .arg("getdisplaygeometry")
            .env("DISPLAY", &display)
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success())
    };
    while !answers() {
        assert!(Instant::now() < deadline, "Xvfb does not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    (xvfb, display)
}

/// The console on `keystore`, in a bare session: English, no desktop portal (no session bus),
/// no zenity (an empty PATH), HOME and the XDG folders in `dir`.
fn start_console(display: &str, dir: &Path, keystore: &Path) -> Killed {
    Killed(
        Command::new(bin())
            .arg("--keystore")
            .arg(keystore)
            .current_dir(dir)
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            // Nor zenity, even where the machine has it.
            .env("PATH", dir.join("no-programs"))
            .env("HOME", dir)
            .env("LANG", "C.UTF-8")
            .env_remove("LANGUAGE")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// The app's visible window, waited for (up to 60 s).
fn window_of(app: &mut Killed, display: &str) -> String {
    let pid = app.0.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = output(
            Command::new("xdotool")
                .args(["search", "--onlyvisible", "--pid", &pid])
                .env("DISPLAY", display),
        );
        if let Some(window) = found.lines().next() {
            return window.to_owned();
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
    }
}

#[test]
fn the_console_window_opens_and_draws_under_xvfb() {
    let (_xvfb, display) = start_xvfb();
    let dir = tempfile::tempdir().unwrap();
    let keystore = dir.path().join("fresh.kcks");
    let started = Instant::now();
    let mut app = start_console(&display, dir.path(), &keystore);
    let window = window_of(&mut app, &display);
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

const SMOKE_PASSWORD: &str = "smoke test password 1";

fn cli(dir: &Path, keystore: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(bin())
        .args(args)
        .env("KEYCONSOLE_KEYSTORE", keystore)
        .env("KEYCONSOLE_PASSWORD", SMOKE_PASSWORD)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "keyconsole {args:?}: {out:?}");
    out
}

/// Drives the real window with xdotool; coordinates are in the 1280×800 window, whose layout is
/// fixed (egui's own fonts, the default size).
struct Screen<'a> {
    display: &'a str,
    window: String,
    dir: &'a Path,
    step: u32,
}

impl Screen<'_> {
    fn xdotool(&self, args: &[&str]) {
        let status = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", self.display)
            .status()
            .unwrap();
        assert!(status.success(), "xdotool {args:?}");
        // A few frames for the app to take the input and draw the answer.
        std::thread::sleep(Duration::from_millis(400));
    }

    fn click(&self, x: u32, y: u32) {
        let (x, y) = (x.to_string(), y.to_string());
        self.xdotool(&["mousemove", "--window", &self.window, &x, &y, "click", "1"]);
    }

    fn type_text(&self, text: &str) {
        self.xdotool(&["type", "--delay", "30", text]);
    }

    fn key(&self, key: &str) {
        self.xdotool(&["key", key]);
    }

    /// A screenshot, kept in the temporary folder (named by step, for a failure's report).
    fn shot(&mut self) -> std::path::PathBuf {
        self.step += 1;
        let path = self.dir.join(format!("step{}.png", self.step));
        let status = Command::new("import")
            .args(["-window", &self.window])
            .arg(&path)
            .env("DISPLAY", self.display)
            .status()
            .unwrap();
        assert!(status.success(), "screenshot failed");
        path
    }

    /// How many colours the rectangle `w`×`h` at (`x`, `y`) of a screenshot holds: one or two
    /// for an empty box, dozens once anti-aliased text is drawn in it. (The rectangles measured
    /// here are clear of the notifications, which stack up from the bottom right.)
    fn colors_in(&mut self, x: u32, y: u32, w: u32, h: u32) -> u32 {
        let shot = self.shot();
        output(
            Command::new("convert")
                .arg(&shot)
                .args(["-crop", &format!("{w}x{h}+{x}+{y}"), "+repage"])
                .args(["-format", "%k", "info:"]),
        )
        .parse()
        .unwrap_or(0)
    }

    fn title(&self) -> String {
        output(
            Command::new("xdotool")
                .args(["getwindowname", &self.window])
                .env("DISPLAY", self.display),
        )
    }

    fn wait_for(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(self) {
            if Instant::now() > deadline {
                self.fail(&format!("timed out waiting for {what}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fails the test, keeping the screenshots (and one of now) where they outlive it.
    fn fail(&mut self, why: &str) -> ! {
        self.shot();
        let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("smoke-shots");
        let _ = std::fs::create_dir_all(&keep);
        for step in 1..=self.step {
            let name = format!("step{step}.png");
            let _ = std::fs::copy(self.dir.join(&name), keep.join(&name));
        }
        panic!("{why}; screenshots in {}", keep.display());
    }
}

#[test]
fn a_ciphertext_is_downloaded_and_opened_again_without_a_desktop_portal() {
    let (_xvfb, display) = start_xvfb();
    let dir = tempfile::tempdir().unwrap();
    let keystore = dir.path().join("smoke.kcks");
    cli(dir.path(), &keystore, &["init"]);
    cli(
        dir.path(),
        &keystore,
        &["key", "create", "--alias", "smoke-key"],
    );
    let mut app = start_console(&display, dir.path(), &keystore);
    let window = window_of(&mut app, &display);
    let mut screen = Screen {
        display: &display,
        window,
        dir: dir.path(),
        step: 0,
    };
    screen.wait_for("the locked console", |s| s.title().contains("(locked)"));
    // There is no window manager to give the window the keyboard.
    let window = screen.window.clone();
    screen.xdotool(&["windowfocus", "--sync", &window]);

    screen.click(640, 320); // the password field
    screen.type_text(SMOKE_PASSWORD);
    screen.key("Return");
    screen.wait_for("the unlock", |s| s.title().contains("(unlocked)"));

    // The key list's only row: its alias opens the key's page, with Encrypt chosen.
    screen.click(375, 131);
    screen.shot();
    screen.click(280, 556); // the plaintext box
    screen.type_text("smoke secret 42");
    screen.key("ctrl+Return");
    screen.shot();
    screen.click(830, 644); // Download…, under the ciphertext
    // The console first asks D-Bus for the portal, then opens its own dialog: wait until its
    // title ("Save the ciphertext", top centre, where the key page has nothing) is drawn. A fixed
    // second was not always enough on a busy machine.
    let deadline = Instant::now() + Duration::from_secs(30);
    while screen.colors_in(560, 52, 340, 28) <= 8 {
        if Instant::now() > deadline {
            screen.fail("timed out waiting for keyconsole's file dialog");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // No portal, no zenity: keyconsole's own dialog, in HOME, with the name filled in.
    screen.click(700, 423); // its file name field
    screen.key("Return");
    let saved = dir.path().join("smoke-key.kc");
    screen.wait_for("the downloaded file", |_| saved.exists());
    let decrypted = cli(
        dir.path(),
        &keystore,
        &["decrypt", "--in", saved.to_str().unwrap()],
    );
    assert_eq!(decrypted.stdout, b"smoke secret 42");

    // Decrypt, Open file…, the same dialog, the file's name, Enter; then Execute.
    screen.click(108, 479);
    let empty = screen.colors_in(716, 539, 115, 28);
    screen.click(640, 592);
    std::thread::sleep(Duration::from_secs(1));
    screen.click(700, 423);
    screen.key("ctrl+a");
    screen.type_text("smoke-key.kc");
    screen.key("Return");
    // The file is read on the console's worker: Execute once its text is in the box.
    let deadline = Instant::now() + Duration::from_secs(10);
    while screen.colors_in(20, 541, 300, 24) <= 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Onto the button first, then the click: the window has just taken the pointer back from
    // the dialog.
    screen.xdotool(&["mousemove", "--window", &screen.window, "640", "569"]);
    std::thread::sleep(Duration::from_millis(300));
    screen.click(640, 569);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut shown = screen.colors_in(716, 539, 115, 28);
    while shown <= 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        shown = screen.colors_in(716, 539, 115, 28);
    }
    if !(empty <= 4 && shown > 8) {
        screen.fail(&format!(
            "the plaintext box went from {empty} to {shown} colours"
        ));
    }
}

/// The real console on a machine without a keystore connects to a real `keyconsole serve --tls`
/// through *Connect to a server*, trusting the server's CA file, and shows the server's keys.
#[test]
fn the_real_console_connects_to_a_team_server() {
    let (_xvfb, display) = start_xvfb();
    let team = tempfile::tempdir().unwrap();
    let keystore = team.path().join("team.kcks");
    cli(team.path(), &keystore, &["init"]);
    cli(
        team.path(),
        &keystore,
        &["key", "create", "--alias", "team-key"],
    );
    let credentials =
        String::from_utf8(cli(team.path(), &keystore, &["api", "credentials"]).stdout).unwrap();
    let field = |name: &str| crate::printed_field(&credentials, name);
    let ca = String::from_utf8(cli(team.path(), &keystore, &["api", "ca", "--path"]).stdout)
        .unwrap()
        .trim()
        .to_owned();
    let mut server = Killed(
        Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--tls"])
            .env("KEYCONSOLE_KEYSTORE", &keystore)
            .env("KEYCONSOLE_PASSWORD", SMOKE_PASSWORD)
            .env("HOME", team.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The banner, then the access log: a line a request.
    let mut lines =
        std::io::BufRead::lines(std::io::BufReader::new(server.0.stdout.take().unwrap()));
    let banner = lines.next().unwrap().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let heard = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            heard.lock().unwrap().push(line);
        }
    });
    let endpoint = format!(
        "https://{}",
        banner
            .split("https://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the banner names the address")
    );

    let mate = tempfile::tempdir().unwrap();
    let none = mate.path().join("none.kcks");
    let mut app = start_console(&display, mate.path(), &none);
    let window = window_of(&mut app, &display);
    let mut screen = Screen {
        display: &display,
        window,
        dir: mate.path(),
        step: 0,
    };
    screen.wait_for("the locked console", |s| s.title().contains("(locked)"));
    let window = screen.window.clone();
    screen.xdotool(&["windowfocus", "--sync", &window]);
    screen.click(600, 222); // the Connect to a server tab
    screen.shot();
    for (y, text) in [
        (318, endpoint.as_str()),
        (344, &field("SecretId:")),
        (370, &field("SecretKey:")),
        (396, ca.as_str()),
    ] {
        screen.click(647, y);
        screen.type_text(text);
    }
    screen.shot();
    screen.click(462, 453); // Connect
    screen.wait_for("the connection", |s| {
        let title = s.title();
        title.contains("(unlocked)") && title.contains(&endpoint)
    });
    // The key list's first row: the server's key, its alias drawn.
    let deadline = Instant::now() + Duration::from_secs(20);
    while screen.colors_in(300, 120, 150, 22) <= 8 {
        if Instant::now() > deadline {
            screen.fail("the server's key never showed");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!none.exists(), "the teammate's machine keeps no keystore");
    // The server answered the console's signed requests (its key list among them).
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("ListKeyDetail key=- Success"), "{log}");
    assert!(!log.contains("AuthFailure"), "{log}");
}
