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
//!     24    32  SHA-256 of the payload
//!     56     8  reserved, zero
//!     64     …  payload: program section, then automata section, each 4-byte aligned
//! ```

mod decode;
#[cfg(feature = "compiler")]
mod encode;
mod error;

pub(crate) use decode::decode;
#[cfg(feature = "compiler")]
pub use encode::encode;
pub use error::LoadError;

/// The first eight bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"POLICYC\0";
/// The artifact format this build writes and reads. Bumped on every incompatible change.
pub const FORMAT_VERSION: u16 = 3;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 64;
/// The byte-order mark, as a native-order `u16`.
pub(crate) const BYTE_ORDER_MARK: u16 = 0xFEFF;

/// Rounds `n` up to a multiple of 4.
pub(crate) fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}
