//! Reading passwords (stdin lines or JSON lines) and user attributes, without ever copying a
//! password into an unwiped buffer we own.

use policyc_runtime::Context;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::BufRead;
use zeroize::Zeroizing;

/// Longest input line kept in memory; longer lines are skipped to their end and refused.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// One password to check, or why it could not be read.
pub(crate) struct Entry {
    pub password: Result<Zeroizing<String>, Problem>,
    pub ctx: Context,
    /// The entry's `id` (JSON lines), passed through to its result.
    pub id: Option<EntryId>,
}

/// An input entry's `id`: a string or a number, given back as it came.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum EntryId {
    Text(String),
    Number(serde_json::Number),
}

/// Why an input line is not a password we can check.
#[derive(Debug)]
pub(crate) enum Problem {
    /// Longer than [`MAX_LINE_BYTES`]: refused like any oversized password.
    TooLong,
    /// An input error (bad UTF-8, bad JSON, unknown attribute): reported, exit code 2.
    Invalid(String),
}

/// Parses `--user ATTR=VALUE` arguments.
pub(crate) fn user_context(args: &[String]) -> Result<Context, String> {
    let mut ctx = Context::new();
    for a in args {
        let (name, value) = a.split_once('=').ok_or_else(|| {
            format!("error: `--user {a}`: expected ATTR=VALUE, e.g. --user sAMAccountName=jdoe")
        })?;
        ctx.add_named(name, value).map_err(|e| format!("error: `--user {name}=...`: {e}"))?;
    }
    Ok(ctx)
}

/// Whether a path argument names standard input or output (`-`).
pub(crate) fn is_stdio(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

/// The largest text read from standard input in place of a file (a policy, a configuration).
const MAX_TEXT_BYTES: u64 = 64 << 20;

/// A text file's content, or standard input's for `-`; errors name the file.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, String> {
    let (bytes, name) = read_bytes(path)?;
    if let Some(version) = policyc_runtime::artifact::format_version(&bytes) {
        return Err(format!(
            "error: {name} is a compiled policy (artifact format {version}), not policy source; `policyc inspect` shows what it holds"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("error: {name} is not valid UTF-8"))
}

/// A file's bytes, or standard input's for `-` (at most 64 MiB), with how errors name it.
pub(crate) fn read_bytes(path: &std::path::Path) -> Result<(Vec<u8>, String), String> {
    use std::io::Read as _;
    Ok(if is_stdio(path) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("error: cannot read standard input: {e}"))?;
        if bytes.len() as u64 > MAX_TEXT_BYTES {
            return Err(format!("error: standard input is larger than {MAX_TEXT_BYTES} bytes"));
        }
        (bytes, "standard input".to_string())
    } else {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))?;
        (bytes, format!("`{}`", path.display()))
    })
}

/// A password typed at the terminal: read without echo after a prompt on the terminal, into a
/// wiped buffer. `None` when standard input is not a terminal (then its lines are read).
pub(crate) fn from_terminal() -> Result<Option<Zeroizing<Vec<u8>>>, String> {
    use std::io::IsTerminal as _;
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let typed = prompt_without_echo("Password (not shown): ")
        .map_err(|e| format!("error: cannot read the password from the terminal: {e}"))?;
    Ok(Some(Zeroizing::new(typed.into_bytes())))
}

/// Turns the terminal's echo off *before* the prompt shows, then reads the line (rpassword),
/// then restores the terminal. rpassword alone turns echo off after printing the prompt, so a
/// password typed as soon as the prompt shows could be echoed in between.
#[cfg(unix)]
fn prompt_without_echo(prompt: &str) -> std::io::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let original = tcgetattr(&stdin)?;
    let mut quiet = original.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
    let typed = rpassword::prompt_password(prompt);
    let restored = tcsetattr(&stdin, OptionalActions::Now, &original);
    let typed = typed?;
    restored?;
    Ok(typed)
}

/// The Windows console: rpassword turns its echo off.
#[cfg(not(unix))]
fn prompt_without_echo(prompt: &str) -> std::io::Result<String> {
    rpassword::prompt_password(prompt)
}

/// Says so when a password ends with a space or a tab (easy to type by mistake, invisible).
pub(crate) fn warn_trailing_space(password: &[u8]) {
    if password.ends_with(b" ") || password.ends_with(b"\t") {
        eprintln!("warning: the password ends with a space or tab; it is checked as given");
    }
}

/// Reads one line (without its `\n` or `\r\n`) into a wiped buffer. `None` at end of input.
pub(crate) fn read_line(
    r: &mut impl BufRead,
) -> std::io::Result<Option<Result<Zeroizing<Vec<u8>>, Problem>>> {
    let mut line = Zeroizing::new(Vec::new());
    let mut too_long = false;
    let mut any = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(buf.len());
        r.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if too_long {
        return Ok(Some(Err(Problem::TooLong)));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(Ok(line)))
}

/// A line's bytes as a password.
pub(crate) fn utf8(bytes: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>, Problem> {
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_string())),
        Err(e) => Err(Problem::Invalid(format!("not valid UTF-8 (at byte {})", e.valid_up_to()))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEntry {
    password: Zeroizing<String>,
    #[serde(default)]
    user: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    tenant: Option<String>,
    /// The caller's own key for the entry (a request id, a row number): given back.
    #[serde(default)]
    id: Option<EntryId>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Parses one JSON-lines entry; `base` holds the `--user` attributes it adds to.
pub(crate) fn json_entry(line: &[u8], base: &Context) -> Entry {
    let parsed: Result<JsonEntry, _> = serde_json::from_slice(line);
    let entry = match parsed {
        Ok(e) => e,
        Err(e) => {
            // serde_json's messages quote no input for these errors, only positions and kinds.
            let msg = format!("not a valid entry: {}", json_problem(&e));
            return Entry { password: Err(Problem::Invalid(msg)), ctx: base.clone(), id: None };
        }
    };
    let mut ctx = base.clone();
    if let Some(t) = entry.tenant {
        ctx.set_tenant(t);
    }
    for (name, values) in entry.user {
        let values = match values {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        };
        for v in values {
            if let Err(e) = ctx.add_named(&name, v) {
                return Entry { password: Err(Problem::Invalid(e.to_string())), ctx, id: entry.id };
            }
        }
    }
    Entry { password: Ok(entry.password), ctx, id: entry.id }
}

/// A JSON error described by kind and position only: serde_json can quote input (a password) in
/// "invalid type" messages, so those are never shown.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax => "malformed JSON",
        Category::Eof => "incomplete JSON",
        Category::Io => "read error",
        Category::Data => {
            "expected {\"password\": \"...\", \"user\": {\"ATTR\": \"VALUE\"}, \"tenant\": \"...\", \"id\": \"...\"}"
        }
    };
    format!("{what} at column {}", e.column())
}
