//! libpolicyc: policyc's validator and gate for C, as `libpolicyc.so` and `libpolicyc.a` with
//! the header `policyc.h` (generated from these declarations by cbindgen) and a pkg-config file.
//!
//! The contract, for every function: no panic crosses the boundary (each body runs under
//! `catch_unwind`, and a panic is the fail mode's answer); every pointer the library returns is
//! registered, so a pointer it did not return, or one already freed, is refused instead of
//! used ([`handle`]); passwords are read in place, never copied, never logged; every handle
//! may be shared by threads.
#![allow(non_camel_case_types, reason = "the C names are the contract")]

mod error;
mod gate;
mod guard;
mod handle;
mod text;
mod user;
mod validator;

pub use error::{
    policyc_error, policyc_error_code, policyc_error_free, policyc_error_message, policyc_status,
};
pub use gate::{
    policyc_decision, policyc_decision_accepted, policyc_decision_free, policyc_decision_message,
    policyc_decision_outcome, policyc_decision_problem, policyc_decision_rule,
    policyc_decision_rule_count, policyc_gate, policyc_gate_check, policyc_gate_free,
    policyc_gate_open,
};
pub use user::{
    policyc_attribute, policyc_user, policyc_user_add, policyc_user_free, policyc_user_new,
};
pub use validator::{
    policyc_check, policyc_explain_json, policyc_severity, policyc_string_free, policyc_validator,
    policyc_validator_free, policyc_validator_open, policyc_validator_open_bytes,
    policyc_validator_open_signed, policyc_verdict, policyc_verdict_compliant,
    policyc_verdict_error, policyc_verdict_free, policyc_verdict_violation_count,
    policyc_verdict_violation_message, policyc_verdict_violation_rule,
    policyc_verdict_violation_severity, policyc_version,
};
