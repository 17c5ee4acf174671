//! The DLL's exports, as LSA calls them (`__stdcall` on x86, the one convention on x64).

#![allow(unsafe_code, reason = "LSA's ABI")]
#![allow(non_snake_case, reason = "ntsecapi.h's names")]

use crate::filter::{Filter, Reason};
use crate::notify::{Notifier, not_queued};
use crate::settings::Settings;
use crate::text::{UnicodeString, decode};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

type Boolean = u8;
type NtStatus = i32;
const TRUE: Boolean = 1;
const FALSE: Boolean = 0;
const STATUS_SUCCESS: NtStatus = 0;

static FILTER: OnceLock<Filter> = OnceLock::new();
static NOTIFIER: OnceLock<Option<Notifier>> = OnceLock::new();

fn filter() -> &'static Filter {
    FILTER.get_or_init(|| {
        // A panic anywhere in this DLL leaves a line in the event log (never its payload,
        // which could be anything), then unwinds to the export, which answers.
        std::panic::set_hook(Box::new(|info| {
            let at =
                info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            crate::win::report(
                crate::Level::Error,
                &format!("policyc filter: internal error at {at} (caught)"),
            );
        }));
        Filter::new(Settings::from_registry, crate::win::report)
    })
}

fn notifier() -> Option<&'static Notifier> {
    NOTIFIER
        .get_or_init(|| {
            Notifier::start(filter())
                .map_err(|e| {
                    filter().report(
                        crate::Level::Error,
                        &format!("policyc filter: cannot start the queue worker: {e}"),
                    );
                })
                .ok()
        })
        .as_ref()
}

/// LSA loads the filter: settings read, policy loaded (its errors logged), worker started.
#[unsafe(no_mangle)]
pub extern "system" fn InitializeChangeNotify() -> Boolean {
    let _ = catch_unwind(|| {
        let f = filter();
        let _ = f.policy_label();
        let _ = notifier();
    });
    // FALSE would only unload the filter, silently: the filter stays and says what is wrong.
    TRUE
}

/// Judges a new password: TRUE accepts it.
///
/// # Safety
/// Each pointer is NULL or a `UNICODE_STRING` valid for the call, as LSA passes them.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PasswordFilter(
    AccountName: *const UnicodeString,
    FullName: *const UnicodeString,
    Password: *const UnicodeString,
    SetOperation: Boolean,
) -> Boolean {
    // SAFETY: LSA's contract, passed on.
    let (accept, _) = unsafe { judge(AccountName, FullName, Password, SetOperation) };
    if accept { TRUE } else { FALSE }
}

/// `PasswordFilter`, with why: `reason` gets the [`Reason`] code, `message` (if not NULL) the
/// text for a person, NUL-terminated, cut to `message_units` UTF-16 units.
///
/// # Safety
/// As [`PasswordFilter`]; `reason` is NULL or writable; `message` is NULL or holds
/// `message_units` units.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PolicycPasswordFilterEx(
    AccountName: *const UnicodeString,
    FullName: *const UnicodeString,
    Password: *const UnicodeString,
    SetOperation: Boolean,
    reason: *mut u32,
    message: *mut u16,
    message_units: u32,
) -> Boolean {
    // SAFETY: LSA's contract, passed on.
    let (accept, why) = unsafe { judge(AccountName, FullName, Password, SetOperation) };
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let (code, text) = why.unwrap_or((Reason::InternalError, "internal error (caught)".into()));
        // SAFETY: the caller's buffers, as documented.
        unsafe {
            if !reason.is_null() {
                *reason = code as u32;
            }
            if !message.is_null() && message_units > 0 {
                let units: Vec<u16> =
                    text.encode_utf16().take(message_units as usize - 1).collect();
                std::ptr::copy_nonoverlapping(units.as_ptr(), message, units.len());
                *message.add(units.len()) = 0;
            }
        }
    }));
    if accept { TRUE } else { FALSE }
}

/// The judgement behind both filter exports; a panic gives the fail mode's verdict.
unsafe fn judge(
    account: *const UnicodeString,
    full_name: *const UnicodeString,
    password: *const UnicodeString,
    _set: Boolean,
) -> (bool, Option<(Reason, String)>) {
    let run = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: LSA's contract.
        let (account, full_name) = (unsafe { decode(account) }, unsafe { decode(full_name) });
        // A name that is not text would be checked as no name at all: refused instead.
        let bad_name = account.as_ref().err().or(full_name.as_ref().err()).cloned();
        let (account, full_name) = (account.ok().flatten(), full_name.ok().flatten());
        #[cfg(feature = "panic-test")]
        if account.as_deref().is_some_and(|a| a.as_str() == "policyc-panic-test") {
            panic!("injected by the panic-test build");
        }
        let password = match bad_name {
            Some(e) => Err(e),
            None => unsafe { decode(password) },
        };
        let d = filter().judge(
            account.as_deref().map(|s| s.as_str()),
            full_name.as_deref().map(|s| s.as_str()),
            password,
        );
        (d.accept, Some((d.reason, d.message)))
    }));
    match run {
        Ok(r) => r,
        Err(_) => {
            let name = catch_unwind(|| unsafe { decode(account) }.ok().flatten()).ok().flatten();
            let accept = catch_unwind(AssertUnwindSafe(|| {
                filter().internal_error(name.as_deref().map(|s| s.as_str()))
            }))
            .unwrap_or(false);
            (accept, None)
        }
    }
}

/// Windows stored a new password: queue it for the cloud. Always STATUS_SUCCESS (LSA ignores
/// the answer; a change that cannot be queued is logged).
///
/// # Safety
/// As [`PasswordFilter`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PasswordChangeNotify(
    UserName: *const UnicodeString,
    _RelativeId: u32,
    NewPassword: *const UnicodeString,
) -> NtStatus {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: LSA's contract.
        let (account, password) = (unsafe { decode(UserName) }, unsafe { decode(NewPassword) });
        let account = match (account, &password) {
            (Ok(Some(a)), _) => a,
            // LSA's documented call with nothing in it.
            (Ok(None), Ok(None)) => return,
            (name, _) => {
                let why = name.err().map_or_else(|| "no account name".into(), |e| e.to_string());
                not_queued(filter(), "", &format!("its account name is unusable: {why}"));
                return;
            }
        };
        if account.ends_with('$') {
            return;
        }
        let f = filter();
        match (password, notifier()) {
            (Ok(Some(p)), Some(n)) => n.notify(f, account.to_string(), p),
            (Ok(Some(_)), None) => not_queued(f, &account, "the queue worker did not start"),
            (Ok(None), _) => not_queued(f, &account, "LSA passed no password"),
            (Err(e), _) => not_queued(f, &account, &e.to_string()),
        }
    }));
    STATUS_SUCCESS
}
