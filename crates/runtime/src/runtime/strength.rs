//! Strength rules: zxcvbn's 0-4 score, with the user's attributes as user inputs.
//!
//! zxcvbn's cost grows steeply with length and explodes on crafted inputs (about 1 s per call
//! at 100 characters; `specs/rust-stack.md` §3). So the validator runs it last, only when every
//! cheaper enforce rule has passed (explain always runs it), and only on the first
//! [`STRENGTH_PREFIX_CHARS`] characters, which bounds a call to about a millisecond. A longer
//! password is judged by its prefix: it can only be refused for a weak prefix, never accepted
//! for a strong tail.

use crate::Context;
use crate::ir::Attribute;

/// zxcvbn sees at most this many characters of the password.
pub const STRENGTH_PREFIX_CHARS: usize = 16;

/// zxcvbn's score (0-4) of the password's prefix, with the user's attribute values (and their
/// tokens) and the tenant name as user inputs.
pub fn score(password: &str, ctx: &Context) -> u8 {
    let end = password.char_indices().nth(STRENGTH_PREFIX_CHARS).map_or(password.len(), |(i, _)| i);
    let prefix = password.get(..end).unwrap_or(password);
    let mut inputs: Vec<&str> = Vec::new();
    for attribute in Attribute::ALL {
        if attribute == Attribute::MemberOf {
            continue;
        }
        for value in ctx.get(attribute) {
            inputs.push(value);
            inputs.extend(value.split(|c: char| !c.is_alphanumeric()).filter(|t| t.len() >= 3));
        }
    }
    inputs.extend(ctx.tenant());
    u8::from(zxcvbn::zxcvbn(prefix, &inputs).score())
}

/// Runs zxcvbn once so that its dictionaries are built before the first real check (~17 ms).
pub fn warm_up() {
    let _ = zxcvbn::zxcvbn("warm-up Passw0rd", &[]);
}
