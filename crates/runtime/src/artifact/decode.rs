//! Artifact reading (runtime side): checks the header, the length and the checksum before it
//! trusts a single payload byte, then deserializes and validates every automaton. The trie
//! words are checked by their blocks' checksums when read (`artifact::region`).

use super::legacy::{LegacyProgram, NORMALIZATION_STEPS};
use super::trie::TrieLayout;
use super::{
    BLOCK, BYTE_ORDER_MARK, FORMAT_VERSION, HEADER_LEN, LoadError, MAGIC, OLDEST_READABLE_VERSION,
    align4,
};
use crate::ir::Program;
use regex_automata::dfa::dense::DFA;
use sha2::{Digest, Sha256};

/// A decoded artifact.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub program: Program,
    pub dfas: Vec<DFA<Vec<u32>>>,
    /// Per term set, where its trie lies in the trie words (checked by the validator).
    pub tries: Vec<TrieLayout>,
    /// Where the trie words are in the artifact's bytes.
    pub trie_words: std::ops::Range<usize>,
    /// The CRC-32 of each 4 KiB block of the trie words (checked when a block is first read).
    pub crcs: Vec<u32>,
    pub digest: [u8; 32],
}

/// Decodes and verifies an artifact.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, LoadError> {
    // A file that does not even start like an artifact is "not an artifact", not "truncated".
    let n = bytes.len().min(MAGIC.len());
    if bytes.get(..n) != MAGIC.get(..n) {
        return Err(LoadError::BadMagic);
    }
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or(LoadError::TooShort { len: bytes.len(), header: HEADER_LEN })?;
    let version = u16::from_le_bytes([header[8], header[9]]);
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(LoadError::UnsupportedVersion {
            found: version,
            oldest: OLDEST_READABLE_VERSION,
            supported: FORMAT_VERSION,
        });
    }
    if u16::from_ne_bytes([header[10], header[11]]) != BYTE_ORDER_MARK {
        return Err(LoadError::WrongByteOrder);
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&header[16..24]);
    let expected = u64::from_le_bytes(len);
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != expected {
        return Err(LoadError::LengthMismatch { expected, found: payload.len() });
    }
    let mut at = [0u8; 8];
    at.copy_from_slice(&header[56..64]);
    let hashed = usize::try_from(u64::from_le_bytes(at))
        .ok()
        .filter(|&h| h <= payload.len() && h % 8 == 0)
        .ok_or(LoadError::ChecksumMismatch)?;
    let (checked, words) = payload.split_at(hashed);
    let digest: [u8; 32] = Sha256::digest(checked).into();
    if header[24..56] != digest {
        return Err(LoadError::ChecksumMismatch);
    }
    let mut reader = Reader { bytes: checked, pos: 0 };
    let body = reader.section()?;
    let program: Result<Program, _> = if version < NORMALIZATION_STEPS {
        postcard::from_bytes::<LegacyProgram>(body).map(Program::from)
    } else {
        postcard::from_bytes(body)
    };
    let program =
        program.map_err(|e| LoadError::Malformed(format!("rule program does not decode ({e})")))?;
    let count = reader.u32()?;
    let mut dfas = Vec::new();
    for i in 0..count {
        let raw = reader.section()?;
        dfas.push(load_dfa(raw).map_err(|e| LoadError::Malformed(format!("automaton {i}: {e}")))?);
    }
    let tries: Vec<TrieLayout> = postcard::from_bytes(reader.section()?)
        .map_err(|e| LoadError::Malformed(format!("trie layouts do not decode ({e})")))?;
    let table = reader.section()?;
    if reader.pos.div_ceil(8) * 8 != checked.len() {
        return Err(LoadError::Malformed("trailing bytes after the last section".into()));
    }
    // The trie words' blocks are checked against their checksums when first read (the
    // validator walks them in place).
    if table.len() != words.len().div_ceil(BLOCK) * 4 || words.len() % 4 != 0 {
        return Err(LoadError::Malformed("the trie checksums do not cover the trie words".into()));
    }
    let crcs =
        table.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let trie_words = HEADER_LEN + hashed..bytes.len();
    Ok(Decoded { program, dfas, tries, trie_words, crcs, digest })
}

/// Copies a DFA into 4-byte-aligned memory, validates it, and keeps an owned copy.
fn load_dfa(raw: &[u8]) -> Result<DFA<Vec<u32>>, String> {
    let mut words = vec![0u32; raw.len().div_ceil(4)];
    bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..raw.len()].copy_from_slice(raw);
    let aligned: &[u8] = bytemuck::cast_slice(&words);
    let (dfa, _) = DFA::from_bytes(aligned).map_err(|e| e.to_string())?;
    Ok(dfa.to_owned())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Result<u32, LoadError> {
        let b = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| LoadError::Malformed("section header past the end".into()))?;
        self.pos += 4;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn section(&mut self) -> Result<&'a [u8], LoadError> {
        let len = self.u32()? as usize;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| LoadError::Malformed("section runs past the end".into()))?;
        let s = &self.bytes[self.pos..end];
        self.pos = align4(end).min(self.bytes.len());
        Ok(s)
    }
}
