//! The user a password is checked for, from the JSON the JS side sends (the page builds it
//! from its address, which anyone can write: fuzzed, `fuzz/fuzz_targets/browser_user.rs`).

use policyc_runtime::Context;
use serde_json::Value;

/// `{"sAMAccountName": "jdoe", "memberOf": ["CN=…", …], "tenant": "Contoso"}`: attributes by
/// LDAP name (any case), each a string or a list of strings, and the tenant name Entra scoring
/// reads. `""` or `{}` is nobody.
pub fn context(json: &str) -> Result<Context, String> {
    let mut ctx = Context::new();
    if json.trim().is_empty() {
        return Ok(ctx);
    }
    let Value::Object(fields) =
        serde_json::from_str(json).map_err(|e| format!("the user is not JSON: {e}"))?
    else {
        return Err("the user must be a JSON object of attributes".into());
    };
    for (name, value) in fields {
        let values = match value {
            Value::String(s) => vec![s],
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(format!("the user's {name} must be strings")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(format!("the user's {name} must be a string or a list of strings")),
        };
        if name == "tenant" {
            if let Some(tenant) = values.into_iter().next() {
                ctx.set_tenant(tenant);
            }
            continue;
        }
        for v in values {
            ctx.add_named(&name, v).map_err(|e| e.to_string())?;
        }
    }
    Ok(ctx)
}
