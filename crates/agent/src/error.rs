//! The agent's one error type: why the agent, the hook or one of their commands cannot go on,
//! sorted by what the administrator has to fix. Each message says what and where, and what to
//! set when there is something to set; never a password.

use crate::directory::DirectoryError;
use policyc_gate::policy_file::PolicyError;
use policyc_gate::queue::QueueError;

/// Why the agent cannot go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// `agent.yaml` cannot be read, or asks for something the agent refuses (the message names
    /// the key and what to set instead).
    #[error("{0}")]
    Config(String),
    /// The queue: its directories, key, records or delivery marks.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A change read from the directory cannot be queued.
    #[error("cannot queue `{account}`: {source}")]
    Enqueue {
        /// The account whose change it is.
        account: String,
        /// Why the queue refused it.
        source: QueueError,
    },
    /// The queue's lock cannot be taken (another agent holds it, or the file is unusable).
    #[error("{0}")]
    Locked(String),
    /// The deployed policy cannot be used.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// The directory did not answer.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    /// The account is not one the command can act on (the agent never delivered for it).
    #[error("{0}")]
    Account(String),
    /// The cloud (Microsoft Graph) refused or did not answer.
    #[error("{0}")]
    Cloud(String),
    /// A secret the agent reads (the Graph client secret, the sync key) is missing or unusable,
    /// or a password replicated with it does not decrypt.
    #[error("{0}")]
    Secret(String),
    /// A file the agent keeps beside the queue (state, reconciliation report, hook health,
    /// metrics) cannot be read or written, or is damaged.
    #[error("{0}")]
    File(String),
    /// The system refused a service the agent uses: syslog, the metrics listener, a program
    /// the doctor runs.
    #[error("{0}")]
    System(String),
}
