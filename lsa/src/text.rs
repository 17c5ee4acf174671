//! LSA's strings: `UNICODE_STRING` (lengths in bytes, not NUL-terminated, possibly NULL, odd or
//! pointing at nothing), decoded strictly: an unpaired surrogate is an error with its own
//! reason, never a lossy replacement (a policy must judge the password that will be stored).

use zeroize::Zeroizing;

/// `UNICODE_STRING` as `ntdef.h` declares it.
#[repr(C)]
#[derive(Debug)]
#[allow(non_snake_case, reason = "the Windows declaration")]
pub struct UnicodeString {
    /// Length of the text in bytes, without any terminator.
    pub Length: u16,
    /// Size of the buffer in bytes.
    pub MaximumLength: u16,
    /// The UTF-16 text.
    pub Buffer: *mut u16,
}

/// Why a string from LSA is not text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// `Length` is odd: not a whole number of UTF-16 units.
    #[error("the string's length ({0} bytes) is odd: not UTF-16")]
    OddLength(u16),
    /// `Length` is not zero but `Buffer` is NULL.
    #[error("the string has a length but no buffer")]
    NoBuffer,
    /// `Length` is more than `MaximumLength`.
    #[error("the string's length ({0} bytes) exceeds its buffer ({1} bytes)")]
    Overlong(u16, u16),
    /// A surrogate without its pair: not a Unicode string.
    #[error("the text holds an unpaired UTF-16 surrogate at unit {0}: it is not Unicode text")]
    UnpairedSurrogate(usize),
}

/// Decodes UTF-16 units strictly.
pub fn decode_units(units: &[u16]) -> Result<Zeroizing<String>, TextError> {
    let mut text = Zeroizing::new(String::with_capacity(units.len() * 3));
    let mut at = 0;
    for c in char::decode_utf16(units.iter().copied()) {
        match c {
            Ok(c) => {
                text.push(c);
                at += c.len_utf16();
            }
            Err(_) => return Err(TextError::UnpairedSurrogate(at)),
        }
    }
    Ok(text)
}

/// The text of `s`: `None` for a NULL pointer.
///
/// # Safety
/// `s` is NULL or points at a `UNICODE_STRING` whose `Buffer` (when not NULL) holds at least
/// `Length` bytes, as LSA guarantees for the duration of the call.
pub unsafe fn decode(s: *const UnicodeString) -> Result<Option<Zeroizing<String>>, TextError> {
    // SAFETY: the caller's contract.
    let Some(s) = (unsafe { s.as_ref() }) else { return Ok(None) };
    if s.Length == 0 {
        return Ok(Some(Zeroizing::new(String::new())));
    }
    if s.Length % 2 != 0 {
        return Err(TextError::OddLength(s.Length));
    }
    if s.Buffer.is_null() {
        return Err(TextError::NoBuffer);
    }
    if s.MaximumLength != 0 && s.Length > s.MaximumLength {
        return Err(TextError::Overlong(s.Length, s.MaximumLength));
    }
    // SAFETY: `Buffer` holds `Length` bytes (the caller's contract); u16 alignment is LSA's.
    let units = unsafe { std::slice::from_raw_parts(s.Buffer, usize::from(s.Length / 2)) };
    decode_units(units).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(units: &mut [u16], bytes: u16) -> UnicodeString {
        UnicodeString { Length: bytes, MaximumLength: bytes, Buffer: units.as_mut_ptr() }
    }

    #[test]
    fn strict_utf16() {
        let mut ok: Vec<u16> = "Résumé-😀".encode_utf16().collect();
        let len = (ok.len() * 2) as u16;
        let s = string(&mut ok, len);
        assert_eq!(unsafe { decode(&s) }.unwrap().unwrap().as_str(), "Résumé-😀");
        let mut lone = vec![0x61, 0xD800, 0x62];
        let s = string(&mut lone, 6);
        assert_eq!(unsafe { decode(&s) }, Err(TextError::UnpairedSurrogate(1)));
        let mut low_first = vec![0xDC00, 0xD800];
        let s = string(&mut low_first, 4);
        assert_eq!(unsafe { decode(&s) }, Err(TextError::UnpairedSurrogate(0)));
        let s = string(&mut ok, 3);
        assert_eq!(unsafe { decode(&s) }, Err(TextError::OddLength(3)));
        let s = UnicodeString { Length: 4, MaximumLength: 4, Buffer: std::ptr::null_mut() };
        assert_eq!(unsafe { decode(&s) }, Err(TextError::NoBuffer));
        assert_eq!(unsafe { decode(std::ptr::null()) }, Ok(None));
    }
}
