//! Work between frames: worker results, dialog answers, the engine's maintenance tick, auto-lock,
//! clipboard clearing, and keyboard shortcuts. Nothing here draws.

use egui::{Key, KeyboardShortcut, Modifiers};
use keyconsole_base::tr;

use std::sync::Arc;

use super::backend::{Backend, Session};
use super::{CLIPBOARD_CLEAR_SECONDS, Console, KeyconsoleApp, Page, Resume, Screen};
use crate::pages::key_detail::KeyDetailState;
use keyconsole_base::util::i18n::current;
use keyconsole_kms::local_ca::local_ca_path;
use keyconsole_kms::shared::TICK_SECONDS;
use keyconsole_kms::{Caller, Face, SharedKms, Upkeep};

/// How often a console connected to a server asks for its keys and secrets again.
pub const REMOTE_REFRESH_SECONDS: i64 = 5;
use crate::command::Command;
use crate::model::Model;
use crate::pages::api_access::ApiAccessState;
use crate::pages::files::{FileMode, FileToolsState};
use crate::pages::keys::KeyListState;
use crate::pages::secrets::{SecretTask, SecretTaskKind, SecretsState};
use crate::pages::unlock::Opened;
use keyconsole_kms::{ErrorCode, KmsError};

impl KeyconsoleApp {
    /// Everything that is not drawing: worker results, dialog answers, refresh, timers.
    pub(super) fn background(&mut self, ctx: &egui::Context) {
        let now = self.now();
        if ctx.input(|i| !i.events.is_empty()) {
            self.last_activity = now;
        }
        if let Screen::Locked(unlock) = &mut self.screen
            && let Some(result) = unlock.poll()
        {
            let opened = match result {
                Ok(Opened::Local(kms)) => {
                    let path = kms.path().to_path_buf();
                    self.prefs.keystore = Some(path.clone());
                    for warning in kms.take_warnings() {
                        self.notifications.warning(now, warning);
                    }
                    let message = tr!("ui.logic.unlocked_path", path = path.display());
                    Ok((Session::Local(SharedKms::new(*kms)), path, message))
                }
                Ok(Opened::Remote(remote)) => {
                    let message = tr!(
                        "ui.logic.connected_to_endpoint",
                        endpoint = remote.endpoint().to_string()
                    );
                    Ok((Session::Remote(remote), unlock.path.clone(), message))
                }
                Err(error) => Err(error),
            };
            match opened {
                Ok((session, path, message)) => {
                    let mut key_list = KeyListState::default();
                    key_list.oldest_first = self.prefs.oldest_first;
                    let session = Arc::new(session);
                    self.screen = Screen::Unlocked(Box::new(Console {
                        backend: Backend::start(session.clone(), ctx),
                        tick_pending: false,
                        session,
                        model: Model::default(),
                        path: path.clone(),
                        page: Page::Keys,
                        key_list,
                        files: FileToolsState::default(),
                        create_key: None,
                        api: ApiAccessState::new(
                            self.prefs.api_listen.clone(),
                            self.prefs.api_https,
                            local_ca_path(&path),
                        ),
                        secrets: SecretsState::default(),
                        audit: Default::default(),
                        resume: self.resume.take(),
                        last_tick: now,
                        last_tick_error: None,
                    }));
                    self.last_activity = now;
                    self.succeed(message);
                }
                Err(error) => {
                    unlock.keystore_exists = unlock.path.exists();
                    unlock.error = Some(error);
                }
            }
        }
        while let Some(answer) = self.env.dialogs.poll() {
            match answer.unavailable.clone() {
                // No desktop dialog here: say why once, and open keyconsole's own instead.
                Some(why) => {
                    let now = self.now();
                    self.notifications.success(
                        now,
                        tr!("ui.logic.the_desktop_s_file_dialog_cannot", why = why),
                    );
                    self.desktop_dialog_unavailable = Some(why);
                    self.open_dialog(answer.purpose);
                }
                None => self.dialog_answered(answer),
            }
        }
        if let Screen::Unlocked(console) = &mut self.screen {
            self.prefs.oldest_first = console.key_list.oldest_first;
            if console.api.listen != self.prefs.api_listen {
                self.prefs.api_listen.clone_from(&console.api.listen);
            }
            self.prefs.api_https = console.api.https;
            // A file dropped on the window goes to the File tools page.
            let dropped = ctx.input(|i| {
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_path_buf())
                    .find(|p| !p.as_os_str().is_empty())
            });
            if let Some(path) = dropped
                && console.files.job.is_none()
            {
                console.files.set_input(path);
                console.page = Page::Files;
            }
            if let Some(job) = &console.files.job
                && let Ok(result) = job.result.try_recv()
            {
                let seconds = job.started.elapsed().as_secs_f64().max(1e-3);
                let verb = match job.request.mode {
                    FileMode::Encrypt => tr!("ui.logic.encrypted"),
                    FileMode::Decrypt => tr!("ui.logic.decrypted"),
                };
                // The job's own output, whatever the tab shows now.
                let output = job.request.output.clone();
                let said = console.files.finished(result, |report| {
                    let mib = report.bytes as f64 / (1024.0 * 1024.0);
                    tr!(
                        "ui.logic.file_done",
                        verb = verb,
                        mib = format!("{:.1}", mib),
                        output = output.display(),
                        seconds = format!("{:.1}", seconds),
                        speed = format!("{:.0}", mib / seconds)
                    )
                });
                match said {
                    Some(Ok(message)) => self.notifications.success(now, message),
                    Some(Err(e)) => self.notifications.error(now, &e),
                    None => {}
                }
            }
            // Database work that finished on its worker thread.
            let mut finished = Vec::new();
            console
                .secrets
                .tasks
                .retain(|task| match task.result.try_recv() {
                    Ok(result) => {
                        finished.push((task.kind.clone(), result));
                        false
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => true,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        finished.push((
                            task.kind.clone(),
                            Err(KmsError::new(
                                ErrorCode::InternalError,
                                tr!("ui.logic.the_worker_stopped"),
                            )),
                        ));
                        false
                    }
                });
            for (kind, result) in finished {
                match (&kind, &result) {
                    (SecretTaskKind::TestConnection, _) => {
                        if let Some(form) = &mut console.secrets.create {
                            form.connection = Some(result.clone().map_err(|e| e.message_here()));
                        }
                    }
                    (SecretTaskKind::Create(name), Ok(_)) => console.secrets.created(name),
                    _ => {}
                }
                match result {
                    Ok(message) => self.notifications.success(now, message),
                    Err(e) => self.notifications.error(now, &e),
                }
            }
            // What the worker answered, applied to the pages that asked.
            while let Some(apply) = console.backend.answer() {
                match apply(console, ctx) {
                    Ok(Some(message)) => self.notifications.success(now, message),
                    Ok(None) => {}
                    Err(e) => self.notifications.error(now, &e),
                }
            }
            // The chosen secret's details come with the next snapshot.
            // Back to where the console was when it locked, once the keys and secrets are known.
            if console.model.loaded
                && let Some(resume) = console.resume.take()
            {
                match resume {
                    Resume::Keys => {}
                    Resume::Key(id) => {
                        if let Some(key) = console.model.keys.find(&id) {
                            console.page = Page::Key(Box::new(KeyDetailState::new(key)));
                        }
                    }
                    Resume::Files => console.page = Page::Files,
                    Resume::Api if !console.session.is_remote() => console.page = Page::Api,
                    Resume::Api => {}
                    Resume::Secrets(selected) => {
                        console.page = Page::Secrets;
                        console.secrets.select(selected);
                    }
                    // The page reads the trail when it finds it unread.
                    Resume::Audit => console.page = Page::Audit,
                }
            }
            let selected = console.secrets.selected.clone();
            console.backend.select_secret(selected.as_deref());
            console
                .backend
                .refresh_if_stale(&console.session, &console.model);
            // A local keystore: the engine's one maintenance tick, as `serve` runs it, on the
            // worker; changes made by other processes (the CLI, another console) show within two
            // seconds (a new snapshot follows a new generation, above), and due rotations and
            // deletions happen. A server: its keys and secrets asked for again, less often (a
            // listing of a large server is many calls).
            let remote = console.session.is_remote();
            let period = if remote {
                REMOTE_REFRESH_SECONDS
            } else {
                TICK_SECONDS as i64
            };
            if now - console.last_tick >= period && !console.tick_pending {
                console.last_tick = now;
                let asked = if remote {
                    console.backend.refresh()
                } else {
                    console.tick_pending = true;
                    console.backend.call(
                        |session| {
                            session
                                .admin()?
                                .upkeep(&Caller::local(Face::Engine, current()))
                        },
                        |console, ctx, ticked| {
                            console.tick_pending = false;
                            tick_done(console, ctx, ticked)
                        },
                    )
                };
                if let Err(e) = asked {
                    console.tick_pending = false;
                    self.notifications.error(now, &e);
                }
            }
            // Waiting for a file job is not idleness: auto-lock comes after it ends (Lock still cancels it).
            if console.files.job.is_some() {
                self.last_activity = now;
            }
            let idle_limit = i64::from(self.prefs.auto_lock_minutes.max(1)) * 60;
            if now - self.last_activity >= idle_limit {
                let reason = tr!(
                    "ui.logic.locked_after_auto_lock_minutes_minutes",
                    auto_lock_minutes = self.prefs.auto_lock_minutes
                );
                self.lock_because(Some(reason));
            }
        }
        // Only clear what we put there: the user may have copied something else since.
        if self
            .copied
            .as_ref()
            .is_some_and(|copied| now - copied.at >= CLIPBOARD_CLEAR_SECONDS)
        {
            self.clear_our_clipboard();
        }
        self.notifications.expire(now);
        ctx.request_repaint_after(std::time::Duration::from_millis(500));
    }

    pub(super) fn shortcuts(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let pressed = |key| {
            ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, key)))
        };
        if let Screen::Unlocked(console) = &mut self.screen {
            if pressed(Key::L) {
                commands.push(Command::Lock);
            }
            if pressed(Key::N) {
                commands.push(Command::OpenCreateKey);
            }
            if pressed(Key::F) {
                console.page = Page::Keys;
                console.key_list.focus_search = true;
            }
        }
    }
}

/// What a maintenance tick did: due database rotations start on their workers; an error is told
/// once until it changes.
fn tick_done(
    console: &mut Console,
    ctx: &egui::Context,
    ticked: Result<Upkeep, KmsError>,
) -> Result<Option<String>, KmsError> {
    match ticked {
        Ok(Upkeep {
            done,
            due_rotations: due,
        }) => {
            console.last_tick_error = None;
            for name in due {
                let kind = SecretTaskKind::Rotate(name.clone());
                if !console.secrets.busy(&kind) {
                    let task = SecretTask::rotation(&console.session, name, ctx);
                    console.secrets.tasks.push(task);
                }
            }
            if done.is_empty() {
                Ok(None)
            } else {
                Ok(Some(tr!(
                    "ui.logic.maintenance_done",
                    rotated = done.rotated.len(),
                    destroyed = done.destroyed.len()
                )))
            }
        }
        Err(e) => {
            if console.last_tick_error.as_deref() == Some(e.message_here().as_str()) {
                return Ok(None);
            }
            console.last_tick_error = Some(e.message_here());
            Err(e)
        }
    }
}
