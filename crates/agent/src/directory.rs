//! The local directory, as the hook and the agent read it: the attributes a policy (or the user
//! mapping) needs, at the hook; the account's current NT hash and last-set time, at the agent,
//! to confirm that the directory committed a queued password before it is delivered.
//!
//! On a Samba DC this is LDAP (ldap3) over Samba's privileged ldapi socket
//! (`private/ldap_priv/ldapi`), where root gets the system session and may read `unicodePwd`.
//! [`DirectoryDouble`] is a JSON file standing in for a DC, for trials and tests, as the cloud
//! double stands in for Graph.

use super::replication::{ReplStamp, last_package, unicode_pwd_stamp};
use policyc_runtime::Context;
use policyc_runtime::ir::{Attribute, AttributeSet};
use policyc_runtime::store::nt_hash;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// Where the directory is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DirectoryConfig {
    /// A Samba AD DC on this machine.
    Samba {
        /// Samba's privileged ldapi socket.
        #[serde(default = "default_socket")]
        socket: PathBuf,
        /// Per-request timeout, in milliseconds.
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
    },
    /// A JSON file standing in for a DC (trials and tests): see [`DirectoryDouble`].
    File {
        /// The file.
        path: PathBuf,
    },
    /// Changes are queued only once the directory stored them: the Windows filter's
    /// `PasswordChangeNotify` runs after the store. The newest queued change of an account is
    /// the committed one; no directory is read (AD never returns `unicodePwd`).
    Notified,
}

/// Samba's privileged ldapi socket under Debian's default private directory.
pub const DEFAULT_SAMBA_SOCKET: &str = "/var/lib/samba/private/ldap_priv/ldapi";

fn default_socket() -> PathBuf {
    PathBuf::from(DEFAULT_SAMBA_SOCKET)
}

fn default_timeout_ms() -> u64 {
    2000
}

impl DirectoryConfig {
    /// Samba at `socket` with the default timeout.
    pub fn samba(socket: impl Into<PathBuf>) -> DirectoryConfig {
        DirectoryConfig::Samba { socket: socket.into(), timeout_ms: default_timeout_ms() }
    }

    /// Opens it. Connecting is lazy: nothing is read until it is asked.
    pub fn open(&self) -> Box<dyn Directory> {
        match self {
            DirectoryConfig::Samba { socket, timeout_ms } => Box::new(SambaDirectory {
                socket: socket.clone(),
                timeout: Duration::from_millis(*timeout_ms),
                conn: None,
            }),
            DirectoryConfig::File { path } => Box::new(DirectoryDouble::new(path)),
            DirectoryConfig::Notified => Box::new(Notified),
        }
    }
}

/// Why the directory could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("directory {source_name}: {message}")]
pub struct DirectoryError {
    /// Which directory (`ldapi:///var/lib/samba/...`, a file path).
    pub source_name: String,
    /// What went wrong.
    pub message: String,
}

/// The account's current password, as the directory holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordState {
    /// The NT hash (MD4 of the UTF-16LE password); `None` when the account has no password.
    pub nt_hash: Option<[u8; 16]>,
    /// When it was set (`pwdLastSet`), in milliseconds since the Unix epoch.
    pub last_set_ms: u64,
    /// `unicodePwd`'s replication stamp, where the directory says (Samba): the domain's order
    /// of the account's passwords, whichever DC set them.
    pub stamp: Option<ReplStamp>,
}

impl std::fmt::Debug for PasswordState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordState")
            .field("has_password", &self.nt_hash.is_some())
            .field("last_set_ms", &self.last_set_ms)
            .field("stamp", &self.stamp)
            .finish()
    }
}

/// The account's current password as replication left it on this DC, with the cleartext
/// Samba keeps encrypted to the sync key (`Primary:SambaGPG`), when it has it.
#[derive(Clone)]
pub struct ReplicatedPassword {
    /// The NT hash, `pwdLastSet` and replication stamp.
    pub state: PasswordState,
    /// The encrypted cleartext; `None` when the DC that set the password had no
    /// `password hash gpg key ids` (or Windows set it).
    pub encrypted: Option<Vec<u8>>,
}

impl std::fmt::Debug for ReplicatedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedPassword")
            .field("state", &self.state)
            .field("encrypted", &self.encrypted.is_some())
            .finish()
    }
}

/// Read access to the directory.
pub trait Directory: Send {
    /// The account's `wanted` attributes (`memberOf` with nested groups); `None` when the
    /// account is not in the directory (yet: a new account's password is checked before the
    /// account is committed).
    fn lookup(
        &mut self,
        account: &str,
        wanted: AttributeSet,
    ) -> Result<Option<Context>, DirectoryError>;

    /// The account's current password; `None` when there is no such account.
    fn password(&mut self, account: &str) -> Result<Option<PasswordState>, DirectoryError>;

    /// Whether every queued change is already committed (the newest of an account is its
    /// current password), so that [`Directory::password`] is not asked.
    fn commits_are_notified(&self) -> bool {
        false
    }

    /// Every user account that has a password, with its NT hash (`policyc store audit`,
    /// reconciliation).
    fn password_hashes(&mut self) -> Result<Vec<AccountHash>, DirectoryError> {
        Err(unsupported("cannot list password hashes (only Samba's ldapi socket can)"))
    }

    /// The account's replicated password with its encrypted cleartext (`delivery: replicated`).
    fn replicated(&mut self, _account: &str) -> Result<Option<ReplicatedPassword>, DirectoryError> {
        Err(unsupported("cannot read replicated passwords (only Samba's ldapi socket can)"))
    }

    /// The user accounts (`sAMAccountName`) whose `attribute` holds one of `values`, compared
    /// as the directory compares them (case-insensitively); `None` when this directory cannot
    /// search (`notified`). How two accounts that map to one cloud user are found.
    fn accounts_with(
        &mut self,
        _attribute: Attribute,
        _values: &[String],
    ) -> Result<Option<Vec<String>>, DirectoryError> {
        Ok(None)
    }

    /// The user accounts whose entry changed after the update sequence number `usn` on this
    /// DC (replicated changes included), and the highest number seen.
    fn changed_since(&mut self, _usn: u64) -> Result<(Vec<String>, u64), DirectoryError> {
        Err(unsupported("cannot list changed accounts (only Samba's ldapi socket can)"))
    }

    /// The domain's password settings, where the directory can say (`policyc doctor`: Samba
    /// runs the `check password script` only while complexity is on).
    fn password_settings(&mut self) -> Result<Option<PasswordSettings>, DirectoryError> {
        Ok(None)
    }
}

/// The domain's password settings that decide whether (and after what) Samba runs the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordSettings {
    /// `pwdProperties` has `DOMAIN_PASSWORD_COMPLEX`: Samba runs the hook.
    pub complexity: bool,
    /// `minPwdLength`: Samba refuses shorter passwords itself, before the hook.
    pub min_length: u32,
}

fn unsupported(message: &str) -> DirectoryError {
    DirectoryError { source_name: "this directory".into(), message: message.into() }
}

/// A user account's NT hash, as `policyc store audit` reads it. The hash is wiped when dropped
/// and never printed.
pub struct AccountHash {
    /// `sAMAccountName`.
    pub account: String,
    /// Its NT hash.
    pub nt_hash: Zeroizing<[u8; 16]>,
    /// The account is disabled (`userAccountControl` bit 2).
    pub disabled: bool,
    /// When it was set (`pwdLastSet`), in milliseconds since the Unix epoch.
    pub last_set_ms: u64,
    /// `unicodePwd`'s replication stamp, where the directory says.
    pub stamp: Option<ReplStamp>,
}

impl std::fmt::Debug for AccountHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountHash")
            .field("account", &self.account)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// [`DirectoryConfig::Notified`]: nothing to read.
#[derive(Debug)]
struct Notified;

impl Directory for Notified {
    fn lookup(&mut self, _: &str, _: AttributeSet) -> Result<Option<Context>, DirectoryError> {
        Ok(None)
    }

    fn password(&mut self, _: &str) -> Result<Option<PasswordState>, DirectoryError> {
        Ok(None)
    }

    fn commits_are_notified(&self) -> bool {
        true
    }
}

/// `pwdLastSet` (100 ns ticks since 1601) as milliseconds since the Unix epoch.
fn filetime_to_unix_ms(ticks: i64) -> u64 {
    const EPOCH_DIFF_MS: i64 = 11_644_473_600_000;
    u64::try_from(ticks / 10_000 - EPOCH_DIFF_MS).unwrap_or(0)
}

/// A Samba AD DC over its privileged ldapi socket.
struct SambaDirectory {
    socket: PathBuf,
    timeout: Duration,
    conn: Option<(ldap3::LdapConn, String)>,
}

impl SambaDirectory {
    /// LDAP over Samba's privileged ldapi socket.
    #[cfg(unix)]
    fn socket_settings(&self) -> Result<ldap3::LdapConnSettings, DirectoryError> {
        let stream = std::os::unix::net::UnixStream::connect(&self.socket).map_err(|e| {
            self.error(format!("cannot connect ({e}); is Samba running, and is this its privileged socket (private/ldap_priv/ldapi)?"))
        })?;
        Ok(ldap3::LdapConnSettings::new()
            .set_std_stream(ldap3::StdStream::Unix(stream))
            .set_conn_timeout(self.timeout))
    }

    #[cfg(not(unix))]
    fn socket_settings(&self) -> Result<ldap3::LdapConnSettings, DirectoryError> {
        Err(self.error("Samba's ldapi socket is a Unix socket; on a Windows DC set `directory: {kind: notified}` (the filter queues only stored passwords)"))
    }

    fn error(&self, message: impl std::fmt::Display) -> DirectoryError {
        DirectoryError {
            source_name: format!("ldapi://{}", self.socket.display()),
            message: message.to_string(),
        }
    }

    /// The connection and the domain's naming context, opened on first use.
    fn conn(&mut self) -> Result<&mut (ldap3::LdapConn, String), DirectoryError> {
        if self.conn.is_none() {
            let settings = self.socket_settings()?;
            let mut conn =
                ldap3::LdapConn::with_settings(settings, "ldapi:///").map_err(|e| self.error(e))?;
            let (entries, _) = conn
                .with_timeout(self.timeout)
                .search("", ldap3::Scope::Base, "(objectClass=*)", vec!["defaultNamingContext"])
                .and_then(ldap3::SearchResult::success)
                .map_err(|e| self.error(format!("cannot read the root DSE: {e}")))?;
            let base = entries
                .into_iter()
                .map(ldap3::SearchEntry::construct)
                .find_map(|e| e.attrs.get("defaultNamingContext")?.first().cloned())
                .ok_or_else(|| self.error("the root DSE has no defaultNamingContext"))?;
            self.conn = Some((conn, base));
        }
        self.conn.as_mut().ok_or_else(|| DirectoryError {
            source_name: String::new(),
            message: "no connection".into(),
        })
    }

    /// One search under the naming context, or of one entry (`Some(dn)`); a failed search
    /// drops the connection.
    fn search(
        &mut self,
        entry: Option<&str>,
        filter: &str,
        attrs: Vec<&str>,
    ) -> Result<Vec<ldap3::SearchEntry>, DirectoryError> {
        let timeout = self.timeout;
        let (conn, naming_context) = self.conn()?;
        let (base, scope) = match entry {
            Some(dn) => (dn.to_string(), ldap3::Scope::Base),
            None => (naming_context.clone(), ldap3::Scope::Subtree),
        };
        let result = conn
            .with_timeout(timeout)
            .search(&base, scope, filter, attrs)
            .and_then(ldap3::SearchResult::success);
        match result {
            Ok((entries, _)) => Ok(entries
                .into_iter()
                .filter(|e| !e.is_ref() && !e.is_intermediate())
                .map(ldap3::SearchEntry::construct)
                .collect()),
            Err(e) => {
                self.conn = None;
                Err(self.error(format!("search failed: {e}")))
            }
        }
    }

    /// The DNs of the account's security groups, nested ones and the primary group included:
    /// its `tokenGroups` (the SIDs Windows puts in its logon token), resolved to DNs. (Samba
    /// answers the in-chain matching rule `member:1.2.840.113556.1.4.1941:` in about 8 ms,
    /// these two searches in under 1 ms.)
    fn groups(&mut self, dn: &str) -> Result<Vec<String>, DirectoryError> {
        let token = self.search(Some(dn), "(objectClass=*)", vec!["tokenGroups"])?;
        let sids: Vec<&Vec<u8>> = token
            .iter()
            .flat_map(|e| e.bin_attrs.iter())
            .filter(|(k, _)| k.eq_ignore_ascii_case("tokenGroups"))
            .flat_map(|(_, v)| v.iter())
            .collect();
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let filter: String = sids
            .iter()
            .map(|sid| {
                let escaped: String = sid.iter().map(|b| format!("\\{b:02x}")).collect();
                format!("(objectSid={escaped})")
            })
            .collect();
        Ok(self
            .search(None, &format!("(|{filter})"), vec!["1.1"])?
            .into_iter()
            .map(|e| e.dn)
            .collect())
    }

    fn account(
        &mut self,
        account: &str,
        attrs: Vec<&str>,
    ) -> Result<Option<ldap3::SearchEntry>, DirectoryError> {
        let filter =
            format!("(&(objectClass=user)(sAMAccountName={}))", ldap3::ldap_escape(account));
        let mut entries = self.search(None, &filter, attrs)?;
        if entries.len() > 1 {
            return Err(self.error(format!("{} accounts are named `{account}`", entries.len())));
        }
        Ok(entries.pop())
    }
}

impl SambaDirectory {
    /// The password state an entry read with `unicodePwd`, `pwdLastSet` and
    /// `replPropertyMetaData` holds.
    fn state(&self, entry: &ldap3::SearchEntry) -> Result<PasswordState, DirectoryError> {
        let nt_hash = binary(entry, "unicodePwd")
            .map(<[u8; 16]>::try_from)
            .transpose()
            .map_err(|_| self.error("unicodePwd is not a 16-byte NT hash"))?;
        if nt_hash.is_none() && !values(entry, "unicodePwd").is_empty() {
            return Err(self.error("unicodePwd came back as text, not an NT hash"));
        }
        Ok(PasswordState {
            nt_hash,
            last_set_ms: last_set_ms(entry),
            stamp: binary(entry, "replPropertyMetaData").and_then(unicode_pwd_stamp),
        })
    }
}

/// An entry's `pwdLastSet`, in milliseconds since the Unix epoch (0: none, or "must change").
fn last_set_ms(entry: &ldap3::SearchEntry) -> u64 {
    values(entry, "pwdLastSet")
        .first()
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(0, filetime_to_unix_ms)
}

/// A binary attribute's first value.
fn binary<'e>(entry: &'e ldap3::SearchEntry, name: &str) -> Option<&'e [u8]> {
    entry
        .bin_attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(Vec::as_slice)
}

/// An attribute's values, whatever case the server spelled its name in.
fn values<'e>(entry: &'e ldap3::SearchEntry, name: &str) -> &'e [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map_or(&[], |(_, v)| v.as_slice())
}

impl Directory for SambaDirectory {
    fn lookup(
        &mut self,
        account: &str,
        wanted: AttributeSet,
    ) -> Result<Option<Context>, DirectoryError> {
        let names: Vec<&str> =
            wanted.iter().filter(|a| *a != Attribute::MemberOf).map(Attribute::ldap_name).collect();
        let Some(entry) =
            self.account(account, if names.is_empty() { vec!["1.1"] } else { names })?
        else {
            return Ok(None);
        };
        let mut ctx = Context::new();
        for attribute in wanted.iter().filter(|a| *a != Attribute::MemberOf) {
            for v in values(&entry, attribute.ldap_name()) {
                ctx.add(attribute, v.clone());
            }
        }
        if wanted.contains(Attribute::MemberOf) {
            for group in self.groups(&entry.dn)? {
                ctx.add(Attribute::MemberOf, group);
            }
            // The account's own DN too: a PSO applies to the users it is linked to as well as
            // to the members of its groups, and `samba-tool pso show` lists both alike, so an
            // imported `when user.memberOf has "CN=bob,…"` must hold for bob.
            ctx.add(Attribute::MemberOf, entry.dn.clone());
        }
        Ok(Some(ctx))
    }

    fn accounts_with(
        &mut self,
        attribute: Attribute,
        wanted: &[String],
    ) -> Result<Option<Vec<String>>, DirectoryError> {
        let name = attribute.ldap_name();
        let any: String =
            wanted.iter().map(|v| format!("({name}={})", ldap3::ldap_escape(v.as_str()))).collect();
        let filter = format!("(&(objectClass=user)(|{any}))");
        let entries = self.search(None, &filter, vec!["sAMAccountName"])?;
        Ok(Some(
            entries.iter().filter_map(|e| values(e, "sAMAccountName").first().cloned()).collect(),
        ))
    }

    fn password_settings(&mut self) -> Result<Option<PasswordSettings>, DirectoryError> {
        let base = self.conn()?.1.clone();
        let entries =
            self.search(Some(&base), "(objectClass=*)", vec!["pwdProperties", "minPwdLength"])?;
        let number = |name: &str| {
            entries
                .first()
                .and_then(|e| values(e, name).first())
                .and_then(|v| v.parse::<u32>().ok())
        };
        let (Some(properties), Some(min_length)) =
            (number("pwdProperties"), number("minPwdLength"))
        else {
            return Err(self.error(format!("`{base}` has no pwdProperties or minPwdLength")));
        };
        // DOMAIN_PASSWORD_COMPLEX (MS-ADTS 2.2.2: the lowest bit of pwdProperties).
        Ok(Some(PasswordSettings { complexity: properties & 1 == 1, min_length }))
    }

    fn password(&mut self, account: &str) -> Result<Option<PasswordState>, DirectoryError> {
        let attrs = vec!["unicodePwd", "pwdLastSet", "replPropertyMetaData"];
        let Some(entry) = self.account(account, attrs)? else { return Ok(None) };
        self.state(&entry).map(Some)
    }

    fn replicated(&mut self, account: &str) -> Result<Option<ReplicatedPassword>, DirectoryError> {
        let attrs =
            vec!["unicodePwd", "pwdLastSet", "replPropertyMetaData", "supplementalCredentials"];
        let Some(entry) = self.account(account, attrs)? else { return Ok(None) };
        let state = self.state(&entry)?;
        let encrypted = binary(&entry, "supplementalCredentials")
            .and_then(|blob| last_package(blob, "Primary:SambaGPG"));
        Ok(Some(ReplicatedPassword { state, encrypted }))
    }

    fn changed_since(&mut self, usn: u64) -> Result<(Vec<String>, u64), DirectoryError> {
        let filter =
            format!("(&(objectCategory=person)(objectClass=user)(uSNChanged>={}))", usn + 1);
        let entries = self.search(None, &filter, vec!["sAMAccountName", "uSNChanged"])?;
        let mut highest = usn;
        let mut accounts = Vec::with_capacity(entries.len());
        for e in entries {
            let changed = values(&e, "uSNChanged").first().and_then(|v| v.parse::<u64>().ok());
            highest = highest.max(changed.unwrap_or(0));
            if let Some(name) = values(&e, "sAMAccountName").first() {
                accounts.push(name.clone());
            }
        }
        Ok((accounts, highest))
    }

    fn password_hashes(&mut self) -> Result<Vec<AccountHash>, DirectoryError> {
        use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
        let timeout = self.timeout;
        let filter = "(&(objectCategory=person)(objectClass=user))";
        let attrs = vec![
            "sAMAccountName",
            "unicodePwd",
            "userAccountControl",
            "pwdLastSet",
            "replPropertyMetaData",
        ];
        let (conn, base) = self.conn()?;
        let base = base.clone();
        let adapters: Vec<Box<dyn Adapter<_, _>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(500))];
        let mut found = Vec::new();
        let mut failed = None;
        match conn.with_timeout(timeout).streaming_search_with(
            adapters,
            &base,
            ldap3::Scope::Subtree,
            filter,
            attrs,
        ) {
            Ok(mut stream) => {
                loop {
                    match stream.next() {
                        Ok(Some(raw)) => {
                            let entry = ldap3::SearchEntry::construct(raw);
                            if let Some(a) = account_hash(entry) {
                                found.push(a);
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                }
                if failed.is_none()
                    && let Err(e) = stream.result().success()
                {
                    failed = Some(e.to_string());
                }
            }
            Err(e) => failed = Some(e.to_string()),
        }
        if let Some(e) = failed {
            self.conn = None;
            return Err(self.error(format!("search failed: {e}")));
        }
        Ok(found)
    }
}

/// An entry's name, NT hash and whether it is disabled; `None` without a hash.
fn account_hash(entry: ldap3::SearchEntry) -> Option<AccountHash> {
    let hash = binary(&entry, "unicodePwd").and_then(|v| <[u8; 16]>::try_from(v).ok())?;
    let last_set_ms = last_set_ms(&entry);
    let stamp = binary(&entry, "replPropertyMetaData").and_then(unicode_pwd_stamp);
    let uac = values(&entry, "userAccountControl")
        .first()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    let account = values(&entry, "sAMAccountName").first().cloned().unwrap_or(entry.dn);
    Some(AccountHash {
        account,
        nt_hash: Zeroizing::new(hash),
        disabled: uac & 2 != 0,
        last_set_ms,
        stamp,
    })
}

/// A directory double: a JSON file of accounts, each with its NT hash, last-set time and
/// attributes. It stands in for a DC where none runs (trials, the agent's tests); a test
/// "commits" a password with [`DirectoryDouble::commit`].
#[derive(Debug)]
pub struct DirectoryDouble {
    path: PathBuf,
}

/// The double's file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DoubleFile {
    /// By account name, lower-cased.
    #[serde(default)]
    accounts: BTreeMap<String, DoubleAccount>,
    /// The domain's password settings, when a test sets them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    domain: Option<PasswordSettings>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DoubleAccount {
    /// Hex NT hash.
    #[serde(default)]
    nt_hash: Option<String>,
    #[serde(default)]
    pwd_last_set_ms: u64,
    /// `unicodePwd`'s replication stamp, when a test plays replication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stamp: Option<ReplStamp>,
    /// Attribute values by LDAP name.
    #[serde(default)]
    attributes: BTreeMap<String, Vec<String>>,
}

impl DirectoryDouble {
    /// The double at `path` (read on every question).
    pub fn new(path: impl Into<PathBuf>) -> DirectoryDouble {
        DirectoryDouble { path: path.into() }
    }

    fn error(&self, message: impl std::fmt::Display) -> DirectoryError {
        DirectoryError {
            source_name: self.path.display().to_string(),
            message: message.to_string(),
        }
    }

    fn read(&self) -> Result<DoubleFile, DirectoryError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| self.error(e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DoubleFile::default()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Sets the domain's password settings.
    pub fn set_password_settings(&self, settings: PasswordSettings) -> Result<(), DirectoryError> {
        let mut file = self.read()?;
        file.domain = Some(settings);
        self.write(&file)
    }

    fn write(&self, file: &DoubleFile) -> Result<(), DirectoryError> {
        let bytes = serde_json::to_vec_pretty(file).map_err(|e| self.error(e))?;
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| self.error(e))
    }

    fn update(
        &self,
        account: &str,
        f: impl FnOnce(&mut DoubleAccount),
    ) -> Result<(), DirectoryError> {
        let mut file = self.read()?;
        f(file.accounts.entry(account.to_lowercase()).or_default());
        self.write(&file)
    }

    /// Records that the directory committed `password` for `account` now (`pwdLastSet`
    /// always moves forward, as a directory's 100 ns timestamps do).
    pub fn commit(&self, account: &str, password: &str) -> Result<(), DirectoryError> {
        let hash: String = nt_hash(password).iter().map(|b| format!("{b:02x}")).collect();
        self.update(account, |a| {
            a.nt_hash = Some(hash);
            a.pwd_last_set_ms = policyc_gate::queue::now_ms().max(a.pwd_last_set_ms + 1);
        })
    }

    /// Puts `account` back to `password` set at `set_ms`: a directory restored from a backup,
    /// or an older change replicated in.
    pub fn restore(
        &self,
        account: &str,
        password: &str,
        set_ms: u64,
    ) -> Result<(), DirectoryError> {
        let hash: String = nt_hash(password).iter().map(|b| format!("{b:02x}")).collect();
        self.update(account, |a| {
            a.nt_hash = Some(hash);
            a.pwd_last_set_ms = set_ms;
        })
    }

    /// Puts `account` to `password` as replication from another DC leaves it: set at `set_ms`
    /// there, with that DC's replication stamp (which, not `pwdLastSet`, says which of two
    /// resets AD keeps).
    pub fn replicate_in(
        &self,
        account: &str,
        password: &str,
        set_ms: u64,
        stamp: ReplStamp,
    ) -> Result<(), DirectoryError> {
        let hash: String = nt_hash(password).iter().map(|b| format!("{b:02x}")).collect();
        self.update(account, |a| {
            a.nt_hash = Some(hash);
            a.pwd_last_set_ms = set_ms;
            a.stamp = Some(stamp);
        })
    }

    /// Sets one of the account's attributes.
    pub fn set_attribute(
        &self,
        account: &str,
        attribute: Attribute,
        values: &[&str],
    ) -> Result<(), DirectoryError> {
        self.update(account, |a| {
            a.attributes.insert(
                attribute.ldap_name().to_string(),
                values.iter().map(|v| (*v).to_string()).collect(),
            );
        })
    }

    fn account(&self, account: &str) -> Result<Option<DoubleAccount>, DirectoryError> {
        Ok(self.read()?.accounts.remove(&account.to_lowercase()))
    }
}

impl Directory for DirectoryDouble {
    fn lookup(
        &mut self,
        account: &str,
        wanted: AttributeSet,
    ) -> Result<Option<Context>, DirectoryError> {
        let Some(a) = self.account(account)? else { return Ok(None) };
        let mut ctx = Context::new();
        for attribute in wanted.iter() {
            for v in a.attributes.get(attribute.ldap_name()).into_iter().flatten() {
                ctx.add(attribute, v.clone());
            }
        }
        Ok(Some(ctx))
    }

    fn password_settings(&mut self) -> Result<Option<PasswordSettings>, DirectoryError> {
        Ok(self.read()?.domain)
    }

    fn password(&mut self, account: &str) -> Result<Option<PasswordState>, DirectoryError> {
        let Some(a) = self.account(account)? else { return Ok(None) };
        let nt_hash = a
            .nt_hash
            .map(|h| parse_hex16(&h).ok_or_else(|| self.error(format!("`{account}`: bad nt_hash"))))
            .transpose()?;
        Ok(Some(PasswordState { nt_hash, last_set_ms: a.pwd_last_set_ms, stamp: a.stamp }))
    }

    fn accounts_with(
        &mut self,
        attribute: Attribute,
        values: &[String],
    ) -> Result<Option<Vec<String>>, DirectoryError> {
        let accounts = self.read()?.accounts;
        Ok(Some(
            accounts
                .into_iter()
                .filter(|(_, a)| {
                    a.attributes
                        .get(attribute.ldap_name())
                        .into_iter()
                        .flatten()
                        .any(|v| values.iter().any(|w| w.eq_ignore_ascii_case(v)))
                })
                .map(|(name, _)| name)
                .collect(),
        ))
    }

    fn password_hashes(&mut self) -> Result<Vec<AccountHash>, DirectoryError> {
        let mut out = Vec::new();
        for (name, a) in self.read()?.accounts {
            let Some(hex) = a.nt_hash else { continue };
            let hash =
                parse_hex16(&hex).ok_or_else(|| self.error(format!("`{name}`: bad nt_hash")))?;
            let account =
                a.attributes.get("sAMAccountName").and_then(|v| v.first()).cloned().unwrap_or(name);
            out.push(AccountHash {
                account,
                nt_hash: Zeroizing::new(hash),
                disabled: false,
                last_set_ms: a.pwd_last_set_ms,
                stamp: a.stamp,
            });
        }
        Ok(out)
    }
}

fn parse_hex16(text: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    if text.len() != 32 {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nt_hash_matches_known_values() {
        // MS-NLMP test vector: NTOWFv1("Password").
        let hex: String = nt_hash("Password").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "a4f49c406510bdcab6824ee7c30fd852");
        assert_eq!(filetime_to_unix_ms(116_444_736_000_000_000), 0);
    }
}
