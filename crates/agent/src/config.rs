//! `agent.yaml`: where the policy, queue and logs are, and how to reach the cloud.

use super::directory::DirectoryConfig;
use super::graph::GraphConfig;
use super::mapping::UserMapping;
use crate::AgentError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The agent's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The compiled policy (reloaded when the file changes).
    pub policy: PathBuf,
    /// The queue directory the hook writes to.
    pub queue: PathBuf,
    /// The queue key (default: `QUEUE/key`).
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// A public key (`policyc keygen`): when set, the hook and the agent use only an artifact
    /// signed by it (`policyc compile --sign`).
    #[serde(default)]
    pub policy_public_key: Option<PathBuf>,
    /// With `policy_public_key`: refuse a signed policy whose serial is below this (a fresh
    /// install has no serial to compare with yet).
    #[serde(default)]
    pub policy_min_serial: u64,
    /// The audit log.
    pub audit_log: PathBuf,
    /// The local directory: where the agent confirms that a change was committed, and where the
    /// hook looks up the attributes the policy needs.
    #[serde(default)]
    pub directory: Option<DirectoryConfig>,
    /// Where the agent takes the passwords it delivers from: `queue` (the hook on this DC
    /// queues what it accepts) or `replicated` (the directory's current password, replicated
    /// from any DC, read from Samba's GPG-encrypted cleartext; the hooks only validate).
    #[serde(default)]
    pub delivery: DeliveryModel,
    /// `enforce` (the default) or `report`: never refuse, record what would be refused.
    #[serde(default)]
    pub mode: Mode,
    /// Syslog's socket, where the hook writes each refusal (the rules and their messages) and
    /// each failure of its own (default `/dev/log`; `""`: none).
    #[serde(default = "default_syslog")]
    pub syslog: PathBuf,
    /// The OpenPGP secret key whose public half every DC names in `password hash gpg key ids`
    /// (`delivery: replicated`).
    #[serde(default)]
    pub gpg_secret_key: Option<PathBuf>,
    /// How often the agent reconciles the directory with the cloud, in seconds (0: never).
    #[serde(default = "default_reconcile")]
    pub reconcile_interval_secs: u64,
    /// How long a queued change may wait for the directory to commit it, in seconds; after
    /// that it is dropped as `refused_by_directory`.
    #[serde(default = "default_grace")]
    pub commit_grace_secs: u64,
    /// Who is synced, as which cloud user.
    #[serde(default)]
    pub users: UserMapping,
    /// The cloud.
    pub graph: GraphConfig,
    /// Where to post rejections and drift alarms (JSON, no password), if anywhere.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Retry timing.
    #[serde(default)]
    pub retry: RetryConfig,
    /// How often to look at the queue, in milliseconds.
    #[serde(default = "default_poll")]
    pub poll_interval_ms: u64,
    /// `agent status` reports unhealthy when the oldest pending change is older than this
    /// (default 180: a cloud or directory outage shows within minutes).
    #[serde(default = "default_unhealthy")]
    pub unhealthy_after_secs: u64,
    /// Cron mode: the agent runs as `agent run --once` every this many seconds (a timer), so
    /// `agent status` counts it alive until a run is overdue (this plus 60 s after the last),
    /// not only while a process beats.
    #[serde(default)]
    pub once_every_secs: Option<u64>,
    /// Where the agent publishes its metrics (Prometheus): a textfile for node_exporter, an
    /// address to serve `/metrics` on, or both.
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// Whether the policy is enforced, or only reported on (a rollout's first weeks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The hook refuses what the policy refuses; the agent holds what it refuses.
    #[default]
    Enforce,
    /// Nothing is refused or held: the hook accepts and records `would_refuse` with the rules
    /// (and fails open), the agent delivers as before and records `would_refuse` too, as
    /// Microsoft runs Entra Password Protection in audit mode before enforcing it.
    Report,
}

/// Where delivered passwords come from (see `docs/agent.md`, "Several domain controllers").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryModel {
    /// Changes the hook on this DC accepted and queued, once the directory committed them:
    /// one DC, or a Windows DC.
    #[default]
    Queue,
    /// The directory's current, replicated password, whichever DC set it: one agent per
    /// domain, hooks on every DC validate only.
    Replicated,
}

/// Capped exponential backoff with jitter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// First wait, in milliseconds.
    #[serde(default = "default_initial")]
    pub initial_ms: u64,
    /// Longest wait, in milliseconds.
    #[serde(default = "default_max")]
    pub max_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig { initial_ms: default_initial(), max_ms: default_max() }
    }
}

fn default_initial() -> u64 {
    500
}
fn default_max() -> u64 {
    60_000
}
fn default_grace() -> u64 {
    60
}
fn default_syslog() -> PathBuf {
    PathBuf::from("/dev/log")
}
fn default_poll() -> u64 {
    1000
}
fn default_unhealthy() -> u64 {
    180
}
fn default_reconcile() -> u64 {
    900
}

impl AgentConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<AgentConfig, AgentError> {
        let bytes = policyc_gate::files::read_bounded(path, 1 << 20, false)
            .map_err(|e| AgentError::Config(format!("cannot read the configuration: {e}")))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| AgentError::Config(format!("`{}` is not UTF-8", path.display())))?;
        serde_yaml::from_str(text)
            .map_err(|e| AgentError::Config(format!("`{}`: {e}", path.display())))
    }

    /// What the agent (and the hook with this configuration) requires of the policy: its
    /// signature by `policy_public_key`, a serial not below `policy_min_serial` nor below the
    /// highest used here (kept in the queue's directory).
    pub fn trust(
        &self,
        record: bool,
    ) -> Result<policyc_gate::policy_file::Trust, policyc_gate::policy_file::PolicyError> {
        Ok(policyc_gate::policy_file::Trust {
            key: self.public_key()?,
            min_serial: self.policy_min_serial,
            serials: Some(self.queue.clone()),
            record,
        })
    }

    /// The policy public key, if one is configured.
    pub fn public_key(
        &self,
    ) -> Result<Option<policyc_gate::signing::PublicKey>, policyc_gate::signing::SigningError> {
        self.policy_public_key
            .as_deref()
            .map(policyc_gate::signing::PublicKey::from_file)
            .transpose()
    }

    /// The queue key's path.
    pub fn key_path(&self) -> PathBuf {
        self.key.clone().unwrap_or_else(|| self.queue.join("key"))
    }

    /// Refuses a directory kind that does not fit who fills the queue: `notified` trusts every
    /// queued change as stored, which only the Windows filter's queue guarantees; with the
    /// Samba hook's queue it would turn off the commit check (a password in history delivered).
    pub fn check_filler(&self) -> Result<(), AgentError> {
        use policyc_gate::queue::Filler;
        let filler = policyc_gate::queue::filler(&self.queue)?;
        let notified = matches!(self.directory, Some(DirectoryConfig::Notified));
        let q = self.queue.display();
        match (filler, notified) {
            (Some(Filler::WindowsFilter), false) => Err(AgentError::Config(format!(
                "queue `{q}` is filled by the Windows LSA filter, which queues only passwords Windows stored: set `directory: {{kind: notified}}`"
            ))),
            (Some(Filler::SambaHook), true) => Err(AgentError::Config(format!(
                "`directory: {{kind: notified}}` is for a queue the Windows LSA filter fills; queue `{q}` is filled by the Samba hook, whose changes the agent must check against the directory: set `directory: {{kind: samba, socket: …/private/ldap_priv/ldapi}}`"
            ))),
            (None, true) if !cfg!(windows) => Err(AgentError::Config(format!(
                "`directory: {{kind: notified}}` is for a queue the Windows LSA filter fills, on a Windows DC; here (queue `{q}`) set `directory: {{kind: samba, socket: …/private/ldap_priv/ldapi}}`"
            ))),
            _ => Ok(()),
        }
    }
}

/// Where the running agent publishes its metrics (`metrics:` in `agent.yaml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// A file rewritten (whole, by rename) after every pass: point node_exporter's
    /// `--collector.textfile.directory` at its directory; the name must end in `.prom`.
    #[serde(default)]
    pub textfile: Option<PathBuf>,
    /// An address to serve `GET /metrics` on (`127.0.0.1:9817`).
    #[serde(default)]
    pub listen: Option<String>,
}

impl MetricsConfig {
    /// Refuses what would publish nothing, or publish where no collector reads.
    pub fn check(&self) -> Result<(), AgentError> {
        if let Some(t) = &self.textfile
            && t.extension().is_none_or(|e| e != "prom")
        {
            return Err(AgentError::Config(format!(
                "`metrics.textfile` `{}` must end in `.prom`: node_exporter's textfile collector reads only those",
                t.display()
            )));
        }
        Ok(())
    }
}
