//! The Entra Password Protection evaluation (`entra score >= 5 using { ... }`), as documented by
//! Microsoft and pinned in `docs/language.md`:
//!
//! 1. Normalize: lowercase, then `0→o 1→l $→s @→a`.
//! 2. The user's first or last name (`givenName`, `sn`) of 4+ characters found in the normalized
//!    password rejects it outright.
//! 3. Candidate matches: every banned term within one edit of a substring (terms under 4
//!    characters: exact only), and the tenant name (4+ characters) as an exact substring.
//!    At each start position only the best candidate counts: fewest edits, then longest.
//! 4. Score left to right: a candidate starting here is 1 point and its text is consumed; any
//!    other character is 1 point. The password passes with at least `min_points`. A yes/no
//!    check stops scoring as soon as the answer is known (enough points, or too few characters
//!    left to get them), so a long compliant password costs about five start positions.

use super::fold::Folding;
use super::terms::{Trie, normalize_into};
use crate::ir::{Attribute, Normalization};
use zeroize::Zeroizing;

/// Names shorter than this many characters are not looked for; nor is the tenant name.
pub const NAME_MIN_CHARS: usize = 4;

/// What the evaluation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraOutcome {
    /// The password's points.
    pub points: u32,
    /// The name attribute found in the password (an outright rejection), if any.
    pub name: Option<Attribute>,
    /// The banned terms (or the tenant name) that were counted, in order. A term that makes up
    /// the whole password is not named (that would show the password): see `whole_password`.
    pub terms: Vec<String>,
    /// The whole normalized password is one banned term (or within one edit of one).
    pub whole_password: bool,
}

/// A scored candidate at one start: where it ends, its edits, and what it is.
#[derive(Clone, Copy)]
struct Candidate {
    end: usize,
    edits: u8,
    /// `Some((set, term))` for a banned term, `None` for the tenant name.
    term: Option<(usize, u32)>,
}

/// How far to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// Score the whole password and name the counted terms (explanations).
    Explain,
    /// Only whether the password reaches this many points: scoring stops as soon as it has
    /// them, or can no longer get them (each character left is at most one point), and the
    /// points reported are then a bound on the same side of the goal as the true score.
    Reach(u32),
}

/// Runs the evaluation. `names` are the user's given names and surnames with their attribute,
/// `tenant` the tenant name if known.
pub(crate) fn evaluate<const LAZY: bool>(
    sets: &[Trie<'_, LAZY>],
    folding: Folding<'_>,
    password: &str,
    names: &[(Attribute, &str)],
    tenant: Option<&str>,
    goal: Goal,
) -> EntraOutcome {
    let explain = goal == Goal::Explain;
    let norm = Normalization::entra();
    let mut p = Zeroizing::new(String::with_capacity(password.len()));
    normalize_into(&norm, folding, password, &mut p);
    let mut scratch = String::new();
    let normalized = |s: &str, scratch: &mut String| {
        scratch.clear();
        normalize_into(&norm, folding, s, scratch);
    };
    for &(attribute, name) in names {
        normalized(name, &mut scratch);
        if scratch.chars().count() >= NAME_MIN_CHARS && p.contains(scratch.as_str()) {
            return EntraOutcome {
                points: 0,
                name: Some(attribute),
                terms: Vec::new(),
                whole_password: false,
            };
        }
    }
    let mut tenant_norm = String::new();
    if let Some(t) = tenant {
        normalized(t, &mut tenant_norm);
        if tenant_norm.chars().count() < NAME_MIN_CHARS {
            tenant_norm.clear();
        }
    }
    let mut points = 0;
    let mut terms = Vec::new();
    let mut whole_password = false;
    let mut pos = 0;
    while let Some(c) = p.get(pos..).and_then(|r| r.chars().next()) {
        if let Goal::Reach(enough) = goal
            && (points >= enough || points as usize + (p.len() - pos) < enough as usize)
        {
            break;
        }
        let mut best: Option<Candidate> = None;
        let mut consider = |cand: Candidate| {
            let better = match best {
                None => true,
                Some(b) => cand.edits < b.edits || (cand.edits == b.edits && cand.end > b.end),
            };
            if better {
                best = Some(cand);
            }
        };
        if !tenant_norm.is_empty()
            && p.get(pos..).is_some_and(|r| r.starts_with(tenant_norm.as_str()))
        {
            consider(Candidate { end: pos + tenant_norm.len(), edits: 0, term: None });
        }
        for (i, trie) in sets.iter().enumerate() {
            trie.matches_at(&p, pos, 1, &mut |m| {
                consider(Candidate { end: m.end, edits: m.edits, term: Some((i, m.term)) });
                true
            });
        }
        points += 1;
        match best {
            Some(b) => {
                if pos == 0 && b.end == p.len() {
                    whole_password = true;
                } else if explain {
                    terms.push(match b.term {
                        Some((set, term)) => {
                            sets.get(set).and_then(|s| s.term(term)).unwrap_or_default().to_string()
                        }
                        None => tenant_norm.clone(),
                    });
                }
                pos = b.end;
            }
            None => pos += c.len_utf8(),
        }
    }
    EntraOutcome { points, name: None, terms, whole_password }
}

#[cfg(all(test, feature = "compiler"))]
mod tests {
    use super::super::terms::TrieBuf;
    use super::*;
    use crate::ir::TermSet;
    use proptest::prelude::*;

    fn password() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof!["[a-d]{3,6}", "[a-e0@$ ]{0,3}"], 0..8)
            .prop_map(|parts| parts.concat())
    }

    proptest! {
        /// Stopping at the goal never changes which side of it a password is on.
        #[test]
        fn reaching_the_goal_early_agrees_with_the_full_score(
            terms in proptest::collection::vec("[a-d]{3,6}", 1..30),
            password in password(),
            goal in 1u32..12,
        ) {
            let set = TermSet::new(String::new(), Normalization::entra(), terms);
            let trie = TrieBuf::for_fuzzy(&set);
            let sets = [trie.view()];
            let run = |g| evaluate(&sets, Folding::new(&[]), &password, &[], Some("dcba"), g);
            let full = run(Goal::Explain);
            let early = run(Goal::Reach(goal));
            prop_assert_eq!(full.points >= goal, early.points >= goal);
        }
    }
}
