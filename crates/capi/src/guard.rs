//! No panic crosses the boundary: every exported body runs here.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `body`; a panic (a defect of ours) gives `failed` instead of unwinding into C.
pub(crate) fn guard<R>(failed: impl FnOnce() -> R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| failed())
}
