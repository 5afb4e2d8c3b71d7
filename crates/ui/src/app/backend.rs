//! The console's one worker for everything that may wait: changes (which wait for the keystore's
//! file lock and fsync, or for a server), the online tools, the engine's maintenance tick, and the
//! snapshots the pages draw from. The UI thread hands it a call and what to do with the answer; the
//! worker runs the call, the answer comes back over a channel, and the next frame applies it to the
//! page that asked (messages are written there, in the console's language). One worker, so calls
//! finish in the order they were made.

use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};

use super::Console;
use crate::model::{Model, SecretDetail};
use keyconsole_api::tencent::client::RemoteService;
use keyconsole_base::tr;
use keyconsole_base::util::i18n::Language;
use keyconsole_kms::secrets::rules::LIST_LIMIT_MAX;
use keyconsole_kms::{
    Caller, ErrorCode, Face, KeystoreAdmin, KmsError, KmsService, SecretQuery, SharedKms,
};

/// What the console manages: a keystore on this machine, or a server over its API.
pub enum Session {
    Local(SharedKms),
    Remote(Box<RemoteService>),
}

impl Session {
    pub fn service(&self) -> &dyn KmsService {
        match self {
            Session::Local(kms) => &**kms,
            Session::Remote(remote) => &**remote,
        }
    }

    /// What only the owner of a keystore on this machine does (upkeep, the API's credentials and
    /// certificate); a remote session answers that it cannot.
    pub fn admin(&self) -> Result<&dyn KeystoreAdmin, KmsError> {
        self.local().map(|kms| &**kms as &dyn KeystoreAdmin)
    }

    /// The local engine itself, to serve it over the API; a remote session answers that it cannot.
    pub fn local(&self) -> Result<&SharedKms, KmsError> {
        match self {
            Session::Local(kms) => Ok(kms),
            Session::Remote(_) => Err(KmsError::new(
                ErrorCode::UnsupportedOperation,
                tr!("ui.backend.only_on_a_local_keystore"),
            )),
        }
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Session::Remote(_))
    }

    /// A new snapshot of what the pages draw, with the details of `selected` (a secret's name).
    fn snapshot(&self, caller: &Caller, selected: Option<&str>) -> Result<Model, KmsError> {
        // Read first: a change published while this is built makes the next check ask again.
        let generation = self.admin().ok().map(|admin| admin.keystore_generation());
        let service = self.service();
        // Only a server has users; what this one may do decides what the pages offer.
        let caller_policy = match self {
            Session::Remote(remote) => remote.caller_policy(caller)?.map(Arc::new),
            Session::Local(_) => None,
        };
        // A user whose policy does not allow listing keys or secrets sees none, and the rest.
        // Neither is asked when the policy forbids it (a refused call is an event of its own,
        // one per refresh); a refusal still ends in an empty list (the policy may have changed
        // since it was fetched).
        let may = |action: &str| {
            caller_policy
                .as_ref()
                .is_none_or(|c| c.why_not(action, "*").is_none())
        };
        let keys = if may("kms:ListKeys") {
            match service.key_index(caller) {
                Err(e) if e.code == ErrorCode::UnauthorizedOperation => Arc::default(),
                other => other?,
            }
        } else {
            Arc::default()
        };
        let mut query = SecretQuery {
            limit: Some(LIST_LIMIT_MAX),
            ..SecretQuery::default()
        };
        let mut secrets = Vec::new();
        let mut more = may("ssm:ListSecrets");
        while more {
            let page = match service.list_secrets(caller, &query) {
                Err(e) if e.code == ErrorCode::UnauthorizedOperation => break,
                other => other?,
            };
            let got = page.secrets.len();
            secrets.extend(page.secrets);
            more = got > 0 && secrets.len() < page.total;
            query.offset = secrets.len();
        }
        let secret = match selected {
            Some(name) if secrets.iter().any(|s| s.name == name) => {
                let versions = service.secret_versions(caller, name).unwrap_or_default();
                // Only database secrets have one; a server does not tell it (yet).
                let rotation = service.rotation_detail(caller, name).ok();
                Some(Arc::new(SecretDetail {
                    name: name.to_owned(),
                    versions,
                    rotation,
                }))
            }
            _ => None,
        };
        let credentials = self.admin().map_or_else(
            |_| Vec::new(),
            |admin| {
                keyconsole_kms::Cloud::ALL
                    .into_iter()
                    .filter_map(|cloud| admin.existing_api_credential(cloud))
                    .collect()
            },
        );
        let users = self.admin().map(|admin| admin.users()).unwrap_or_default();
        let service_keys = Arc::new(Model::service_keys_of(&keys, &secrets));
        let db_instances = Arc::new(
            self.admin()
                .map(|admin| admin.db_instances())
                .unwrap_or_default(),
        );
        Ok(Model {
            keys,
            service_keys,
            db_instances,
            secrets: Arc::new(secrets),
            secret,
            credentials,
            users,
            loaded: true,
            generation,
            remote: self.is_remote(),
            caller_policy,
        })
    }
}

/// What the UI thread does with an answer: changes the page that asked and says how it went
/// (a notification's text, or the error).
pub(super) type Apply =
    Box<dyn FnOnce(&mut Console, &egui::Context) -> Result<Option<String>, KmsError> + Send>;
type Job = Box<dyn FnOnce(&Session) -> Apply + Send>;

/// Calls waiting beyond this many are refused at once (the worker is stuck on a long lock wait).
const QUEUE_MAX: usize = 64;

pub(super) struct Backend {
    jobs: SyncSender<Job>,
    answers: Receiver<Apply>,
    /// Calls handed over and not yet applied.
    pending: usize,
    /// The secret whose details the snapshots carry.
    selected: Arc<Mutex<Option<String>>>,
    /// A snapshot is on its way (asked for by `refresh`).
    refreshing: bool,
}

impl Backend {
    /// Starts the worker on `session`; it ends when the backend is dropped and its last call is
    /// done. The first snapshot is asked for at once.
    pub fn start(session: Arc<Session>, ctx: &egui::Context) -> Backend {
        let (jobs, job_queue) = mpsc::sync_channel::<Job>(QUEUE_MAX);
        let (answer_sender, answers) = mpsc::channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("console-backend".to_owned())
            .spawn(move || {
                while let Ok(job) = job_queue.recv() {
                    let apply = job(&session);
                    if answer_sender.send(apply).is_err() {
                        break;
                    }
                    ctx.request_repaint();
                }
            });
        if let Err(e) = spawned {
            // Without a worker every call answers that it could not run (below).
            eprintln!("keyconsole: cannot start the console's worker: {e}");
        }
        let mut backend = Backend {
            jobs,
            answers,
            pending: 0,
            selected: Arc::default(),
            refreshing: false,
        };
        let _ = backend.refresh();
        backend
    }

    /// Asks for a new snapshot when the keystore moved on since `model` (a change by the API
    /// server in this process, or by anyone the last tick read from disk). One atomic read.
    pub fn refresh_if_stale(&mut self, session: &Session, model: &Model) {
        if let Ok(admin) = session.admin()
            && model.loaded
            && model.generation != Some(admin.keystore_generation())
        {
            let _ = self.refresh();
        }
    }

    /// Whether calls are under way (the top bar shows it).
    pub fn busy(&self) -> bool {
        self.pending > 0
    }

    /// Runs `work` on the worker and `apply` with its answer on the UI thread.
    pub fn call<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Session) -> Result<T, KmsError> + Send + 'static,
        apply: impl FnOnce(
            &mut Console,
            &egui::Context,
            Result<T, KmsError>,
        ) -> Result<Option<String>, KmsError>
        + Send
        + 'static,
    ) -> Result<Option<String>, KmsError> {
        self.run(work, apply, false)
    }

    fn run<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Session) -> Result<T, KmsError> + Send + 'static,
        apply: impl FnOnce(
            &mut Console,
            &egui::Context,
            Result<T, KmsError>,
        ) -> Result<Option<String>, KmsError>
        + Send
        + 'static,
        refresh: bool,
    ) -> Result<Option<String>, KmsError> {
        let selected = self.selected.clone();
        let language = keyconsole_base::util::i18n::current();
        self.submit(Box::new(move |session| {
            // What the call words on the worker is in the console's language of the moment.
            keyconsole_base::util::i18n::set_current(language);
            let answer = work(session);
            let model = if refresh {
                snapshot(session, &selected, language).ok()
            } else {
                None
            };
            Box::new(move |console, ctx| {
                if let Some(model) = model {
                    console.model = model;
                }
                apply(console, ctx, answer)
            })
        }))
    }

    /// Asks for a new snapshot (unless one is on its way); an error reaching a server is told.
    pub fn refresh(&mut self) -> Result<Option<String>, KmsError> {
        if self.refreshing {
            return Ok(None);
        }
        let selected = self.selected.clone();
        let language = keyconsole_base::util::i18n::current();
        let asked = self.submit(Box::new(move |session| {
            let model = snapshot(session, &selected, language);
            Box::new(move |console: &mut Console, _: &egui::Context| {
                console.backend.refreshing = false;
                console.model = model?;
                Ok(None)
            })
        }));
        self.refreshing = asked.is_ok();
        asked
    }

    /// The secret whose versions and rotation the snapshots carry; a new one asks for one.
    pub fn select_secret(&mut self, name: Option<&str>) {
        let changed = {
            let mut selected = self.selected.lock().unwrap_or_else(PoisonError::into_inner);
            let changed = selected.as_deref() != name;
            if changed {
                *selected = name.map(str::to_owned);
            }
            changed
        };
        if changed {
            let _ = self.refresh();
        }
    }

    fn submit(&mut self, job: Job) -> Result<Option<String>, KmsError> {
        match self.jobs.try_send(job) {
            Ok(()) => {
                self.pending += 1;
                Ok(None)
            }
            Err(TrySendError::Full(_)) => Err(KmsError::new(
                ErrorCode::KeystoreBusy,
                tr!("ui.backend.too_many_calls_waiting"),
            )),
            Err(TrySendError::Disconnected(_)) => Err(KmsError::new(
                ErrorCode::InternalError,
                tr!("ui.logic.the_worker_stopped"),
            )),
        }
    }

    /// The next answer to apply, if one came back.
    pub fn answer(&mut self) -> Option<Apply> {
        match self.answers.try_recv() {
            Ok(apply) => {
                self.pending = self.pending.saturating_sub(1);
                Some(apply)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                // The worker is gone (it panicked): what was waiting will not come.
                if self.pending > 0 {
                    self.pending = 0;
                    Some(Box::new(|_, _| {
                        Err(KmsError::new(
                            ErrorCode::InternalError,
                            tr!("ui.logic.the_worker_stopped"),
                        ))
                    }))
                } else {
                    None
                }
            }
        }
    }
}

fn snapshot(
    session: &Session,
    selected: &Mutex<Option<String>>,
    language: Language,
) -> Result<Model, KmsError> {
    let selected = selected
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    session.snapshot(&Caller::local(Face::Console, language), selected.as_deref())
}

/// How a page's call ends: the notification's text, or the error to show.
pub(crate) type Outcome = Result<Option<String>, KmsError>;

/// A page's way to the worker. The page words its own requests and applies its own answers: each
/// answer comes back to that page's state, or to `None` when the console no longer shows it (the
/// page then only words the notification).
pub(crate) struct PageCalls<'a, P> {
    backend: &'a mut Backend,
    session: &'a Arc<Session>,
    ctx: &'a egui::Context,
    page: fn(&mut Console) -> Option<&mut P>,
}

impl<'a, P: 'static> PageCalls<'a, P> {
    pub(super) fn new(
        backend: &'a mut Backend,
        session: &'a Arc<Session>,
        ctx: &'a egui::Context,
        page: fn(&mut Console) -> Option<&mut P>,
    ) -> Self {
        PageCalls {
            backend,
            session,
            ctx,
            page,
        }
    }

    /// Runs `work` on the worker; `apply` gets the page and the answer on the UI thread.
    pub fn call<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Session) -> Result<T, KmsError> + Send + 'static,
        apply: impl FnOnce(Option<&mut P>, Result<T, KmsError>) -> Outcome + Send + 'static,
    ) -> Outcome {
        self.run(work, apply, false)
    }

    /// `call` for a change: the pages get a new snapshot with its answer.
    pub fn change<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Session) -> Result<T, KmsError> + Send + 'static,
        apply: impl FnOnce(Option<&mut P>, Result<T, KmsError>) -> Outcome + Send + 'static,
    ) -> Outcome {
        self.run(work, apply, true)
    }

    fn run<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Session) -> Result<T, KmsError> + Send + 'static,
        apply: impl FnOnce(Option<&mut P>, Result<T, KmsError>) -> Outcome + Send + 'static,
        refresh: bool,
    ) -> Outcome {
        let page = self.page;
        self.backend.run(
            work,
            move |console, _, answer| apply(page(console), answer),
            refresh,
        )
    }

    /// The session, for work on a thread of the page's own (a file job, a database rotation).
    pub fn session(&self) -> &Arc<Session> {
        self.session
    }

    pub fn ctx(&self) -> &egui::Context {
        self.ctx
    }
}

/// The person at the console, in the language the console speaks now.
pub(crate) fn console_caller() -> Caller {
    Caller::local(Face::Console, keyconsole_base::util::i18n::current())
}
