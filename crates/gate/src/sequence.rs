//! The order of queued changes: the hook gives each change a number from `QUEUE/sequence`, a
//! hybrid logical clock: the wall clock in nanoseconds, but never less than the last number
//! given plus one. Changes keep their order when the clock steps back (NTP, a VM restored),
//! and a lost or damaged file only falls back to the wall clock.

use super::files::FileError;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The number after `last` at wall-clock time `now_ns`.
pub fn advance(last: u64, now_ns: u64) -> u64 {
    now_ns.max(last.saturating_add(1))
}

/// Takes the next number: locks `QUEUE/sequence` (concurrent hooks wait their turn for a few
/// microseconds), reads the last number, writes and syncs the next one.
pub fn next(queue: &Path) -> Result<u64, FileError> {
    let path = queue.join("sequence");
    let io = |source| FileError::Io { path: path.clone(), source };
    let mut file = super::files::open_private(&path, 0o600)?;
    file.lock().map_err(io)?;
    let mut text = String::new();
    // A damaged file (nothing else writes it) costs the order against the wall clock only.
    let last = (&file)
        .take(64)
        .read_to_string(&mut text)
        .ok()
        .and_then(|_| text.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let next = advance(last, u64::try_from(now).unwrap_or(u64::MAX));
    // Fixed width: the new number always covers the old one entirely.
    file.rewind()
        .and_then(|()| file.write_all(format!("{next:020}\n").as_bytes()))
        .and_then(|()| file.sync_data())
        .map_err(io)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::advance;

    #[test]
    fn the_clock_stepping_back_never_reorders() {
        assert_eq!(advance(0, 5), 5);
        assert_eq!(advance(10, 5), 11, "the clock went back: one past the last");
        assert_eq!(advance(10, 10), 11);
        assert_eq!(advance(u64::MAX, 5), u64::MAX);
    }
}
