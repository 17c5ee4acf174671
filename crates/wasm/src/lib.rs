//! policyc's validator in the browser: a WebAssembly module (`wasm32-unknown-unknown`), bound
//! with wasm-bindgen, wrapped by the JS module `web/policyc.js`.
//!
//! wasm-bindgen, not an ABI of our own: the strength rules' zxcvbn reads the clock and the year
//! through `web-sys` and `js-sys` on wasm32, which only wasm-bindgen's generated glue can supply;
//! one binding layer for those and for ours. `scripts/wasm.sh` builds the module and runs
//! `wasm-bindgen --target web` (the CLI at the version `Cargo.lock` pins).
//!
//! A [`Policy`] is one loaded artifact (format, version and checksum verified, as everywhere).
//! `check` and `explain` return JSON, exactly as `policyc check --format json` and
//! `policyc explain --format json` write it; the user is a JSON object of attributes by LDAP
//! name (`{"sAMAccountName": "jdoe", "memberOf": ["CN=…"], "tenant": "Contoso"}`). The password
//! is taken by value and wiped when the call returns.
//!
//! Breached-password stores (several GB) are not in the browser: a rule that needs one is
//! reported in the verdict's `unavailable` list, as a validator that cannot read its store does.

mod info;
pub mod user;

use policyc_runtime::Validator;
use policyc_runtime::runtime::words::{self, Versioned};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

/// A loaded policy.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Policy {
    validator: Validator,
}

fn json<T: serde::Serialize>(body: &T) -> Result<String, JsError> {
    serde_json::to_string(&Versioned { schema: 1, body }).map_err(|e| JsError::new(&e.to_string()))
}

#[wasm_bindgen]
impl Policy {
    /// Loads an artifact `policyc compile` wrote. Throws what is wrong with it.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Result<Policy, JsError> {
        let validator = Validator::from_bytes(bytes).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Policy { validator })
    }

    /// The policy's name, description, digest, rules and the user attributes it reads, as JSON.
    pub fn info(&self) -> Result<String, JsError> {
        json(&info::Info::of(&self.validator))
    }

    /// The verdict for `password` and the user (JSON), as `policyc check --format json`
    /// writes it. Throws when the user is not valid JSON of attributes.
    pub fn check(&self, password: String, user: &str) -> Result<String, JsError> {
        let password = Zeroizing::new(password);
        let ctx = user::context(user).map_err(|e| JsError::new(&e))?;
        json(&self.validator.check(&password, &ctx))
    }

    /// Every rule, met or not, and what to change, as `policyc explain --format json` writes
    /// it.
    pub fn explain(&self, password: String, user: &str) -> Result<String, JsError> {
        let password = Zeroizing::new(password);
        let ctx = user::context(user).map_err(|e| JsError::new(&e))?;
        let explanation = self.validator.explain(&password, &ctx);
        json(&words::json(&self.validator.program().name, &explanation))
    }
}

/// The module's version and the artifact formats it reads.
#[wasm_bindgen]
pub fn version() -> String {
    policyc_runtime::artifact::version_line(env!("CARGO_PKG_VERSION"))
}
