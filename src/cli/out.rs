//! Standard output for every command: a write never panics. The first write error is kept and
//! the rest of the output dropped, so that a command goes on to its true exit code (`check` still
//! reads every line: a noncompliant one after the reader went away still exits 1). At the end,
//! [`finish`] turns a failed write into exit 2 with a message; a reader that closed the pipe
//! (`| head -1`) ends quietly with the command's own code.

use std::io::Write as _;
use std::sync::OnceLock;

/// The first write error: its kind and text.
static FAILED: OnceLock<(std::io::ErrorKind, String)> = OnceLock::new();

/// Writes `args` to standard output, unless a write already failed.
pub(crate) fn print(args: std::fmt::Arguments<'_>) {
    if FAILED.get().is_some() {
        return;
    }
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        let _ = FAILED.set((e.kind(), e.to_string()));
    }
}

/// Whether the output is gone (a command that only produces output may stop early).
pub(crate) fn closed() -> bool {
    FAILED.get().is_some()
}

/// Flushes, and returns `code`, or [`super::EXIT_ERROR`] with a message when output was lost
/// (a full disk, a broken device); a closed pipe keeps `code`.
pub(crate) fn finish(code: u8) -> u8 {
    if FAILED.get().is_none()
        && let Err(e) = std::io::stdout().lock().flush()
    {
        let _ = FAILED.set((e.kind(), e.to_string()));
    }
    match FAILED.get() {
        None => code,
        Some((std::io::ErrorKind::BrokenPipe, _)) => code,
        Some((_, e)) => {
            eprintln!("error: cannot write to standard output: {e}; the output is incomplete");
            super::EXIT_ERROR
        }
    }
}

/// Standard output as a [`std::io::Write`] for code that writes through one: never fails, see
/// [`print`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stdout;

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if FAILED.get().is_none()
            && let Err(e) = std::io::stdout().lock().write_all(buf)
        {
            let _ = FAILED.set((e.kind(), e.to_string()));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `print!` to standard output through [`print`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!($($arg)*))
    };
}

/// `println!` to standard output through [`print`].
macro_rules! outln {
    () => {
        $crate::cli::out::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}
