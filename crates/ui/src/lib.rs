//! The desktop console (eframe/egui). It draws, translates clicks into engine calls, and shows
//! the results; every rule stays in the engine. `app/` is the application (state, work between
//! frames, command handling), `pages/` the screens, `command` what pages ask for, `platform` the
//! desktop behind traits (file dialogs, clipboard), `widgets` small shared drawing helpers.

pub mod app;
pub mod command;
pub mod file_dialog;
pub mod fonts;
pub mod model;
pub mod notifications;
pub mod pages;
pub mod platform;
pub mod widgets;

use std::path::PathBuf;

pub use app::{AppEnvironment, KeyconsoleApp, Preferences, Theme};

const ICON_PNG: &[u8] = include_bytes!("../../../assets/icon.png");

/// Opens the console window (the binary's default when no subcommand is given).
pub fn run(keystore: Option<PathBuf>) -> eframe::Result<()> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("keyconsole")
        .with_app_id("keyconsole")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([900.0, 560.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "keyconsole",
        options,
        Box::new(move |cc| {
            let env = AppEnvironment::native(&cc.egui_ctx);
            Ok(Box::new(KeyconsoleApp::new(cc, env, keystore)))
        }),
    )
}
