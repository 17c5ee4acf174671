//! Why an artifact could not be loaded.

use std::path::PathBuf;

/// An artifact that cannot be used. The validator is never built from a damaged artifact.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read artifact `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Fewer bytes than the header.
    #[error(
        "artifact is truncated: {len} bytes, but the header alone is {header} bytes; recompile the policy"
    )]
    TooShort {
        /// Bytes present.
        len: usize,
        /// Header size.
        header: usize,
    },
    /// The magic bytes are wrong.
    #[error("not a policyc artifact (wrong magic bytes); pass a file written by `policyc compile`")]
    BadMagic,
    /// Written by another format version.
    #[error(
        "artifact format version {found} is not supported (this build reads versions {oldest} to {supported}); recompile the policy with this policyc"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The oldest version this build reads.
        oldest: u16,
        /// The version this build writes, the newest it reads.
        supported: u16,
    },
    /// Written on a host with the other byte order.
    #[error(
        "artifact was compiled on a host with the other byte order; recompile the policy on this host"
    )]
    WrongByteOrder,
    /// The payload is shorter or longer than the header says.
    #[error(
        "artifact is truncated or has trailing bytes: the header announces {expected} payload bytes, the file has {found}; recompile the policy"
    )]
    LengthMismatch {
        /// Payload bytes announced.
        expected: u64,
        /// Payload bytes present.
        found: usize,
    },
    /// The payload's checksum does not match.
    #[error(
        "artifact is corrupted: the SHA-256 of its payload does not match its header; recompile the policy"
    )]
    ChecksumMismatch,
    /// The artifact needs a capability this build does not have.
    #[error(
        "artifact needs {0}, which this build of policyc does not include; use a build with the default features"
    )]
    Unsupported(String),
    /// The payload's structure is invalid even though its checksum matches.
    #[error("artifact is malformed: {0}; recompile the policy")]
    Malformed(String),
}

impl LoadError {
    /// Whether the artifact was damaged in storage or transit (truncated or corrupted).
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            LoadError::TooShort { .. }
                | LoadError::LengthMismatch { .. }
                | LoadError::ChecksumMismatch
        )
    }
}
