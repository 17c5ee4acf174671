//! The policies shown in the README and the language reference compile.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::{CompileOptions, Validator, compile_str};

/// Fenced blocks without a language tag that hold whole policies.
fn policy_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start().starts_with("```")) {
            (None, true) => current = (line.trim() == "```").then(String::new),
            (Some(block), true) => {
                let first = block
                    .lines()
                    .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
                if first.is_some_and(|l| l.starts_with("policy ")) && block.contains(" rule ") {
                    blocks.push(block.clone());
                }
                current = None;
            }
            (Some(block), false) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, false) => {}
        }
    }
    blocks
}

#[test]
fn documented_policies_compile() {
    let mut compiled = 0;
    for doc in ["README.md", "docs/language.md"] {
        let text = std::fs::read_to_string(doc).unwrap();
        for block in policy_blocks(&text) {
            let names: Vec<String> = block
                .lines()
                .filter_map(|l| l.strip_prefix("policy "))
                .map(|l| l.split_whitespace().next().unwrap().to_string())
                .collect();
            for name in names {
                let options =
                    CompileOptions { policy: Some(name.clone()), ..CompileOptions::default() };
                let c = compile_str(doc, &block, &options)
                    .unwrap_or_else(|e| panic!("{doc}: policy `{name}`:\n{e}"));
                Validator::from_bytes(&c.artifact).unwrap();
                compiled += 1;
            }
        }
    }
    assert!(compiled >= 2, "no documented policy found");
}
