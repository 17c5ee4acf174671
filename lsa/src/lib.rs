//! policyc's Windows LSA password filter: the embedded validator in a DLL that LSASS loads
//! (`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\Notification Packages`). It exports the three
//! functions of `ntsecapi.h` and a reason export for tests and administrators:
//!
//! - `InitializeChangeNotify`: reads the settings, loads the policy, starts the queue worker.
//! - `PasswordFilter`: judges a new password with the loaded policy (reloaded when its file
//!   changes), the account and full name; audited; refusals and errors in the event log.
//! - `PasswordChangeNotify`: Windows stored the password: it is queued for the agent.
//! - `PolicycPasswordFilterEx`: `PasswordFilter` with the reason code and text.
//!
//! Nothing may crash or hang LSASS: every export catches panics (the crate unwinds, never
//! aborts) and answers with the fail mode's verdict; no export waits longer than
//! `NotifyWaitMs` (at most 5 s); strings of any length are handled; the copies of passwords
//! this DLL makes are wiped.

pub mod event;
#[cfg(windows)]
mod exports;
pub mod filter;
pub mod notify;
pub mod settings;
pub mod text;
#[cfg(windows)]
mod win;

pub use event::Level;
pub use filter::{Decision, Filter, Reason};
