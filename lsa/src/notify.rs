//! `PasswordChangeNotify`: Windows has stored the password; the change is sealed and durably
//! queued for the agent by a worker thread, so that LSA's thread waits at most
//! `NotifyWaitMs` (the queuing goes on after that, and its failure is logged). A change that
//! cannot be queued is said loudly: the audit log and the event log name the account.

use crate::event::Level;
use crate::filter::{Filter, event};
use policyc_gate::outcome::Outcome;
use policyc_gate::queue::{Filler, Queue};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;
use zeroize::Zeroizing;

/// One stored password to queue.
struct Job {
    account: String,
    password: Zeroizing<String>,
    done: SyncSender<Result<String, String>>,
}

/// Changes waiting for the worker at most (LSA never waits on a full channel).
const BACKLOG: usize = 1024;

/// The worker's end.
#[derive(Debug)]
pub struct Notifier {
    jobs: SyncSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("account", &self.account).finish_non_exhaustive()
    }
}

impl Notifier {
    /// Starts the worker thread.
    pub fn start(filter: &'static Filter) -> std::io::Result<Notifier> {
        let (jobs, rx) = sync_channel(BACKLOG);
        std::thread::Builder::new().name("policyc-queue".into()).spawn(move || work(filter, rx))?;
        Ok(Notifier { jobs })
    }

    /// Hands the change to the worker and waits for it to be queued, at most the configured
    /// bound (the worker records how it ends).
    pub fn notify(&self, filter: &Filter, account: String, password: Zeroizing<String>) {
        let wait = Duration::from_millis(u64::from(filter.settings().notify_wait_ms));
        let (done, result) = sync_channel(1);
        let job = Job { account: account.clone(), password, done };
        if let Err(e) = self.jobs.try_send(job) {
            let why = match e {
                std::sync::mpsc::TrySendError::Full(_) => {
                    "the queue worker is behind (1024 changes waiting)"
                }
                std::sync::mpsc::TrySendError::Disconnected(_) => "the queue worker has stopped",
            };
            not_queued(filter, &account, why);
            return;
        }
        let _ = result.recv_timeout(wait);
    }
}

/// Queues changes as they come, and syncs the audit log at least once a second.
fn work(filter: &'static Filter, jobs: Receiver<Job>) {
    loop {
        let job = match jobs.recv_timeout(Duration::from_secs(1)) {
            Ok(job) => job,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                filter.sync_audit();
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| queue(filter, &job)))
            .unwrap_or_else(|_| Err("internal error (caught)".into()));
        if let Err(why) = &result {
            not_queued(filter, &job.account, why);
        }
        filter.sync_audit();
        let _ = job.done.try_send(result);
    }
}

/// Seals and stores one change; records it.
fn queue(filter: &Filter, job: &Job) -> Result<String, String> {
    let settings = filter.settings();
    let Some(dir) = &settings.queue else {
        return Err("QueuePath is empty: queuing is turned off".into());
    };
    let user = settings.upn_suffix.as_ref().map(|s| format!("{}@{s}", job.account));
    let policy = filter.policy_label().unwrap_or_else(|| "unchecked".into());
    let key = settings.key.clone().unwrap_or_else(|| dir.join("key"));
    let change = Queue::open_sealed(dir, &key)
        .and_then(|q| q.claim(Filler::WindowsFilter).map(|()| q))
        .and_then(|q| q.enqueue(&job.account, user.as_deref(), None, &job.password, &policy))
        .map_err(|e| format!("cannot queue it for the cloud: {e}"))?;
    let mut line = event(Outcome::Queued, Some(&job.account), &[], Some(policy), None);
    line.user = user.as_deref();
    line.change = Some(&change.id);
    if let Err(e) = filter.log(&settings.audit_log, &line) {
        filter.report(
            Level::Error,
            &format!(
                "policyc filter: queued the change of `{}` ({}), but cannot write the audit log: {e}",
                job.account, change.id
            ),
        );
    }
    Ok(change.id)
}

/// Says that a stored password will not reach the cloud, in the event log and the audit log.
pub fn not_queued(filter: &Filter, account: &str, why: &str) {
    let text = format!(
        "NOT QUEUED: Windows stored the new password of `{account}`, but it is not queued for the cloud ({why}); the cloud keeps the old password until it is reset again"
    );
    filter.report(Level::Error, &format!("policyc filter: {text}"));
    let settings = filter.settings();
    let _ = filter
        .log(&settings.audit_log, &event(Outcome::Error, Some(account), &[], None, Some(text)));
    filter.sync_audit();
}
