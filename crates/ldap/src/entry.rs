//! The parts of slapd's `Entry` the module reads: its attributes' names and values, laid out as
//! `servers/slapd/slap.h` declares them in OpenLDAP 2.5 and 2.6 (release builds: no
//! `LDAP_DEVEL` fields). Nothing here writes to slapd's memory.
#![allow(unsafe_code, reason = "reading slapd's entry through its C layout")]

use policyc_runtime::Context;
use policyc_runtime::ir::Attribute as Attr;
use std::ffi::{c_char, c_uint, c_ulong, c_void};

/// `struct berval`: a length and a pointer.
#[repr(C)]
pub(crate) struct BerVal {
    pub(crate) bv_len: c_ulong,
    pub(crate) bv_val: *mut c_char,
}

/// `struct AttributeDescription` (its first fields).
#[repr(C)]
struct AttributeDescription {
    ad_next: *mut AttributeDescription,
    ad_type: *mut c_void,
    ad_cname: BerVal,
}

/// `struct Attribute`.
#[repr(C)]
struct Attribute {
    a_desc: *mut AttributeDescription,
    a_vals: *mut BerVal,
    a_nvals: *mut BerVal,
    a_numvals: c_uint,
    a_flags: c_uint,
    a_next: *mut Attribute,
}

/// `struct Entry` (its first fields).
#[repr(C)]
pub(crate) struct Entry {
    e_id: c_ulong,
    e_name: BerVal,
    e_nname: BerVal,
    e_attrs: *mut Attribute,
}

/// The most attributes and values read from one entry: a malformed list cannot hold the call.
const MAX_READ: usize = 4096;

/// A berval's bytes, or none.
///
/// # Safety
/// `bv` is a berval slapd filled (its value `bv_len` bytes long, or NULL).
pub(crate) unsafe fn bytes(bv: &BerVal) -> Option<&[u8]> {
    if bv.bv_val.is_null() {
        return None;
    }
    let len = usize::try_from(bv.bv_len).ok()?;
    // SAFETY: slapd's berval: `bv_len` readable bytes at `bv_val`.
    Some(unsafe { std::slice::from_raw_parts(bv.bv_val.cast::<u8>(), len) })
}

/// The policy attribute an LDAP attribute gives, by its name.
fn attribute(name: &[u8]) -> Option<Attr> {
    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    Some(match () {
        _ if is("uid") => Attr::SamAccountName,
        _ if is("cn") => Attr::DisplayName,
        _ if is("displayName") => Attr::DisplayName,
        _ if is("givenName") => Attr::GivenName,
        _ if is("sn") => Attr::Surname,
        _ if is("mail") => Attr::Mail,
        _ if is("memberOf") => Attr::MemberOf,
        _ => return None,
    })
}

/// The entry's uid, cn, displayName, givenName, sn, mail and memberOf as the policy's user
/// attributes, and the entry's account name (its first uid) for the audit line.
///
/// # Safety
/// `entry` is NULL or the entry slapd passed to `check_password`, alive for the call.
pub(crate) unsafe fn context(entry: *const Entry) -> (Context, Option<String>) {
    let mut ctx = Context::new();
    let mut account = None;
    // SAFETY: NULL or slapd's entry.
    let Some(entry) = (unsafe { entry.as_ref() }) else { return (ctx, None) };
    let mut next = entry.e_attrs;
    let mut read = 0;
    // SAFETY (the loop): every pointer followed is slapd's, in a list it built for the entry.
    while let Some(a) = unsafe { next.as_ref() } {
        next = a.a_next;
        let Some(desc) = (unsafe { a.a_desc.as_ref() }) else { continue };
        let Some(name) = (unsafe { bytes(&desc.ad_cname) }) else { continue };
        let Some(attr) = attribute(name) else { continue };
        for i in 0..a.a_numvals as usize {
            read += 1;
            if read > MAX_READ || a.a_vals.is_null() {
                break;
            }
            // SAFETY: `a_vals` holds `a_numvals` bervals.
            let value = unsafe { bytes(&*a.a_vals.add(i)) };
            if let Some(value) = value.and_then(|v| std::str::from_utf8(v).ok()) {
                if attr == Attr::SamAccountName && account.is_none() {
                    account = Some(value.to_string());
                }
                ctx.add(attr, value);
            }
        }
        if read > MAX_READ {
            break;
        }
    }
    (ctx, account)
}
