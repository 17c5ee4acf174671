//! Every pointer the library hands out, registered with its kind until it is freed: a call
//! with a pointer the library did not return (or returned as another kind), or one already
//! freed, is refused, never followed. Freeing twice is refused by design, not undefined.
//!
//! A call that reads a handle holds the registry's read lock while it does, so a handle
//! cannot be freed under it; creating and freeing take the write lock (briefly).
#![allow(unsafe_code, reason = "the boundary with C: raw pointers, checked against the registry")]

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock, RwLockReadGuard};

/// What a registered pointer points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Validator,
    Verdict,
    User,
    Error,
    Gate,
    Decision,
    String,
}

/// A type handed to C behind a pointer.
pub(crate) trait Handle: Sized {
    const KIND: Kind;
}

static LIVE: LazyLock<RwLock<HashMap<usize, Kind>>> = LazyLock::new(RwLock::default);

/// Hands `value` to C: boxed, registered.
pub(crate) fn give<T: Handle>(value: T) -> *mut T {
    let ptr = Box::into_raw(Box::new(value));
    LIVE.write().unwrap_or_else(PoisonError::into_inner).insert(ptr as usize, T::KIND);
    ptr
}

/// Takes back and drops what [`give`] handed out; `false` if `ptr` is not a live `T` (NULL,
/// freed already, never given, another kind).
pub(crate) fn free<T: Handle>(ptr: *mut T) -> bool {
    let mut live = LIVE.write().unwrap_or_else(PoisonError::into_inner);
    if ptr.is_null() || live.get(&(ptr as usize)) != Some(&T::KIND) {
        return false;
    }
    live.remove(&(ptr as usize));
    drop(live);
    // SAFETY: `ptr` came from `Box::into_raw` in `give` as a `T` (its kind says so) and was
    // still registered, so it was not freed; it is unregistered now, so nothing frees it again,
    // and readers hold the read lock, which the write lock above waited for.
    drop(unsafe { Box::from_raw(ptr) });
    true
}

/// A view of the registry while handles are read: nothing is freed while it lives.
pub(crate) struct Live(RwLockReadGuard<'static, HashMap<usize, Kind>>);

impl Live {
    /// Takes the read lock. One per call: a second on the same thread could wait behind a
    /// writer that waits for the first.
    pub(crate) fn read() -> Live {
        Live(LIVE.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The `T` at `ptr`, if it is a live `T`.
    pub(crate) fn get<T: Handle>(&self, ptr: *const T) -> Option<&T> {
        if ptr.is_null() || self.0.get(&(ptr as usize)) != Some(&T::KIND) {
            return None;
        }
        // SAFETY: registered as a live `T` from `Box::into_raw`; it cannot be freed while the
        // read lock (held by `self`, which the reference borrows) is held.
        Some(unsafe { &*ptr })
    }
}

/// Hands a string to C (freed with `policyc_string_free`).
pub(crate) fn give_string(text: std::ffi::CString) -> *mut std::ffi::c_char {
    let ptr = text.into_raw();
    LIVE.write().unwrap_or_else(PoisonError::into_inner).insert(ptr as usize, Kind::String);
    ptr
}

/// Takes back a string [`give_string`] handed out; `false` if `ptr` is not one.
pub(crate) fn free_string(ptr: *mut std::ffi::c_char) -> bool {
    let mut live = LIVE.write().unwrap_or_else(PoisonError::into_inner);
    if ptr.is_null() || live.get(&(ptr as usize)) != Some(&Kind::String) {
        return false;
    }
    live.remove(&(ptr as usize));
    drop(live);
    // SAFETY: registered as a string from `CString::into_raw`, now unregistered.
    drop(unsafe { std::ffi::CString::from_raw(ptr) });
    true
}
