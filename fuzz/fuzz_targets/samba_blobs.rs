//! Samba's binary attributes as the agent reads them over the privileged socket
//! (`replPropertyMetaData`, `supplementalCredentials`), as a damaged or hostile directory might
//! return them: never a panic, never a read past the blob, and a package is found only whole.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_agent::replication::{last_package, unicode_pwd_stamp};

fuzz_target!(|data: &[u8]| {
    if let Some(stamp) = unicode_pwd_stamp(data) {
        assert_eq!(stamp.cmp(&stamp), std::cmp::Ordering::Equal);
        assert_eq!(stamp.invocation_id().len(), 36);
    }
    if let Some(value) = last_package(data, "Primary:SambaGPG") {
        assert!(value.len() * 2 <= data.len());
    }
});
