//! Artifact writing (compiler side).

use super::trie::{TrieBuf, searched_fuzzily};
use super::{BLOCK, BYTE_ORDER_MARK, FORMAT_VERSION, HEADER_LEN, MAGIC, align4};
use crate::ir::Program;
use sha2::{Digest, Sha256};

/// Serializes a program and its automata (each the native-endian bytes of a dense DFA) into an
/// artifact, with every term set's terms and trie in the form the validator walks in place.
pub fn encode(program: &Program, dfas: &[Vec<u8>]) -> Vec<u8> {
    let mut payload = Vec::new();
    // The terms themselves go with their tries, into the words checked block by block when
    // read: the hashed part stays small, so loading costs the same whatever the lists' size.
    let mut hollow = program.clone();
    for set in &mut hollow.term_sets {
        set.text = String::new();
        set.ends = Vec::new();
    }
    let body = postcard::to_allocvec(&hollow).unwrap_or_default();
    push_section(&mut payload, &body);
    payload.extend_from_slice(&u32::try_from(dfas.len()).unwrap_or(u32::MAX).to_le_bytes());
    for dfa in dfas {
        push_section(&mut payload, dfa);
    }
    // The tries: one buffer of words, each trie's layout relative to it.
    let mut words: Vec<u32> = Vec::new();
    let mut layouts = Vec::with_capacity(program.term_sets.len());
    for (i, set) in program.term_sets.iter().enumerate() {
        let built = match searched_fuzzily(program, i as u32) {
            true => TrieBuf::for_fuzzy(set),
            false => TrieBuf::new(set),
        };
        layouts.push(built.layout.shifted(words.len() as u32));
        words.extend_from_slice(built.words());
    }
    let blob: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    push_section(&mut payload, &postcard::to_allocvec(&layouts).unwrap_or_default());
    let table: Vec<u8> =
        blob.chunks(BLOCK).flat_map(|b| crc32fast::hash(b).to_le_bytes()).collect();
    push_section(&mut payload, &table);
    payload.resize(payload.len().div_ceil(8) * 8, 0);
    let hashed = payload.len();
    payload.extend_from_slice(&blob);
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&BYTE_ORDER_MARK.to_ne_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&payload[..hashed]));
    out.extend_from_slice(&(hashed as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// A `u32` length, the bytes, then zero padding to a multiple of 4.
fn push_section(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(bytes);
    out.resize(align4(out.len()), 0);
}

/// Recomputes an artifact's length, block checksums and SHA-256 after its bytes were changed:
/// what a crafted artifact would do, so that tests and fuzzing reach the structure checks.
/// Not for producing artifacts.
#[doc(hidden)]
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() < HEADER_LEN {
        return;
    }
    let payload_len = (bytes.len() - HEADER_LEN) as u64;
    bytes[16..24].copy_from_slice(&payload_len.to_le_bytes());
    let mut at = [0u8; 8];
    at.copy_from_slice(&bytes[56..64]);
    let payload = bytes.len() - HEADER_LEN;
    let hashed = usize::try_from(u64::from_le_bytes(at)).unwrap_or(usize::MAX).min(payload / 8 * 8);
    bytes[56..64].copy_from_slice(&(hashed as u64).to_le_bytes());
    let hashed_end = HEADER_LEN + hashed;
    let words = bytes.len() - hashed_end;
    let table_len = words.div_ceil(BLOCK) * 4;
    // The table is the last section before the words: its `u32` length, then the table, then
    // zero or four bytes of padding.
    let table_at = [0usize, 4].into_iter().find_map(|pad| {
        let start = hashed_end.checked_sub(pad + table_len)?;
        let len = bytes.get(start.checked_sub(4)?..start)?;
        (u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize == table_len)
            .then_some(start)
    });
    if let Some(start) = table_at {
        let crcs: Vec<u8> = bytes[hashed_end..]
            .chunks(BLOCK)
            .flat_map(|b| crc32fast::hash(b).to_le_bytes())
            .collect();
        bytes[start..start + table_len].copy_from_slice(&crcs);
    }
    let digest = Sha256::digest(&bytes[HEADER_LEN..hashed_end]);
    bytes[24..56].copy_from_slice(&digest);
}
