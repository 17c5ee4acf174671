//! Answers from Graph and the token endpoint, and access tokens, as a broken or hostile server
//! might send them: always classified, never a panic, and what is kept for the log is bounded
//! and clean.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_agent::graph::{Delivery, classify_answer, token_answer, token_roles};
use std::time::Duration;

fn detail(d: &Delivery) -> &str {
    match d {
        Delivery::Done => "",
        Delivery::Retry { reason, .. } => reason,
        Delivery::Drift { detail }
        | Delivery::Config { detail, .. }
        | Delivery::User { detail, .. } => detail,
    }
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = data.split_at(data.len().min(2));
    let status = 100
        + (u16::from(*head.first().unwrap_or(&0)) << 8 | u16::from(*head.get(1).unwrap_or(&0)))
            % 500;
    let body = String::from_utf8_lossy(body);
    let d = classify_answer(status, &body, Some(Duration::from_secs(1)));
    assert!(detail(&d).chars().count() < 1200 && !detail(&d).chars().any(char::is_control));
    // An access token's claims, as `policyc doctor` reads them: bounded and clean.
    if let Some(roles) = token_roles(&body) {
        assert!(roles.len() <= 64);
        assert!(roles.iter().all(|r| r.chars().count() < 400 && !r.chars().any(char::is_control)));
    }
    match token_answer("https://login.example/token", status, &body) {
        Ok((_, ttl)) => assert!(ttl <= Duration::from_secs(86_400)),
        Err(d) => assert!(!detail(&d).chars().any(char::is_control)),
    }
});
