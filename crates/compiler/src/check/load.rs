//! Reads a policy file and, transitively, the files it imports.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::ast::File;
use crate::syntax::ast::{Item, TermsSource};
use crate::syntax::parse_recovering;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Largest policy file read, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

/// Largest term-list file read, in bytes.
pub const MAX_LIST_BYTES: usize = 64 << 20;

/// Reads a regular file, at most `max + 1` bytes (the caller reports a file over `max`):
/// `/dev/zero`, a FIFO or a directory named as a policy or list is refused before any read.
fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The folders a compilation may read files from: the policy file's own folder, and those
/// allowed with `--allow-path`, each with everything below it. Paths are compared once links
/// and `..` are resolved, so that neither leads out.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roots {
    folders: Vec<PathBuf>,
    /// The policy's own folder as the user named it (for messages).
    own: PathBuf,
}

impl Roots {
    pub(crate) fn new(policy: &Path, allowed: &[PathBuf]) -> Roots {
        let own = policy.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let folders = std::iter::once(own).chain(allowed.iter().map(PathBuf::as_path));
        Roots { folders: folders.map(resolved).collect(), own: own.to_path_buf() }
    }

    /// `None` when `path` lies in an allowed folder, else the help for the diagnostic.
    pub(crate) fn refuse(&self, path: &Path) -> Option<String> {
        let path = resolved(path);
        if self.folders.iter().any(|f| path.starts_with(f)) {
            return None;
        }
        let own = self.own.display();
        let outside = path.parent().unwrap_or(&path).display();
        Some(format!(
            "a policy may name files under its own folder `{own}` only; move the file there, or allow its folder with `policyc compile --allow-path {outside}`"
        ))
    }
}

/// `path` absolute, with links and `..` resolved as far as it exists.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    match (out.parent().map(std::fs::canonicalize), out.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        _ => out,
    }
}

/// Every file of one compilation, parsed. The first is the one the user named.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub files: Vec<(FileId, File)>,
    /// Term-list files, by the span of the path that names them.
    pub lists: HashMap<Span, FileId>,
    /// Some file could not be read or parsed: checking the rest would report phantom errors.
    pub incomplete: bool,
    /// The folders the policy may name files in (stores are checked against them too).
    pub roots: Roots,
}

/// Loads `path` and its imports. Files that fail to parse are reported and skipped.
pub(crate) fn load_path(
    path: &Path,
    roots: &Roots,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Loaded {
    let mut loaded = Loaded { roots: roots.clone(), ..Loaded::default() };
    let mut seen = Vec::new();
    load_one(path, None, sources, diags, &mut loaded, &mut seen);
    loaded
}

/// Loads a policy given as text (its imports are read relative to `path`'s folder).
pub(crate) fn load_text(
    path: &Path,
    text: &str,
    roots: &Roots,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Loaded {
    let mut loaded = Loaded { roots: roots.clone(), ..Loaded::default() };
    let mut seen = vec![canonical(path)];
    let id = sources.add(path, text);
    parse_and_follow(id, path, text, sources, diags, &mut loaded, &mut seen);
    loaded
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn load_one(
    path: &Path,
    imported_at: Option<Span>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    loaded: &mut Loaded,
    seen: &mut Vec<PathBuf>,
) {
    let key = canonical(path);
    if seen.contains(&key) {
        return;
    }
    seen.push(key);
    let fail = |message: String| match imported_at {
        Some(span) => Diagnostic::error(message, span, "imported here"),
        None => Diagnostic::global(message),
    };
    if let (Some(span), Some(help)) = (imported_at, loaded.roots.refuse(path)) {
        diags.push(
            Diagnostic::error(
                format!(
                    "policy file `{}` is outside the folders this policy may read",
                    path.display()
                ),
                span,
                "imported here",
            )
            .with_help(help),
        );
        loaded.incomplete = true;
        return;
    }
    let bytes = match read_bounded(path, MAX_SOURCE_BYTES) {
        Ok(b) => b,
        Err(e) => {
            diags.push(fail(format!("cannot read policy file `{}`: {e}", path.display())));
            loaded.incomplete = true;
            return;
        }
    };
    if bytes.len() > MAX_SOURCE_BYTES {
        diags.push(fail(format!(
            "policy file `{}` is larger than the limit of {MAX_SOURCE_BYTES} bytes",
            path.display()
        )));
        loaded.incomplete = true;
        return;
    }
    if let Some(version) = policyc_runtime::artifact::format_version(&bytes) {
        diags.push(fail(format!(
            "`{}` is a compiled policy (artifact format {version}), not policy source; `policyc inspect` shows what it holds",
            path.display()
        )));
        loaded.incomplete = true;
        return;
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let good = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
            let (line, col) =
                crate::span::SourceFile { path: path.to_path_buf(), text: good }.line_col(valid);
            diags.push(fail(format!(
                "policy file `{}` is not valid UTF-8 (line {line}, column {col}, byte {valid})",
                path.display()
            )));
            loaded.incomplete = true;
            return;
        }
    };
    let id = sources.add(path, text.clone());
    parse_and_follow(id, path, &text, sources, diags, loaded, seen);
}

fn parse_and_follow(
    id: FileId,
    path: &Path,
    text: &str,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    loaded: &mut Loaded,
    seen: &mut Vec<PathBuf>,
) {
    let (file, found) = parse_recovering(text, id);
    diags.extend(found);
    let Some(file) = file else {
        loaded.incomplete = true;
        return;
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let imports = file.imports.clone();
    for policy in &file.policies {
        for item in &policy.items {
            if let Item::Terms(t) = item
                && let TermsSource::File(f) = &t.source
            {
                load_list(&dir.join(&f.value), f.span, sources, diags, loaded);
            }
        }
    }
    loaded.files.push((id, file));
    for import in imports {
        load_one(&dir.join(&import.value), Some(import.span), sources, diags, loaded, seen);
    }
}

/// Reads a term list named at `span`; problems are reported there.
fn load_list(
    path: &Path,
    span: Span,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    loaded: &mut Loaded,
) {
    if let Some(help) = loaded.roots.refuse(path) {
        diags.push(
            Diagnostic::error(
                format!(
                    "term list `{}` is outside the folders this policy may read",
                    path.display()
                ),
                span,
                "named here",
            )
            .with_help(help),
        );
        return;
    }
    let bytes = match read_bounded(path, MAX_LIST_BYTES) {
        Ok(b) => b,
        Err(e) => {
            diags.push(Diagnostic::error(
                format!("cannot read term list `{}`: {e}", path.display()),
                span,
                "named here",
            ));
            return;
        }
    };
    if bytes.len() > MAX_LIST_BYTES {
        diags.push(Diagnostic::error(
            format!(
                "term list `{}` is larger than the limit of {MAX_LIST_BYTES} bytes",
                path.display()
            ),
            span,
            "named here",
        ));
        return;
    }
    match String::from_utf8(bytes) {
        Ok(text) => {
            let id = sources.add(path, text);
            loaded.lists.insert(span, id);
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..valid].iter().filter(|&&b| b == b'\n').count() + 1;
            diags.push(
                Diagnostic::error(
                    format!(
                        "term list `{}` is not valid UTF-8 (line {line}, byte {valid})",
                        path.display()
                    ),
                    span,
                    "named here",
                )
                .with_help("save the list as UTF-8"),
            );
        }
    }
}
