//! Checks: names, attributes, bounds, regexes, composition and conflicts, all reported at once;
//! then lowering of the checked policy into the rule [`Program`].

mod lints;
pub(crate) mod load;
mod lower;
pub(crate) mod sets;
pub(crate) mod terms;

use crate::automata::DfaLimits;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::{SourceMap, Span};
use crate::syntax::ast::{Item, Policy};
use load::Loaded;
use policyc_runtime::ir::{self, Program};
use sets::{Scope, Set};
use std::collections::HashMap;

/// A checked policy: its program and the automata its regex rules need, in `dfa` order.
#[derive(Debug)]
pub(crate) struct Checked {
    pub program: Program,
    pub dfas: Vec<Vec<u8>>,
}

/// A rule with where it came from, during resolution.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub rule: ir::Rule,
    /// The whole rule.
    pub span: Span,
    /// The policy that defined (or overrode) it.
    pub origin: String,
}

/// A policy resolved with its bases.
#[derive(Debug, Clone)]
struct Resolved {
    description: String,
    reference: String,
    scope: Scope,
    rules: Vec<Placed>,
}

/// Selects the policy to compile, resolves it and lowers it. Returns `None` when any error was
/// reported.
pub(crate) fn check(
    loaded: &Loaded,
    sources: &SourceMap,
    wanted: Option<&str>,
    limits: DfaLimits,
    diags: &mut Diagnostics,
) -> Option<Checked> {
    let mut policies: HashMap<&str, &Policy> = HashMap::new();
    for (_, file) in &loaded.files {
        for p in &file.policies {
            if let Some(first) = policies.get(p.name.value.as_str()) {
                let (line, _) = sources
                    .get(first.name.span.file)
                    .map_or((0, 0), |f| f.line_col(first.name.span.start));
                diags.push(
                    Diagnostic::error(
                        format!("policy `{}` is defined twice", p.name.value),
                        p.name.span,
                        "defined again here",
                    )
                    .with_help(format!(
                        "the first definition is at line {line}; rename one of them"
                    )),
                );
                continue;
            }
            policies.insert(&p.name.value, p);
        }
    }
    let target = select(loaded, sources, &policies, wanted, diags)?;
    let mut r = lower::Lowerer::new(sources, limits);
    let mut resolver = Resolver {
        policies: &policies,
        lists: &loaded.lists,
        roots: &loaded.roots,
        sources,
        lowerer: &mut r,
        stack: Vec::new(),
        done: HashMap::new(),
        diags,
    };
    let resolved = resolver.resolve(target, None);
    let resolved = resolved?;
    let enforcing = resolved.rules.iter().any(|p| p.rule.severity == ir::Severity::Enforce);
    let checked = r.finish(target, resolved.description, resolved.reference, resolved.rules, diags);
    // Said of a policy that otherwise compiles (a rule with an error is not counted).
    if !enforcing
        && !diags.has_errors()
        && let Some(policy) = policies.get(target)
    {
        diags.push(
            Diagnostic::warning(
                format!("policy `{target}` has no enforce rule: it accepts every password"),
                policy.name.span,
                "nothing here refuses a password",
            )
            .with_help("add a `rule`, or make an `audit rule` a `rule`"),
        );
    }
    if diags.has_errors() { None } else { checked }
}

fn select<'a>(
    loaded: &'a Loaded,
    sources: &SourceMap,
    policies: &HashMap<&'a str, &'a Policy>,
    wanted: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<&'a str> {
    if let Some(name) = wanted {
        return match policies.get_key_value(name) {
            Some((k, _)) => Some(k),
            None => {
                let mut names: Vec<&str> = policies.keys().copied().collect();
                names.sort_unstable();
                let help = match sets::suggest(name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("defined policies: {}", quoted(&names)),
                };
                let within = loaded
                    .files
                    .first()
                    .and_then(|(id, _)| sources.get(*id))
                    .map(|f| format!(" in `{}` or the files it imports", f.path.display()))
                    .unwrap_or_default();
                let message = format!("no policy named `{name}`{within}");
                diags.push(Diagnostic::global(message).with_help(help));
                None
            }
        };
    }
    let (id, main) = loaded.files.first()?;
    let path = sources.get(*id).map(|f| f.path.display().to_string()).unwrap_or_default();
    match main.policies.as_slice() {
        [only] => Some(only.name.value.as_str()),
        [] => {
            diags.push(Diagnostic::global(format!(
                "`{path}` defines no policy; write `policy NAME {{ ... }}`"
            )));
            None
        }
        many => {
            let names: Vec<&str> = many.iter().map(|p| p.name.value.as_str()).collect();
            diags.push(
                Diagnostic::global(format!(
                    "`{path}` defines {} policies: {}",
                    names.len(),
                    quoted(&names)
                ))
                .with_help("choose one with `--policy-name NAME`"),
            );
            None
        }
    }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

struct Resolver<'a, 'l> {
    policies: &'a HashMap<&'a str, &'a Policy>,
    lists: &'a HashMap<Span, crate::span::FileId>,
    roots: &'a load::Roots,
    sources: &'a SourceMap,
    lowerer: &'l mut lower::Lowerer<'a>,
    stack: Vec<String>,
    done: HashMap<String, Option<Resolved>>,
    diags: &'l mut Diagnostics,
}

impl<'a> Resolver<'a, '_> {
    fn resolve(&mut self, name: &str, used_at: Option<Span>) -> Option<Resolved> {
        if let Some(r) = self.done.get(name) {
            return r.clone();
        }
        let Some(policy) = self.policies.get(name).copied() else {
            if let Some(span) = used_at {
                let known = self.policies.keys().copied();
                self.diags.push(sets::unknown_name("policy", name, span, known));
            }
            return None;
        };
        if self.stack.iter().any(|s| s == name) {
            let chain = format!("{} -> {name}", self.stack.join(" -> "));
            let span = used_at.unwrap_or(policy.name.span);
            self.diags.push(Diagnostic::error(
                format!("policy `{name}` extends itself: {chain}"),
                span,
                "cycle closes here",
            ));
            return None;
        }
        self.stack.push(name.to_string());
        // When the base cannot be resolved (reported already), the policy's own items are still
        // checked, against an empty base, so that all of its errors are reported at once.
        let mut broken = false;
        let base = match &policy.extends {
            Some(b) => match self.resolve(&b.value, Some(b.span)) {
                Some(r) => Some((b.value.clone(), r)),
                None => {
                    broken = true;
                    None
                }
            },
            None => None,
        };
        let base_name = policy.extends.as_ref().map(|b| b.value.as_str());
        let mut state = match base {
            Some((_, r)) => r,
            None => Resolved {
                description: String::new(),
                reference: String::new(),
                scope: Scope::new(),
                rules: Vec::new(),
            },
        };
        let ctx = PolicyCtx { name, base: base_name, broken };
        self.items(&policy.items, &[], &mut state, &ctx);
        if broken {
            self.stack.pop();
            self.done.insert(name.to_string(), None);
            return None;
        }
        self.stack.pop();
        self.done.insert(name.to_string(), Some(state.clone()));
        Some(state)
    }

    fn items(
        &mut self,
        items: &[Item],
        conds: &[ir::Condition],
        state: &mut Resolved,
        ctx: &PolicyCtx<'_>,
    ) {
        for item in items {
            match item {
                Item::Description(s) => state.description = s.value.clone(),
                Item::Reference(s) => state.reference = s.value.clone(),
                Item::Class(c) => {
                    if state.scope.is_defined(&c.name.value) {
                        let builtin = sets::BUILTINS.iter().any(|b| b.0 == c.name.value);
                        self.redefined("class", &c.name, builtin);
                        continue;
                    }
                    if let Some(set) = state.scope.eval(&c.set, self.diags) {
                        if set.ranges().is_empty() {
                            self.diags.push(Diagnostic::warning(
                                format!("class `{}` is empty", c.name.value),
                                c.set.span(),
                                "this set contains no character",
                            ));
                        }
                        state.scope.define(&c.name.value, set);
                    }
                }
                Item::Rule(r) => {
                    let Some(rule) = self.lowerer.rule(r, conds, &state.scope, self.diags) else {
                        continue;
                    };
                    if let Some(existing) = state.rules.iter().find(|p| p.rule.id == rule.id) {
                        let d = Diagnostic::error(
                            format!("duplicate rule id `{}`", rule.id),
                            r.id.span,
                            "this id is already used",
                        );
                        let d = if existing.origin != ctx.name {
                            d.with_help(format!(
                                "rule `{}` comes from `{}`; write `override rule {}` to replace it",
                                rule.id, existing.origin, rule.id
                            ))
                        } else {
                            d.with_help(
                                "rule ids must be unique within a policy; rename one of them",
                            )
                        };
                        self.diags.push(d);
                        continue;
                    }
                    state.rules.push(Placed { rule, span: r.span, origin: ctx.name.to_string() });
                }
                Item::Override(r) => {
                    let Some(pos) = self.base_rule(state, &r.id.value, r.id.span, ctx, "override")
                    else {
                        continue;
                    };
                    if let Some(rule) = self.lowerer.rule(r, conds, &state.scope, self.diags) {
                        state.rules[pos] =
                            Placed { rule, span: r.span, origin: ctx.name.to_string() };
                    }
                }
                Item::Drop(d) => {
                    if let Some(pos) = self.base_rule(state, &d.id.value, d.id.span, ctx, "drop") {
                        state.rules.remove(pos);
                    }
                }
                Item::Terms(t) => {
                    if state.scope.has_list(&t.name.value) {
                        self.redefined("term list", &t.name, false);
                        continue;
                    }
                    if let Some(list) = terms::read_list(t, self.lists, self.sources, self.diags) {
                        if list.is_empty() {
                            self.diags.push(Diagnostic::warning(
                                format!("term list `{}` is empty", t.name.value),
                                t.name.span,
                                "no term",
                            ));
                        }
                        state.scope.define_list(&t.name.value, list);
                    }
                }
                Item::Store(s) => {
                    if state.scope.store(&s.name.value).is_some() {
                        self.redefined("store", &s.name, false);
                        continue;
                    }
                    let dir = self
                        .sources
                        .get(s.path.span.file)
                        .and_then(|f| f.path.parent())
                        .map(std::path::Path::to_path_buf)
                        .unwrap_or_default();
                    let joined = dir.join(&s.path.value);
                    if let Some(help) = self.roots.refuse(&joined) {
                        self.diags.push(
                            Diagnostic::error(
                                format!(
                                    "breached-password store `{}` is outside the folders this policy may read",
                                    joined.display()
                                ),
                                s.path.span,
                                "named here",
                            )
                            .with_help(help),
                        );
                    }
                    let path = std::path::absolute(&joined).unwrap_or(joined);
                    state.scope.define_store(&s.name.value, path.to_string_lossy().into_owned());
                }
                Item::Normalization(n) => {
                    if state.scope.has_norm(&n.name.value) {
                        let builtin = policyc_runtime::ir::Normalization::BUILTIN
                            .contains(&n.name.value.as_str());
                        self.redefined("normalization", &n.name, builtin);
                        continue;
                    }
                    if let Some(norm) = terms::normalization(n, &state.scope, self.diags) {
                        state.scope.define_norm(norm);
                    }
                }
                Item::When(w) => {
                    let mut all = conds.to_vec();
                    all.extend(
                        w.conditions.iter().filter_map(|c| self.lowerer.condition(c, self.diags)),
                    );
                    self.items(&w.items, &all, state, ctx);
                }
            }
        }
    }

    /// Reports a class, list or normalization defined twice (or shadowing a built-in).
    fn redefined(&mut self, what: &str, name: &crate::syntax::ast::Ident, builtin: bool) {
        let is = if builtin { format!("a built-in {what}") } else { "already defined".to_string() };
        self.diags.push(Diagnostic::error(
            format!("{what} `{}` is {is}", name.value),
            name.span,
            "choose another name",
        ));
    }

    /// Position of a base policy's rule that `override`/`drop` names.
    fn base_rule(
        &mut self,
        state: &Resolved,
        id: &str,
        span: Span,
        ctx: &PolicyCtx<'_>,
        verb: &str,
    ) -> Option<usize> {
        let Some(base) = ctx.base else {
            self.diags.push(
                Diagnostic::error(
                    format!("`{verb} rule` needs a base policy"),
                    span,
                    format!("policy `{}` extends nothing", ctx.name),
                )
                .with_help(format!("write `policy {} extends BASE {{ ... }}`", ctx.name)),
            );
            return None;
        };
        let pos = state.rules.iter().position(|p| p.rule.id.as_str() == id && p.origin != ctx.name);
        if pos.is_none() && !ctx.broken {
            let known: Vec<&str> = state.rules.iter().map(|p| p.rule.id.as_str()).collect();
            let d = Diagnostic::error(
                format!("no rule `{id}` in base policy `{base}` to {verb}"),
                span,
                "unknown rule id",
            );
            let d = match sets::suggest(id, known.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("rules of `{base}`: {}", quoted(&known))),
            };
            self.diags.push(d);
        }
        pos
    }
}

struct PolicyCtx<'n> {
    name: &'n str,
    base: Option<&'n str>,
    /// The base failed to resolve: its rules are unknown, so `override`/`drop` are not checked.
    broken: bool,
}

/// The character set of a class in a finished program.
pub(crate) fn class_set(program: &Program, id: ir::ClassId) -> Set {
    program
        .classes
        .get(id.0 as usize)
        .map_or_else(regex_syntax::hir::ClassUnicode::empty, |c| sets::from_ranges(&c.ranges))
}
