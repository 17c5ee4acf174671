//! The agent's configuration (YAML): parsed or refused with a message, never a panic; a
//! parsed one yields hook options and a key path.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = serde_yaml::from_str::<policyc_agent::config::AgentConfig>(text) {
        let _ = config.key_path();
        let _ = policyc_agent::hook::HookOptions::from_config(&config, false);
        let _ = policyc_agent::graph::check_transport("base_url", &config.graph.base_url);
    }
});
