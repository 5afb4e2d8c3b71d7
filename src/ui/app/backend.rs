//! The console's one worker for everything that may wait: changes (which wait for the keystore's
//! file lock and fsync), the online tools, and the engine's maintenance tick. The UI thread hands
//! it a call and what to do with the answer; the worker runs the call, the answer comes back over
//! a channel, and the next frame applies it to the page that asked (messages are written there,
//! in the console's language). One worker, so calls finish in the order they were made.

use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};

use super::Console;
use crate::kms::{ErrorCode, KmsError, SharedKms};
use crate::tr;

/// What the UI thread does with an answer: changes the page that asked and says how it went
/// (a notification's text, or the error).
pub(super) type Apply =
    Box<dyn FnOnce(&mut Console, &egui::Context) -> Result<Option<String>, KmsError> + Send>;
type Job = Box<dyn FnOnce(&SharedKms) -> Apply + Send>;

/// Calls waiting beyond this many are refused at once (the worker is stuck on a long lock wait).
const QUEUE_MAX: usize = 64;

pub(super) struct Backend {
    jobs: SyncSender<Job>,
    answers: Receiver<Apply>,
    /// Calls handed over and not yet applied.
    pending: usize,
}

impl Backend {
    /// Starts the worker on `kms`; it ends when the backend is dropped and its last call is done.
    pub fn start(kms: SharedKms, ctx: &egui::Context) -> Backend {
        let (jobs, job_queue) = mpsc::sync_channel::<Job>(QUEUE_MAX);
        let (answer_sender, answers) = mpsc::channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("console-backend".to_owned())
            .spawn(move || {
                while let Ok(job) = job_queue.recv() {
                    let apply = job(&kms);
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
        Backend {
            jobs,
            answers,
            pending: 0,
        }
    }

    /// Whether calls are under way (the top bar shows it).
    pub fn busy(&self) -> bool {
        self.pending > 0
    }

    /// Runs `work` on the worker and `apply` with its answer on the UI thread.
    pub fn call<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&SharedKms) -> Result<T, KmsError> + Send + 'static,
        apply: impl FnOnce(
            &mut Console,
            &egui::Context,
            Result<T, KmsError>,
        ) -> Result<Option<String>, KmsError>
        + Send
        + 'static,
    ) -> Result<Option<String>, KmsError> {
        let job: Job = Box::new(move |kms| {
            let answer = work(kms);
            Box::new(move |console, ctx| apply(console, ctx, answer))
        });
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
