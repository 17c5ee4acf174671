//! A store as a long-running reader uses it: opened on first use, reopened when an update has
//! renamed a new manifest into place (checked at most once a second), and retried once when a
//! shard vanished because an update removed it between reading the manifest and the shard.

use super::{Lookup, MANIFEST_FILE, Store, StoreAccess, StoreError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// How often a reader looks for a new manifest.
const RECHECK: Duration = Duration::from_secs(1);

/// A store named by path, opened lazily and kept current. `Send + Sync`.
#[derive(Debug)]
pub struct StoreHandle {
    path: PathBuf,
    access: StoreAccess,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    store: Option<Arc<Store>>,
    stamp: Option<Stamp>,
    checked: Option<Instant>,
}

/// What identifies one manifest file: a new one is renamed into place, so its stamp differs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

/// Now, where there is a clock. In a browser (wasm32-unknown-unknown) `Instant::now` panics:
/// there, no clock, so every lookup looks for the store again, and fails as reading any file
/// does there (the rule is then reported unavailable, as with a store that cannot be read).
fn now() -> Option<Instant> {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    return None;
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    Some(Instant::now())
}

fn stamp(path: &Path) -> Result<Stamp, StoreError> {
    let m = std::fs::metadata(path).map_err(|e| StoreError::io(path, &e))?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Ok(Stamp { len: m.len(), modified: m.modified().ok(), inode })
}

impl Clone for StoreHandle {
    fn clone(&self) -> StoreHandle {
        StoreHandle::with_access(&self.path, self.access)
    }
}

impl StoreHandle {
    /// A handle on the store at `path`; nothing is read until the first lookup.
    pub fn new(path: impl AsRef<Path>) -> StoreHandle {
        StoreHandle::with_access(path, StoreAccess::Sparse)
    }

    /// A handle on the store at `path` for a process that will use it as `access` says.
    pub fn with_access(path: impl AsRef<Path>, access: StoreAccess) -> StoreHandle {
        StoreHandle {
            path: path.as_ref().to_path_buf(),
            access,
            state: Mutex::new(State::default()),
        }
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current generation of the store, opening or reopening it if needed.
    ///
    /// # Errors
    /// The store cannot be opened.
    pub fn current(&self) -> Result<Arc<Store>, StoreError> {
        self.get(false)
    }

    fn get(&self, force: bool) -> Result<Arc<Store>, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let due = force || state.checked.is_none_or(|t| t.elapsed() >= RECHECK);
        if let (Some(store), false) = (&state.store, due) {
            return Ok(Arc::clone(store));
        }
        state.checked = now();
        let manifest = self.path.join(MANIFEST_FILE);
        let now = match stamp(&manifest) {
            Ok(s) => s,
            Err(e) => {
                state.store = None;
                return Err(e);
            }
        };
        if let (Some(store), true) = (&state.store, state.stamp.as_ref() == Some(&now)) {
            return Ok(Arc::clone(store));
        }
        state.store = None;
        let store = Arc::new(Store::open_with(&self.path, self.access)?);
        state.store = Some(Arc::clone(&store));
        state.stamp = Some(now);
        Ok(store)
    }

    /// Looks a password up in the current generation.
    ///
    /// # Errors
    /// The store cannot be opened or a shard is damaged.
    pub fn lookup(&self, password: &str) -> Result<Lookup, StoreError> {
        let store = self.get(false)?;
        match store.lookup(password) {
            Err(e) if e.is_missing() => self.get(true)?.lookup(password),
            other => other,
        }
    }
}
