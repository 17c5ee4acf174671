//! One agent per queue: an OS file lock on `QUEUE/agent.lock`, held for the agent's life and
//! released by the kernel when the process dies (also on SIGKILL). The file names its holder,
//! so that a second agent can say who has the queue.

use crate::AgentError;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct QueueLock {
    _file: File,
}

impl QueueLock {
    /// Takes the queue's lock, or says who holds it.
    pub fn acquire(queue: &Path) -> Result<QueueLock, AgentError> {
        let path = queue.join("agent.lock");
        let mut file = policyc_gate::files::open_private(&path, 0o600)
            .map_err(|e| AgentError::Locked(format!("cannot open the queue lock: {e}")))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(AgentError::Locked(format!(
                    "another agent holds the queue `{}` ({}); only one agent may deliver from a queue",
                    queue.display(),
                    if holder.is_empty() { "holder unknown" } else { holder }
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(AgentError::Locked(format!("cannot lock `{}`: {e}", path.display())));
            }
        }
        let holder = format!(
            "pid {} since {}",
            std::process::id(),
            humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(holder.as_bytes()))
            .map_err(|e| AgentError::Locked(format!("cannot write `{}`: {e}", path.display())))?;
        Ok(QueueLock { _file: file })
    }
}
