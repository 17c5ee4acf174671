//! The Windows services the filter uses: its registry settings and the event log.

use crate::event::Level;
use windows_sys::Win32::System::EventLog::{
    DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE, EVENTLOG_WARNING_TYPE,
    RegisterEventSourceW, ReportEventW,
};
use windows_sys::Win32::System::Registry::{
    HKEY_LOCAL_MACHINE, RRF_RT_REG_DWORD, RRF_RT_REG_SZ, RegGetValueW,
};

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

/// A value under `HKLM\KEY`: REG_SZ as is, REG_DWORD as decimal text.
pub fn registry_value(key: &str, name: &str) -> Option<String> {
    let key = wide(key);
    let value = wide(name);
    // One RegGetValueW of type `flags` into `data` (`size` bytes; NULL asks for the size).
    let query = |flags, data: *mut std::ffi::c_void, size: &mut u32| {
        // SAFETY: NUL-terminated names; `data` is NULL or holds `size` bytes.
        unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                value.as_ptr(),
                flags,
                std::ptr::null_mut(),
                data,
                size,
            )
        }
    };
    let mut dword = 0u32;
    if query(RRF_RT_REG_DWORD, (&raw mut dword).cast(), &mut 4) == 0 {
        return Some(dword.to_string());
    }
    let mut size = 0u32;
    if query(RRF_RT_REG_SZ, std::ptr::null_mut(), &mut size) != 0 || size == 0 || size > 64 * 1024 {
        return None;
    }
    let mut buffer = vec![0u16; (size as usize).div_ceil(2)];
    if query(RRF_RT_REG_SZ, buffer.as_mut_ptr().cast(), &mut size) != 0 {
        return None;
    }
    let len = buffer.iter().position(|&c| c == 0).unwrap_or(buffer.len());
    String::from_utf16(&buffer[..len]).ok()
}

/// Writes an entry to the Application event log, source `policyc`. Never holds a password.
pub fn report(level: Level, text: &str) {
    let source = wide("policyc");
    let text = wide(text);
    let kind = match level {
        Level::Information => EVENTLOG_INFORMATION_TYPE,
        Level::Warning => EVENTLOG_WARNING_TYPE,
        Level::Error => EVENTLOG_ERROR_TYPE,
    };
    let id = match level {
        Level::Information => 1000,
        Level::Warning => 2000,
        Level::Error => 3000,
    };
    // SAFETY: NUL-terminated strings; one string passed; the handle is closed.
    unsafe {
        let log = RegisterEventSourceW(std::ptr::null(), source.as_ptr());
        if log.is_null() {
            return;
        }
        let strings = [text.as_ptr()];
        ReportEventW(
            log,
            kind,
            0,
            id,
            std::ptr::null_mut(),
            1,
            0,
            strings.as_ptr(),
            std::ptr::null(),
        );
        DeregisterEventSource(log);
    }
}
