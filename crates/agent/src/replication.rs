//! What AD replication says about an account's password, read from Samba's binary attributes
//! (NDR, little-endian, `drsblobs.idl`): the replication stamp of `unicodePwd` from
//! `replPropertyMetaData`, by which AD decides which of two resets on different DCs wins, and
//! the packages of `supplementalCredentials` (`Primary:SambaGPG` holds the cleartext encrypted
//! to the sync key). Both are read only over Samba's privileged socket.

use std::cmp::Ordering;

/// `unicodePwd`'s attribute id.
const ATTID_UNICODE_PWD: u32 = 0x0009_005a;

/// The replication metadata of one attribute: AD keeps the value with the greater stamp
/// (higher version; then later originating time, to the second; then the greater originating
/// invocation id, compared as a GUID), on every DC alike. So the stamp of `unicodePwd` orders
/// an account's passwords as the domain does, whichever DC set them and whatever the clocks
/// say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplStamp {
    /// The attribute's version (one more per originating write).
    pub version: u32,
    /// The originating change time, in whole seconds since 1601 (NDR `NTTIME_1sec`: Samba's
    /// tools show it multiplied by 10^7, as an NTTIME).
    pub time: u64,
    /// The originating DC's invocation id, as stored (GUID, NDR byte order).
    pub invocation: [u8; 16],
}

impl ReplStamp {
    /// The invocation id as GUID fields, in the order Samba's `GUID_compare` compares them.
    fn guid_key(&self) -> (u32, u16, u16, [u8; 8]) {
        let i = &self.invocation;
        let mut rest = [0u8; 8];
        rest.copy_from_slice(&i[8..16]);
        (
            u32::from_le_bytes([i[0], i[1], i[2], i[3]]),
            u16::from_le_bytes([i[4], i[5]]),
            u16::from_le_bytes([i[6], i[7]]),
            rest,
        )
    }

    /// The originating DC's invocation id, as a GUID string.
    pub fn invocation_id(&self) -> String {
        let (a, b, c, r) = self.guid_key();
        format!(
            "{a:08x}-{b:04x}-{c:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
        )
    }
}

impl Ord for ReplStamp {
    fn cmp(&self, other: &ReplStamp) -> Ordering {
        (self.version, self.time, self.guid_key()).cmp(&(
            other.version,
            other.time,
            other.guid_key(),
        ))
    }
}

impl PartialOrd for ReplStamp {
    fn partial_cmp(&self, other: &ReplStamp) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The stamp of `unicodePwd` in a `replPropertyMetaDataBlob` (version 1: a count, then entries
/// of attid, version, originating time, invocation id, originating and local USN); `None` when
/// the blob is not one or has no `unicodePwd` entry.
pub fn unicode_pwd_stamp(blob: &[u8]) -> Option<ReplStamp> {
    const ENTRY: usize = 48;
    if u32_at(blob, 0)? != 1 {
        return None;
    }
    // The count comes from the directory: a blob shorter than it says is refused whole (and a
    // count of four billion costs nothing: no entry is looked for past the end).
    let count = usize::try_from(u32_at(blob, 8)?).ok()?;
    if count.checked_mul(ENTRY).and_then(|n| n.checked_add(16)).is_none_or(|n| n > blob.len()) {
        return None;
    }
    (0..count).find_map(|i| {
        let at = 16 + i * ENTRY;
        let entry = blob.get(at..at + ENTRY)?;
        (u32_at(entry, 0)? == ATTID_UNICODE_PWD).then(|| ReplStamp {
            version: u32_at(entry, 4).unwrap_or(0),
            time: u64_at(entry, 8).unwrap_or(0),
            invocation: entry.get(16..32).and_then(|g| g.try_into().ok()).unwrap_or([0; 16]),
        })
    })
}

/// The value of a `supplementalCredentialsBlob`'s package `name` (MS-SAMR `USER_PROPERTIES`:
/// a 96-byte reserved prefix, signature `P`, a count, then each package's name in UTF-16 and
/// its value as hex text), decoded from hex, **only if it is the last package**. Samba appends
/// `Primary:SambaGPG` last; when Windows sets a password it keeps the old one and puts it in
/// front, so only a last one is current (`samba-tool user getpassword` reads it so too).
pub fn last_package(blob: &[u8], name: &str) -> Option<Vec<u8>> {
    const PREFIX: usize = 12 + 96;
    if u16_at(blob, PREFIX)? != 0x0050 {
        return None;
    }
    let count = u16_at(blob, PREFIX + 2)?;
    let mut at = PREFIX + 4;
    let mut last = None;
    for _ in 0..count {
        let name_len = usize::from(u16_at(blob, at)?);
        let value_len = usize::from(u16_at(blob, at + 2)?);
        let name_bytes = blob.get(at + 6..at + 6 + name_len)?;
        let value = blob.get(at + 6 + name_len..at + 6 + name_len + value_len)?;
        last = Some((name_bytes, value));
        at += 6 + name_len + value_len;
    }
    let (name_bytes, hex) = last?;
    let units: Vec<u16> =
        name_bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    if String::from_utf16(&units).ok()? != name || hex.len() % 2 != 0 {
        return None;
    }
    hex.chunks_exact(2).map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(version: u32, time: u64, first: u8) -> ReplStamp {
        let mut invocation = [0u8; 16];
        invocation[3] = first; // the most significant byte of time_low
        ReplStamp { version, time, invocation }
    }

    #[test]
    fn stamps_order_as_ad_resolves_conflicts() {
        // Version first, whatever the time.
        assert!(stamp(4, 1, 0) > stamp(3, 9, 9));
        // Then the originating time.
        assert!(stamp(3, 9, 0) > stamp(3, 8, 9));
        // Then the invocation id, as a GUID (time_low little-endian: byte 3 is its top byte).
        assert!(stamp(3, 9, 2) > stamp(3, 9, 1));
        let mut low = stamp(3, 9, 0);
        low.invocation[0] = 0xff;
        assert!(stamp(3, 9, 1) > low, "byte 0 is the least significant byte of time_low");
    }

    #[test]
    fn reads_unicode_pwd_from_the_metadata_blob() {
        let mut blob = vec![1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        for (attid, version) in [(0x0009_0060u32, 7u32), (ATTID_UNICODE_PWD, 3)] {
            blob.extend(attid.to_le_bytes());
            blob.extend(version.to_le_bytes());
            blob.extend(13_441_015_170u64.to_le_bytes());
            blob.extend([0x37, 0x9c, 0x91, 0xc3, 0x61, 0x68, 0x15, 0x44]);
            blob.extend([0xab, 0x81, 0xe0, 0x7d, 0x6a, 0xca, 0x42, 0x49]);
            blob.extend(5u64.to_le_bytes());
            blob.extend(6u64.to_le_bytes());
        }
        let s = unicode_pwd_stamp(&blob).unwrap_or_else(|| stamp(0, 0, 0));
        assert_eq!((s.version, s.time), (3, 13_441_015_170));
        assert_eq!(s.invocation_id(), "c3919c37-6861-4415-ab81-e07d6aca4249");
        assert_eq!(unicode_pwd_stamp(&blob[..40]), None, "a cut blob is not read past its end");
        // A count far beyond the blob (found by the fuzzer: a loop of 2^32 lookups) is refused
        // at once.
        let mut huge = blob.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let started = std::time::Instant::now();
        assert_eq!(unicode_pwd_stamp(&huge), None);
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    /// Blobs as Samba 4.17 wrote them (`tests/golden/samba_blobs`): the metadata of a user
    /// reset on a second DC and replicated, which Samba's own `ndr_unpack` read as
    /// `unicodePwd` version 3, 134410151700000000, c3919c37-6861-4415-ab81-e07d6aca4249.
    #[test]
    fn reads_what_samba_wrote_as_samba_reads_it() {
        let meta = include_bytes!("../../../tests/golden/samba_blobs/replPropertyMetaData.bin");
        let s = unicode_pwd_stamp(meta).unwrap_or_else(|| stamp(0, 0, 0));
        assert_eq!((s.version, s.time * 10_000_000), (3, 134_410_151_700_000_000));
        assert_eq!(s.invocation_id(), "c3919c37-6861-4415-ab81-e07d6aca4249");
        let creds = include_bytes!("../../../tests/golden/samba_blobs/supplementalCredentials.bin");
        assert_eq!(last_package(creds, "Primary:SambaGPG").as_deref(), Some(&b"-----BEGIN"[..]));
    }

    #[test]
    fn reads_a_package_only_when_it_is_the_last() {
        let mut blob = vec![0u8; 12];
        blob.extend(" ".repeat(48).encode_utf16().flat_map(u16::to_le_bytes));
        blob.extend(0x50u16.to_le_bytes());
        blob.extend(3u16.to_le_bytes());
        for (name, value) in
            [("Primary:SambaGPG", "0102"), ("Packages", "41"), ("Primary:SambaGPG", "0a0B")]
        {
            let name: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
            blob.extend(u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
            blob.extend(u16::try_from(value.len()).unwrap_or(0).to_le_bytes());
            blob.extend(1u16.to_le_bytes());
            blob.extend(name);
            blob.extend(value.as_bytes());
        }
        assert_eq!(last_package(&blob, "Primary:SambaGPG"), Some(vec![0x0a, 0x0b]));
        assert_eq!(last_package(&blob, "Packages"), None, "not the last package");
        assert_eq!(last_package(&blob[..120], "Primary:SambaGPG"), None);
    }
}
