//! Loads the policyc filter DLL and calls its exports exactly as LSA does (`LoadLibraryW`,
//! `GetProcAddress`, `UNICODE_STRING`s with lengths in bytes): for tests, and for an
//! administrator trying a policy on any Windows machine before installing the filter.
//!
//! Passwords come from standard input, one per line (never from the command line), and are
//! never printed. For each, one line: `ACCEPT reason` or `REFUSE reason: why`.
//!
//! ```text
//! policyc-filter-test [--dll policyc_filter.dll] [--account NAME] [--full-name NAME]
//!     [--change] [--notify] [--plain] [--bench N]
//!     [--utf16-hex | --odd-length | --null-password | --null-buffer | --max-length]
//!     [--odd-account]
//!     [--configure [--policy P] [--public-key K] [--queue Q] [--audit-log A] [--fail-open]
//!                  [--upn-suffix S] [--notify-wait-ms N]]
//! ```
//! `--configure` writes those settings to `HKLM\SOFTWARE\policyc` first (the values not given
//! are removed): it changes the settings of a filter installed on this machine.

#![allow(unsafe_code, reason = "calling the DLL through its C ABI")]

#[cfg(not(windows))]
fn main() {
    eprintln!("policyc-filter-test runs on Windows (or under Wine)");
    std::process::exit(2);
}

#[cfg(windows)]
fn main() {
    std::process::exit(windows::main());
}

#[cfg(windows)]
mod windows {
    use policyc_filter::text::UnicodeString;
    use std::io::BufRead;
    use std::time::Instant;
    use windows_sys::Win32::System::LibraryLoader::{GetProcAddress, LoadLibraryW};
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_LOCAL_MACHINE, KEY_ALL_ACCESS, REG_DWORD, REG_OPTION_NON_VOLATILE, REG_SZ,
        RegCloseKey, RegCreateKeyExW, RegDeleteValueW, RegSetValueExW,
    };
    use zeroize::Zeroizing;

    type Filter = unsafe extern "system" fn(
        *const UnicodeString,
        *const UnicodeString,
        *const UnicodeString,
        u8,
    ) -> u8;
    type FilterEx = unsafe extern "system" fn(
        *const UnicodeString,
        *const UnicodeString,
        *const UnicodeString,
        u8,
        *mut u32,
        *mut u16,
        u32,
    ) -> u8;
    type Notify = unsafe extern "system" fn(*const UnicodeString, u32, *const UnicodeString) -> i32;
    type Init = unsafe extern "system" fn() -> u8;
    type Proc = unsafe extern "system" fn() -> isize;

    const REASONS: [&str; 9] = [
        "accepted",
        "refused",
        "invalid_text",
        "no_policy",
        "internal_error",
        "machine_account",
        "audit_unavailable",
        "no_password",
        "store_unavailable",
    ];

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(Some(0)).collect()
    }

    fn usage(why: &str) -> i32 {
        eprintln!(
            "policyc-filter-test: {why} (see the comment at the top of policyc-filter-test.rs, or docs/windows.md)"
        );
        2
    }

    /// How the password reaches the filter.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Shape {
        Text,
        Utf16Hex,
        OddLength,
        NullPassword,
        NullBuffer,
        MaxLength,
    }

    const SETTINGS: [(&str, &str, bool); 7] = [
        ("--policy", "PolicyPath", false),
        ("--public-key", "PublicKey", false),
        ("--queue", "QueuePath", false),
        ("--key", "KeyPath", false),
        ("--audit-log", "AuditLog", false),
        ("--upn-suffix", "UpnSuffix", false),
        ("--notify-wait-ms", "NotifyWaitMs", true),
    ];

    fn configure(values: &[(&str, String, bool)], fail_open: bool) -> Result<(), String> {
        let key = wide(policyc_filter::settings::KEY);
        let mut h: HKEY = std::ptr::null_mut();
        // SAFETY: a NUL-terminated subkey; `h` receives the key, closed below.
        let status = unsafe {
            RegCreateKeyExW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_ALL_ACCESS,
                std::ptr::null(),
                &mut h,
                std::ptr::null_mut(),
            )
        };
        if status != 0 {
            return Err(format!(
                "cannot open HKLM\\{}: error {status} (run as an administrator)",
                policyc_filter::settings::KEY
            ));
        }
        let mut all: Vec<(&str, String, bool)> = values.to_vec();
        all.push(("FailOpen", if fail_open { "1" } else { "0" }.into(), true));
        for (name, _, _) in SETTINGS.iter().map(|(_, n, d)| (*n, (), *d)) {
            if !all.iter().any(|(n, _, _)| *n == name) {
                // SAFETY: a NUL-terminated value name on an open key.
                unsafe { RegDeleteValueW(h, wide(name).as_ptr()) };
            }
        }
        for (name, value, dword) in &all {
            let name = wide(name);
            // SAFETY: the data pointers and sizes match.
            let status = unsafe {
                if *dword {
                    let v: u32 = value.parse().map_err(|_| format!("{value}: not a number"))?;
                    RegSetValueExW(h, name.as_ptr(), 0, REG_DWORD, (&raw const v).cast(), 4)
                } else {
                    let v = wide(value);
                    RegSetValueExW(
                        h,
                        name.as_ptr(),
                        0,
                        REG_SZ,
                        v.as_ptr().cast(),
                        (v.len() * 2) as u32,
                    )
                }
            };
            if status != 0 {
                return Err(format!("cannot set a value: error {status}"));
            }
        }
        // SAFETY: opened above.
        unsafe { RegCloseKey(h) };
        Ok(())
    }

    fn string(units: &mut [u16]) -> UnicodeString {
        let bytes = (units.len() * 2).min(0xFFFE) as u16;
        UnicodeString { Length: bytes, MaximumLength: bytes, Buffer: units.as_mut_ptr() }
    }

    fn parse_hex(line: &str) -> Option<Vec<u16>> {
        let line = line.trim();
        if !line.len().is_multiple_of(4) {
            return None;
        }
        (0..line.len() / 4).map(|i| u16::from_str_radix(&line[i * 4..i * 4 + 4], 16).ok()).collect()
    }

    pub fn main() -> i32 {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut dll = String::from("policyc_filter.dll");
        let (mut account, mut full_name) = (String::from("alice"), String::new());
        let (mut set, mut notify, mut plain, mut bench) = (1u8, false, false, 0usize);
        let (mut shape, mut config, mut fail_open) = (Shape::Text, false, false);
        let mut odd_account = false;
        let mut values: Vec<(&str, String, bool)> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let flag = args[i].as_str();
            let mut value = || {
                i += 1;
                args.get(i).cloned()
            };
            match flag {
                "--dll" => dll = value().unwrap_or_default(),
                "--account" => account = value().unwrap_or_default(),
                "--full-name" => full_name = value().unwrap_or_default(),
                "--change" => set = 0,
                "--notify" => notify = true,
                "--plain" => plain = true,
                "--bench" => bench = value().and_then(|v| v.parse().ok()).unwrap_or(0),
                "--utf16-hex" => shape = Shape::Utf16Hex,
                "--odd-length" => shape = Shape::OddLength,
                "--null-password" => shape = Shape::NullPassword,
                "--odd-account" => odd_account = true,
                "--null-buffer" => shape = Shape::NullBuffer,
                "--max-length" => shape = Shape::MaxLength,
                "--configure" => config = true,
                "--fail-open" => fail_open = true,
                _ => match SETTINGS.iter().find(|(f, _, _)| *f == flag) {
                    Some((_, name, dword)) => match value() {
                        Some(v) => values.push((name, v, *dword)),
                        None => return usage(&format!("{flag} needs a value")),
                    },
                    None => return usage(&format!("unknown argument `{flag}`")),
                },
            }
            i += 1;
        }
        if config && let Err(e) = configure(&values, fail_open) {
            eprintln!("policyc-filter-test: {e}");
            return 1;
        }
        let path = wide(&dll);
        // SAFETY: a NUL-terminated path; the DLL's exports have the declared signatures.
        let (init, filter, filter_ex, change) = unsafe {
            let h = LoadLibraryW(path.as_ptr());
            if h.is_null() {
                eprintln!(
                    "policyc-filter-test: cannot load `{dll}`: {}",
                    std::io::Error::last_os_error()
                );
                return 1;
            }
            let get = |name: &[u8]| GetProcAddress(h, name.as_ptr());
            match (
                get(b"InitializeChangeNotify\0"),
                get(b"PasswordFilter\0"),
                get(b"PolicycPasswordFilterEx\0"),
                get(b"PasswordChangeNotify\0"),
            ) {
                (Some(a), Some(b), Some(c), Some(d)) => (
                    std::mem::transmute::<Proc, Init>(a),
                    std::mem::transmute::<Proc, Filter>(b),
                    std::mem::transmute::<Proc, FilterEx>(c),
                    std::mem::transmute::<Proc, Notify>(d),
                ),
                _ => {
                    eprintln!("policyc-filter-test: `{dll}` lacks one of the four exports");
                    return 1;
                }
            }
        };
        // SAFETY: as LSA does, once.
        if unsafe { init() } == 0 {
            println!("InitializeChangeNotify returned FALSE");
        }
        let mut name_units: Vec<u16> = account.encode_utf16().collect();
        let mut full_units: Vec<u16> = full_name.encode_utf16().collect();
        let mut name = string(&mut name_units);
        if odd_account {
            name.Length |= 1;
        }
        let full = string(&mut full_units);
        // One call per line, as each line arrives (a test may change things between calls).
        let lines: Box<dyn Iterator<Item = Zeroizing<String>>> = match shape {
            Shape::NullPassword | Shape::NullBuffer | Shape::MaxLength => {
                Box::new(std::iter::once(Zeroizing::new(String::new())))
            }
            _ => Box::new(
                std::io::stdin()
                    .lock()
                    .lines()
                    .map_while(Result::ok)
                    .map(|l| Zeroizing::new(l.trim_end_matches('\r').to_string())),
            ),
        };
        for line in lines {
            let mut units: Zeroizing<Vec<u16>> = Zeroizing::new(match shape {
                Shape::Utf16Hex => match parse_hex(&line) {
                    Some(u) => u,
                    None => return usage("--utf16-hex wants lines of hexadecimal UTF-16 units"),
                },
                Shape::MaxLength => vec![u16::from(b'a'); 0x7FFF],
                _ => line.encode_utf16().collect(),
            });
            let mut password = string(&mut units);
            match shape {
                Shape::OddLength => password.Length = password.Length.saturating_sub(1) | 1,
                Shape::NullBuffer => {
                    password.Buffer = std::ptr::null_mut();
                    password.Length = 8;
                }
                _ => {}
            }
            let p: *const UnicodeString =
                if shape == Shape::NullPassword { std::ptr::null() } else { &password };
            if bench > 0 {
                let mut times: Vec<u128> = (0..bench)
                    .map(|_| {
                        let t = Instant::now();
                        // SAFETY: valid strings for the call.
                        unsafe { filter(&name, &full, p, set) };
                        t.elapsed().as_nanos()
                    })
                    .collect();
                times.sort_unstable();
                let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
                println!(
                    "PasswordFilter x{bench}: p50 {:.1} us, p99 {:.1} us, max {:.1} us",
                    at(0.5),
                    at(0.99),
                    at(1.0)
                );
                continue;
            }
            let accepted = if plain {
                // SAFETY: valid strings for the call.
                let ok = unsafe { filter(&name, &full, p, set) } != 0;
                println!("{}", if ok { "ACCEPT" } else { "REFUSE" });
                ok
            } else {
                let mut reason = u32::MAX;
                let mut message = [0u16; 1024];
                // SAFETY: valid strings and buffers for the call.
                let ok = unsafe {
                    filter_ex(
                        &name,
                        &full,
                        p,
                        set,
                        &mut reason,
                        message.as_mut_ptr(),
                        message.len() as u32,
                    )
                } != 0;
                let len = message.iter().position(|&c| c == 0).unwrap_or(0);
                let why = String::from_utf16_lossy(&message[..len]);
                let code = REASONS.get(reason as usize).copied().unwrap_or("unknown");
                if ok {
                    println!("ACCEPT {code}");
                } else {
                    println!("REFUSE {code}: {why}");
                }
                ok
            };
            if accepted && notify {
                // SAFETY: as LSA does after the password is stored.
                let status = unsafe { change(&name, 0, p) };
                println!("NOTIFY {status:#x}");
            }
        }
        0
    }
}
