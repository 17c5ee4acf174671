//! What the filter tells the event log, and how loud.

/// How loud an event log entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Information (a policy loaded).
    Information,
    /// A refusal.
    Warning,
    /// Something an administrator must fix.
    Error,
}
