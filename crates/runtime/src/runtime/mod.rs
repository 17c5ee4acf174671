//! The embedded validator: artifact bytes → [`Validator`] → `check(password, &context)` →
//! [`Verdict`]. Nothing here depends on the compiler.

mod context;
pub mod dn;
pub mod entra;
mod explain;
mod fast;
pub mod fold;
mod measure;
mod plan;
pub mod posix;
mod scan;
#[cfg(feature = "strength")]
pub mod strength;
pub mod terms;
mod validator;
mod verdict;
pub mod words;

pub use context::Context;
pub use explain::{Detail, Explanation, Given, Measurement, Outcome, Part, RuleReport};
pub use scan::MAX_CLASSES;
pub use validator::Validator;
pub use verdict::{
    DAMAGED_POLICY_MESSAGE, INPUT_SIZE_RULE, MAX_INPUT_BYTES, UNAVAILABLE_MESSAGE, Unavailable,
    Verdict, Violation,
};
