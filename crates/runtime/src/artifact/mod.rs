//! The compiled artifact: a versioned binary file holding everything the validator needs.
//!
//! Layout (all integers little-endian except the DFAs, which are in the byte order named by the
//! header's byte-order mark); see `docs/artifact-format.md`:
//!
//! ```text
//! offset  size  field
//!      0     8  magic "POLICYC\0"
//!      8     2  format version (FORMAT_VERSION)
//!     10     2  byte-order mark 0xFEFF, written in the compiling host's order
//!     12     4  reserved, zero
//!     16     8  payload length in bytes
//!     24    32  SHA-256 of the payload up to the trie words
//!     56     8  where the trie words start in the payload
//!     64     …  payload, sections 4-byte aligned: program, automata, trie layouts, the
//!               CRC-32 of each 4 KiB block of the trie words; then (8-byte aligned) the trie
//!               words, in the header's byte order
//! ```
//!
//! The trie words are covered by their block checksums, which the SHA-256 covers: loading
//! checks every block and the tries' structure once, and rebuilds nothing.

mod decode;
#[cfg(feature = "build")]
mod encode;
mod error;
mod legacy;
pub(crate) mod region;
pub mod trie;

pub(crate) use decode::decode;
#[cfg(feature = "build")]
pub use encode::{encode, reseal};
pub use error::LoadError;

/// The first eight bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"POLICYC\0";
/// The artifact format this build writes. Bumped on every change an older build cannot read.
/// Version 6 added predicates (`not palindrome`, `distinct`, `not equals`, `or reversed`, the
/// composite forms); version 7 made a normalization a list of steps (deleting and trimming
/// characters); version 8 added measures in code units (`count SET in bytes`, `longest repeat
/// in bytes`, `distinct in bytes`, `longest run of SET`, `N per SET in bytes`), new variants
/// only, so a version 7 artifact reads as it is; version 9 added `not contains user.ATTR in
/// bytes`, a new variant only too. This build reads versions 5 and 6 through their old layout
/// (`legacy`).
pub const FORMAT_VERSION: u16 = 9;
/// The oldest artifact format this build reads.
pub const OLDEST_READABLE_VERSION: u16 = 5;

/// What a build says of itself, for `--version`-like answers: `policyc 0.1.0 (artifact formats
/// 5 to 9)`, with the caller's crate version (the C library, the browser module).
pub fn version_line(crate_version: &str) -> String {
    format!(
        "policyc {crate_version} (artifact formats {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
    )
}

/// The format version an artifact's header declares, if `bytes` start like an artifact
/// (whether this build reads it or not: for `policyc doctor`'s message).
pub fn format_version(bytes: &[u8]) -> Option<u16> {
    let header = bytes.get(..HEADER_LEN).filter(|h| h.starts_with(&MAGIC))?;
    Some(u16::from_le_bytes([header[8], header[9]]))
}
/// Size of the fixed header.
pub const HEADER_LEN: usize = 64;
/// The byte-order mark, as a native-order `u16`.
pub(crate) const BYTE_ORDER_MARK: u16 = 0xFEFF;

/// The trie words are checked in blocks of this many bytes.
pub(crate) const BLOCK: usize = 4096;

/// Rounds `n` up to a multiple of 4.
pub(crate) fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}
