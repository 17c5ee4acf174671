//! The real ppm: OpenLDAP's `contrib/slapd-modules/ppm/ppm.c`, unmodified (fetched by
//! `scripts/ppm-source.sh`; Debian ships no ppm), compiled by the test against a stub of
//! `slap.h` into a shared library and called as slapd 2.6 calls it:
//! `check_password(password, &errmsg, entry, &pwdCheckModuleArg)`.

#![allow(unsafe_code, reason = "calling ppm's check_password through its C interface")]

use std::ffi::{CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};

/// What ppm.c needs of slapd: the entry, its attributes, bervals and ber's allocator.
const SLAP_H: &str = r#"#ifndef STUB_SLAP_H
#define STUB_SLAP_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#define LDAP_VENDOR_VERSION_MAJOR 2
#define LDAP_VENDOR_VERSION_MINOR 6
#define LDAP_SUCCESS 0
struct berval { size_t bv_len; char *bv_val; };
typedef struct AttributeDescription { struct berval ad_cname; } AttributeDescription;
typedef struct Attribute {
  AttributeDescription *a_desc;
  struct berval *a_vals;
  struct Attribute *a_next;
} Attribute;
typedef struct Entry { struct berval e_name; struct berval e_nname; Attribute *e_attrs; } Entry;
#define ber_memalloc malloc
#define ber_memfree free
#endif
"#;

#[repr(C)]
struct BerVal {
    len: usize,
    val: *mut c_char,
}

#[repr(C)]
struct Description {
    name: BerVal,
}

#[repr(C)]
struct Attribute {
    desc: *mut Description,
    vals: *mut BerVal,
    next: *mut Attribute,
}

#[repr(C)]
struct Entry {
    name: BerVal,
    nname: BerVal,
    attrs: *mut Attribute,
}

type CheckPassword =
    unsafe extern "C" fn(*mut c_char, *mut BerVal, *mut Entry, *mut c_void) -> c_int;

/// ppm.c compiled and loaded.
pub struct Ppm {
    lib: libloading::Library,
    _dir: tempfile::TempDir,
}

/// Where `scripts/ppm-source.sh` puts ppm's source.
fn source() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ppm-src");
    match dir.join("ppm.c").is_file() {
        true => Ok(dir),
        false => Err(format!(
            "{} has no ppm.c: run scripts/ppm-source.sh (scripts/test.sh does)",
            dir.display()
        )),
    }
}

impl Ppm {
    /// Compiles ppm.c (as OpenLDAP 2.6's module, without cracklib) and loads it.
    pub fn build() -> Result<Ppm, String> {
        let src = source()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("slap.h"), SLAP_H).map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("portable.h"), "").map_err(|e| e.to_string())?;
        let lib = dir.path().join("libppm.so");
        let out = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-w", "-I"])
            .arg(dir.path())
            .arg("-I")
            .arg(&src)
            .arg(src.join("ppm.c"))
            .arg("-o")
            .arg(&lib)
            .output()
            .map_err(|e| format!("cc: {e}"))?;
        if !out.status.success() {
            return Err(format!("cc ppm.c: {}", String::from_utf8_lossy(&out.stderr)));
        }
        // SAFETY: ppm's library has no initialisers beyond its globals.
        let lib = unsafe { libloading::Library::new(&lib) }.map_err(|e| e.to_string())?;
        Ok(Ppm { lib, _dir: dir })
    }

    /// ppm's verdict on `password` for the entry named `dn` (its normalized DN, as slapd
    /// passes `e_nname`) holding `attributes` (name, values, in the entry's order), under
    /// the configuration `config` (the text of `pwdCheckModuleArg`).
    pub fn accepts(
        &self,
        config: &str,
        password: &str,
        dn: &str,
        attributes: &[(&str, &[&str])],
    ) -> bool {
        let c = |s: &str| CString::new(s).unwrap_or_default();
        let (config, password, dn) = (c(config), c(password), c(dn));
        let berval = |s: &CString| BerVal { len: s.as_bytes().len(), val: s.as_ptr().cast_mut() };
        // The attributes: names, values (each list ended by a NULL value), linked in order.
        let names: Vec<CString> = attributes.iter().map(|(n, _)| c(n)).collect();
        let values: Vec<Vec<CString>> =
            attributes.iter().map(|(_, vs)| vs.iter().map(|v| c(v)).collect()).collect();
        let mut descs: Vec<Description> =
            names.iter().map(|n| Description { name: berval(n) }).collect();
        let mut lists: Vec<Vec<BerVal>> = values
            .iter()
            .map(|vs| {
                let mut l: Vec<BerVal> = vs.iter().map(berval).collect();
                l.push(BerVal { len: 0, val: std::ptr::null_mut() });
                l
            })
            .collect();
        let mut attrs: Vec<Attribute> = descs
            .iter_mut()
            .zip(lists.iter_mut())
            .map(|(d, l)| Attribute { desc: d, vals: l.as_mut_ptr(), next: std::ptr::null_mut() })
            .collect();
        for i in (1..attrs.len()).rev() {
            let next: *mut Attribute = &raw mut attrs[i];
            attrs[i - 1].next = next;
        }
        let first = attrs.first_mut().map_or(std::ptr::null_mut(), |a| a as *mut Attribute);
        let mut entry = Entry { name: berval(&dn), nname: berval(&dn), attrs: first };
        let mut arg = berval(&config);
        // slapd hands the module a buffer for its message; ppm allocates a larger one itself.
        let mut buffer = [0 as c_char; 256];
        let mut errmsg = BerVal { len: buffer.len() - 1, val: buffer.as_mut_ptr() };
        // SAFETY: the symbol has slapd 2.6's signature (ppm.h); every pointer is valid for the
        // call (the strings, attributes and entry outlive it), and a message ppm allocated in
        // place of the buffer is freed with the allocator it used.
        unsafe {
            let check: libloading::Symbol<'_, CheckPassword> =
                self.lib.get(b"check_password\0").unwrap_or_else(|e| panic!("ppm: {e}"));
            let rc =
                check(password.as_ptr().cast_mut(), &mut errmsg, &mut entry, (&raw mut arg).cast());
            if errmsg.val != buffer.as_mut_ptr() {
                libc_free(errmsg.val.cast());
            }
            rc == 0
        }
    }
}

unsafe extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut c_void);
}
