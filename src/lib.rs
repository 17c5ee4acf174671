//! The `policyc` command line: one module per command ([`cli`]), the YAML case tables of
//! `policyc test` ([`cases`]) and the password corpora of `policyc bench` ([`corpus`]).
//! Embedders use the `policyc` crate; this one exists to build the binary.

#![deny(unsafe_code)]

pub mod cases;
pub mod cli;
pub mod corpus;
