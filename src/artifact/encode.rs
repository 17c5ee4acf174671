//! Artifact writing (compiler side).

use super::{BYTE_ORDER_MARK, FORMAT_VERSION, HEADER_LEN, MAGIC, align4};
use crate::ir::Program;
use sha2::{Digest, Sha256};

/// Serializes a program and its automata (each the native-endian bytes of a dense DFA) into an
/// artifact.
pub fn encode(program: &Program, dfas: &[Vec<u8>]) -> Vec<u8> {
    let mut payload = Vec::new();
    let body = postcard::to_allocvec(program).unwrap_or_default();
    push_section(&mut payload, &body);
    payload.extend_from_slice(&u32::try_from(dfas.len()).unwrap_or(u32::MAX).to_le_bytes());
    for dfa in dfas {
        push_section(&mut payload, dfa);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&BYTE_ORDER_MARK.to_ne_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&payload);
    out
}

/// A `u32` length, the bytes, then zero padding to a multiple of 4.
fn push_section(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(bytes);
    out.resize(align4(out.len()), 0);
}
