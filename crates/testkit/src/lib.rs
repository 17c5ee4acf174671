//! What policyc's tests check against, never published: the reference evaluator (the oracle
//! the validator is property-tested against).

pub mod reference;
