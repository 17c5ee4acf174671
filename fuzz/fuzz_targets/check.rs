//! `check`, `complies` and `explain` of the shipped policies on fuzzed passwords and user
//! attributes (group DNs included), against the reference evaluator.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_runtime::ir::Attribute;
use std::sync::OnceLock;

fn validators() -> &'static [policyc_runtime::Validator] {
    static V: OnceLock<Vec<policyc_runtime::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let group = "policy g {\n  when user.memberOf has \"CN=Domain Admins, CN=Users, DC=corp\" {\n    rule admins \"14.\" : length >= 14\n  }\n  rule names \"No names.\" : not contains ad_names\n}\n";
        let mut out: Vec<policyc_runtime::Validator> = ["office365", "ad-default"]
            .iter()
            .filter_map(|p| policyc_compiler::compile_path(format!("{}/../policies/{p}.policy", env!("CARGO_MANIFEST_DIR")), &Default::default()).ok())
            .filter_map(|c| policyc_runtime::Validator::from_bytes(&c.artifact).ok())
            .collect();
        if let Ok(c) = policyc_compiler::compile_str("g.policy", group, &Default::default()) {
            out.extend(policyc_runtime::Validator::from_bytes(&c.artifact).ok());
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\u{1}');
    let password = parts.next().unwrap_or("");
    let mut ctx = policyc_runtime::Context::new();
    if let Some(a) = parts.next() {
        ctx.set(Attribute::SamAccountName, a);
    }
    if let Some(d) = parts.next() {
        ctx.set(Attribute::DisplayName, d);
    }
    if let Some(g) = parts.next() {
        ctx.add(Attribute::MemberOf, g);
    }
    for v in validators() {
        let verdict = v.check(password, &ctx);
        let got: Vec<String> = verdict.violations().iter().map(|x| x.rule().to_string()).collect();
        assert_eq!(got, policyc_testkit::reference::violations(v.program(), password, &ctx));
        let enforced = verdict.is_compliant();
        assert_eq!(v.complies(password, &ctx), enforced);
        let _ = v.explain(password, &ctx);
    }
});
