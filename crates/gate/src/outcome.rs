//! Every outcome the hook and the agent record: the `outcome` of an audit line, the key of a
//! status count, the `event` of a webhook post. One enum, so that a new outcome cannot be
//! recorded without a name, a class and a place in the docs.

use serde::{Serialize, Serializer};

/// What happened to a password change (or to the agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    // The hook.
    /// The policy accepts it; queued for the cloud.
    Accepted,
    /// No policy could be loaded and the hook fails open: accepted unchecked, queued.
    AcceptedUnchecked,
    /// The directory lookup failed and the hook fails open: checked without the directory's
    /// attributes, accepted, queued.
    AcceptedLookupFailed,
    /// The policy accepts it, but the account maps to no cloud user: nothing to deliver.
    NotSynced,
    /// The policy refuses it.
    Rejected,
    /// No policy could be loaded (or it needs what the hook cannot supply): refused.
    RejectedNoPolicy,
    /// The directory lookup the policy needs failed: refused (fail closed).
    RejectedLookupFailed,
    /// A breached-password store the policy needs could not be read: refused (fail closed).
    RejectedStoreUnavailable,
    /// A breached-password store could not be read and the hook fails open: every other rule
    /// passed; accepted, queued.
    AcceptedStoreUnavailable,
    /// The hook could not judge or queue it: refused.
    Error,
    /// A computer or trust account (the name ends in `$`): its random password is neither
    /// checked nor synced (the Windows filter).
    MachineAccount,
    /// The directory stored the password and told the filter (Windows `PasswordChangeNotify`),
    /// or, with `delivery: replicated`, the agent read it from the directory: queued for the
    /// cloud.
    Queued,
    // The agent, per change.
    /// The cloud took it.
    Delivered,
    /// A newer change of the same account replaced it before delivery.
    Superseded,
    /// The directory did not commit it within the grace window (history, minimum age...).
    RefusedByDirectory,
    /// The directory has since replaced it with a password this queue never saw.
    SupersededInDirectory,
    /// The directory's password is not newer than the one already delivered for the account
    /// (a record copied back, a directory restored from a backup): an older password never
    /// overwrites a newer one.
    Stale,
    /// Entra Connect syncs this user: Graph cannot set its password; password hash sync does.
    SyncedByEntraConnect,
    /// The cloud has no such user.
    UserNotFound,
    /// The cloud refused a password the policy accepted: the policies drifted apart.
    PolicyDrift,
    /// The cloud refused it for another per-user reason.
    Failed,
    /// A transient error (429, 5xx, network): retried with backoff.
    Retry,
    /// A queue record that cannot be read: moved to `failed/`.
    Damaged,
    /// An operator moved a failed change back to `pending/`.
    Retried,
    /// An operator deleted a failed change.
    Purged,
    // The agent's configuration: the change stays queued until it is fixed.
    /// The token endpoint refused the app (invalid_client, unauthorized_client, AADSTS...).
    TokenRefused,
    /// Graph refused the app the permission or directory role (403 Authorization_RequestDenied).
    PermissionDenied,
    /// The token URL or Graph base URL is wrong (404, unknown segment, unknown version).
    WrongEndpoint,
    /// The directory could not be read (the agent waits; the change stays queued).
    DirectoryUnavailable,
    /// A breached-password store the policy needs could not be read when the agent re-checked
    /// the change (the agent waits; the change stays queued).
    StoreUnavailable,
    // The agent itself.
    /// A new policy file verified and replaced the running one.
    PolicyLoaded,
    /// A new policy file did not verify; the running one stays.
    PolicyReloadFailed,
    /// The agent started and holds the queue.
    AgentStarted,
    /// The agent stopped on a signal, after its current delivery.
    AgentStopped,
    // Appended (several domain controllers, reconciliation).
    /// The directory committed it, but the current (tightened) policy refuses it: held in
    /// `failed/`, not sent; the directory and the cloud differ until the user resets it.
    HeldByPolicy,
    /// Reconciliation: the cloud's password changed after the agent's last delivery (KB
    /// 2652040 cause 3).
    ChangedInCloud,
    /// Reconciliation: the directory holds a password the cloud never got.
    NotDelivered,
    /// Reconciliation: a gap found earlier is closed.
    GapClosed,
    /// An operator accepted the cloud's password after a change in the cloud.
    Acknowledged,
    /// Reconciliation could not read the directory or the cloud (tried again next interval).
    ReconcileFailed,
    /// Two synced accounts map to one cloud user (`cloud_id: mail`, a UPN suffix rewrite):
    /// neither's password is sent, or each would overwrite the other's; held in `failed/` (the
    /// hook: not queued) until the mapping is fixed.
    CloudIdCollision,
    /// Report-only mode (`mode: report`): the policy refuses it, but nothing is refused or held;
    /// the hook accepted and queued it, the agent delivered it.
    WouldRefuse,
    /// A finished change (delivered, dropped, moved to `failed/`) whose record cannot leave
    /// `pending/` (permissions, a read-only or immutable directory): recorded once, never sent
    /// again, status unhealthy until the record can be removed.
    QueueUnwritable,
}

/// How an outcome weighs on the agent's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Nothing wrong.
    Normal,
    /// Retried; unhealthy only once a change waits too long.
    Transient,
    /// The change was not (and will not be) delivered, on purpose or for a per-user reason:
    /// reported, and, for the permanent cloud errors, kept in `failed/` for a human.
    Undelivered,
    /// A configuration error: unhealthy at once, the change stays queued.
    Configuration,
}

impl Outcome {
    /// The name in the audit log, status counts and webhook posts.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::AcceptedUnchecked => "accepted_unchecked",
            Outcome::AcceptedLookupFailed => "accepted_lookup_failed",
            Outcome::NotSynced => "not_synced",
            Outcome::Rejected => "rejected",
            Outcome::RejectedNoPolicy => "rejected_no_policy",
            Outcome::RejectedLookupFailed => "rejected_lookup_failed",
            Outcome::RejectedStoreUnavailable => "rejected_store_unavailable",
            Outcome::AcceptedStoreUnavailable => "accepted_store_unavailable",
            Outcome::Error => "error",
            Outcome::MachineAccount => "machine_account",
            Outcome::Queued => "queued",
            Outcome::Delivered => "delivered",
            Outcome::Superseded => "superseded",
            Outcome::RefusedByDirectory => "refused_by_directory",
            Outcome::SupersededInDirectory => "superseded_in_directory",
            Outcome::Stale => "stale",
            Outcome::SyncedByEntraConnect => "synced_by_entra_connect",
            Outcome::UserNotFound => "user_not_found",
            Outcome::PolicyDrift => "policy_drift",
            Outcome::Failed => "failed",
            Outcome::Retry => "retry",
            Outcome::Damaged => "damaged",
            Outcome::Retried => "retried",
            Outcome::Purged => "purged",
            Outcome::TokenRefused => "token_refused",
            Outcome::PermissionDenied => "permission_denied",
            Outcome::WrongEndpoint => "wrong_endpoint",
            Outcome::DirectoryUnavailable => "directory_unavailable",
            Outcome::StoreUnavailable => "store_unavailable",
            Outcome::PolicyLoaded => "policy_loaded",
            Outcome::PolicyReloadFailed => "policy_reload_failed",
            Outcome::AgentStarted => "agent_started",
            Outcome::AgentStopped => "agent_stopped",
            Outcome::HeldByPolicy => "held_by_policy",
            Outcome::ChangedInCloud => "changed_in_cloud",
            Outcome::NotDelivered => "not_delivered",
            Outcome::GapClosed => "gap_closed",
            Outcome::Acknowledged => "acknowledged",
            Outcome::ReconcileFailed => "reconcile_failed",
            Outcome::CloudIdCollision => "cloud_id_collision",
            Outcome::WouldRefuse => "would_refuse",
            Outcome::QueueUnwritable => "queue_unwritable",
        }
    }

    /// How it weighs on health.
    pub fn class(self) -> Class {
        match self {
            Outcome::Retry
            | Outcome::DirectoryUnavailable
            | Outcome::StoreUnavailable
            | Outcome::ReconcileFailed => Class::Transient,
            Outcome::TokenRefused
            | Outcome::PermissionDenied
            | Outcome::WrongEndpoint
            | Outcome::QueueUnwritable => Class::Configuration,
            Outcome::RefusedByDirectory
            | Outcome::SupersededInDirectory
            | Outcome::Stale
            | Outcome::SyncedByEntraConnect
            | Outcome::UserNotFound
            | Outcome::PolicyDrift
            | Outcome::Failed
            | Outcome::Damaged
            | Outcome::Rejected
            | Outcome::RejectedNoPolicy
            | Outcome::RejectedLookupFailed
            | Outcome::RejectedStoreUnavailable
            | Outcome::HeldByPolicy
            | Outcome::ChangedInCloud
            | Outcome::NotDelivered
            | Outcome::CloudIdCollision
            | Outcome::Error => Class::Undelivered,
            _ => Class::Normal,
        }
    }

    /// An error an operator must act on: a configuration error, or a change now in `failed/`.
    pub fn is_error(self) -> bool {
        self.class() == Class::Configuration
            || matches!(
                self,
                Outcome::UserNotFound
                    | Outcome::PolicyDrift
                    | Outcome::Failed
                    | Outcome::Damaged
                    | Outcome::HeldByPolicy
                    | Outcome::ChangedInCloud
                    | Outcome::NotDelivered
                    | Outcome::CloudIdCollision
            )
    }

    /// Whether the webhook hears of it as it happens.
    pub fn notifies(self) -> bool {
        matches!(self.class(), Class::Undelivered | Class::Configuration)
            || matches!(self, Outcome::PolicyReloadFailed | Outcome::PolicyLoaded)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
