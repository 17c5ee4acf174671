//! libpwquality and passwdqc, loaded at run time through their C API (Debian packages
//! libpwquality1 and libpasswdqc1): a machine without them reports them as missing instead of
//! failing to build. Also the importer's differential test (`tests/import.rs`) uses libpwquality
//! from here.

#![allow(unsafe_code, reason = "calling two C libraries through their documented C API")]

use libloading::{Library, Symbol};
use std::ffi::{CStr, CString, c_char, c_int, c_void};

type Settings = c_void;

/// libpwquality with its defaults (`pwquality_default_settings`: minlen 9, cracklib on).
pub struct Pwquality {
    lib: Library,
    settings: *mut Settings,
}

impl Pwquality {
    pub fn load() -> Result<Pwquality, String> {
        Pwquality::configured(None)
    }

    /// libpwquality with its defaults, then the settings of `conf` read by the library itself
    /// (`pwquality_read_config`), as pam_pwquality reads `/etc/security/pwquality.conf`.
    #[allow(dead_code, reason = "used by tests/import.rs, which includes this file")]
    pub fn with_config(conf: &std::path::Path) -> Result<Pwquality, String> {
        Pwquality::configured(Some(conf))
    }

    fn configured(conf: Option<&std::path::Path>) -> Result<Pwquality, String> {
        // SAFETY: loading a system library runs its initializers, which libpwquality keeps
        // side-effect free; the returned settings are owned here and freed on drop.
        unsafe {
            let lib = Library::new("libpwquality.so.1").map_err(|e| e.to_string())?;
            let default: Symbol<unsafe extern "C" fn() -> *mut Settings> =
                lib.get(b"pwquality_default_settings\0").map_err(|e| e.to_string())?;
            let settings = default();
            if settings.is_null() {
                return Err("pwquality_default_settings returned NULL".into());
            }
            let q = Pwquality { lib, settings };
            if let Some(conf) = conf {
                type Read =
                    unsafe extern "C" fn(*mut Settings, *const c_char, *mut *mut c_void) -> c_int;
                let read: Symbol<'_, Read> =
                    q.lib.get(b"pwquality_read_config\0").map_err(|e| e.to_string())?;
                let path =
                    CString::new(conf.to_string_lossy().as_bytes()).map_err(|e| e.to_string())?;
                let mut aux: *mut c_void = std::ptr::null_mut();
                let rc = read(q.settings, path.as_ptr(), &mut aux);
                if rc != 0 {
                    return Err(format!("libpwquality refused `{}` (error {rc})", conf.display()));
                }
            }
            Ok(q)
        }
    }

    /// A checker closure: `pwquality_check(settings, password, NULL, NULL, &aux) >= 0`.
    pub fn checker(&self) -> Result<impl Fn(&CStr) -> bool + '_, String> {
        self.checker_for(None)
    }

    /// [`Pwquality::checker`] for a user: `pwquality_check(settings, password, NULL, user, &aux)`.
    pub fn checker_for(
        &self,
        user: Option<CString>,
    ) -> Result<impl Fn(&CStr) -> bool + '_, String> {
        type Check = unsafe extern "C" fn(
            *mut Settings,
            *const c_char,
            *const c_char,
            *const c_char,
            *mut *mut c_void,
        ) -> c_int;
        // SAFETY: the symbol has this signature in libpwquality 1.x (pwquality.h).
        let check: Symbol<'_, Check> =
            unsafe { self.lib.get(b"pwquality_check\0") }.map_err(|e| e.to_string())?;
        Ok(move |pw: &CStr| {
            let mut aux: *mut c_void = std::ptr::null_mut();
            // SAFETY: valid settings and a NUL-terminated password; `aux` only ever receives a
            // pointer to a static message (cracklib's reason), which is not freed.
            unsafe {
                let user = user.as_ref().map_or(std::ptr::null(), |u| u.as_ptr());
                check(self.settings, pw.as_ptr(), std::ptr::null(), user, &mut aux) >= 0
            }
        })
    }
}

impl Drop for Pwquality {
    fn drop(&mut self) {
        // SAFETY: the settings came from pwquality_default_settings and are freed once.
        unsafe {
            if let Ok(free) =
                self.lib.get::<unsafe extern "C" fn(*mut Settings)>(b"pwquality_free_settings\0")
            {
                free(self.settings);
            }
        }
    }
}

unsafe extern "C" {
    /// The C library's `free`, for the strings passwdqc allocates.
    #[link_name = "free"]
    fn libc_free(p: *mut c_void);
}

/// `struct passwd` from glibc's `<pwd.h>`.
#[repr(C)]
struct Passwd {
    pw_name: *const c_char,
    pw_passwd: *const c_char,
    pw_uid: u32,
    pw_gid: u32,
    pw_gecos: *const c_char,
    pw_dir: *const c_char,
    pw_shell: *const c_char,
}

/// passwdqc with `passwdqc_params_reset` defaults (the same as Debian's configuration file).
pub struct Passwdqc {
    lib: Library,
    /// `passwdqc_params_t`, reset by the library; larger than the struct, 8-byte aligned.
    params: Box<[u64; 64]>,
    user: Vec<CString>,
}

impl Passwdqc {
    pub fn load() -> Result<Passwdqc, String> {
        Passwdqc::configured(None)
    }

    /// passwdqc with its defaults, then the options of `conf` read by the library itself
    /// (`passwdqc_params_load`), as pam_passwdqc reads `config=/etc/passwdqc.conf`.
    #[allow(dead_code, reason = "used by tests/import.rs, which includes this file")]
    pub fn with_config(conf: &std::path::Path) -> Result<Passwdqc, String> {
        Passwdqc::configured(Some(conf))
    }

    fn configured(conf: Option<&std::path::Path>) -> Result<Passwdqc, String> {
        // SAFETY: as for libpwquality; `params` is larger than passwdqc_params_t (a few ints and
        // pointers) and suitably aligned for it. The reason passwdqc_params_load returns is a
        // malloc'd string, copied and freed here.
        unsafe {
            let lib = Library::new("libpasswdqc.so.1").map_err(|e| e.to_string())?;
            let mut params = Box::new([0u64; 64]);
            let reset: Symbol<unsafe extern "C" fn(*mut c_void)> =
                lib.get(b"passwdqc_params_reset\0").map_err(|e| e.to_string())?;
            reset(params.as_mut_ptr().cast());
            if let Some(conf) = conf {
                type Load =
                    unsafe extern "C" fn(*mut c_void, *mut *mut c_char, *const c_char) -> c_int;
                let load: Symbol<'_, Load> =
                    lib.get(b"passwdqc_params_load\0").map_err(|e| e.to_string())?;
                let path =
                    CString::new(conf.to_string_lossy().as_bytes()).map_err(|e| e.to_string())?;
                let mut reason: *mut c_char = std::ptr::null_mut();
                if load(params.as_mut_ptr().cast(), &mut reason, path.as_ptr()) != 0 {
                    let why = if reason.is_null() {
                        "no reason given".to_string()
                    } else {
                        let why = CStr::from_ptr(reason).to_string_lossy().into_owned();
                        libc_free(reason.cast());
                        why
                    };
                    return Err(format!("passwdqc refused `{}`: {why}", conf.display()));
                }
            }
            let user = ["alice", "x", "Alice Example,,,", "/home/alice", "/bin/sh"]
                .iter()
                .map(|s| CString::new(*s).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?;
            Ok(Passwdqc { lib, params, user })
        }
    }

    /// A checker closure: `passwdqc_check(&params.qc, password, NULL, &user) == NULL`.
    pub fn checker(&self) -> Result<impl Fn(&CStr) -> bool + '_, String> {
        type Check = unsafe extern "C" fn(
            *const c_void,
            *const c_char,
            *const c_char,
            *const Passwd,
        ) -> *const c_char;
        // SAFETY: the symbol has this signature in passwdqc 2.x (passwdqc.h).
        let check: Symbol<'_, Check> =
            unsafe { self.lib.get(b"passwdqc_check\0") }.map_err(|e| e.to_string())?;
        let u = &self.user;
        let user = Passwd {
            pw_name: u[0].as_ptr(),
            pw_passwd: u[1].as_ptr(),
            pw_uid: 1000,
            pw_gid: 1000,
            pw_gecos: u[2].as_ptr(),
            pw_dir: u[3].as_ptr(),
            pw_shell: u[4].as_ptr(),
        };
        Ok(move |pw: &CStr| {
            // SAFETY: `params.qc` is the first member of the reset params; the password and
            // every user string are NUL-terminated and outlive the call. The returned reason
            // is a static string.
            unsafe {
                check(self.params.as_ptr().cast(), pw.as_ptr(), std::ptr::null(), &user).is_null()
            }
        })
    }
}
