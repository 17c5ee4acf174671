//! Measures over the password's code units ([`Predicate::Measured`]: `count SET in bytes`,
//! `longest repeat in bytes`, `distinct in utf16 units`, `longest run of SET`). A unit is in a
//! class when the character it belongs to is: `é` in bytes is two units of `non_ascii`.
//!
//! [`Predicate::Measured`]: crate::ir::Predicate::Measured

use crate::ir::{Measure, Unit};
use zeroize::Zeroizing;

/// The code units of `c` in `unit` (at most four), and how many there are.
fn units_of(c: char, unit: Unit) -> ([u32; 4], usize) {
    let mut out = [0u32; 4];
    let n = match unit {
        Unit::Characters => {
            out[0] = c as u32;
            1
        }
        Unit::Bytes => {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            for (o, b) in out.iter_mut().zip(bytes) {
                *o = u32::from(*b);
            }
            bytes.len()
        }
        Unit::Utf16 => {
            let mut buf = [0u16; 2];
            let units = c.encode_utf16(&mut buf);
            for (o, u) in out.iter_mut().zip(units.iter()) {
                *o = u32::from(*u);
            }
            units.len()
        }
    };
    (out, n)
}

/// The password's code units in `unit`, in order.
fn units(password: &str, unit: Unit) -> impl Iterator<Item = u32> + '_ {
    password.chars().flat_map(move |c| {
        let (units, n) = units_of(c, unit);
        units.into_iter().take(n)
    })
}

/// What `measure` finds in `password` counted in `unit`: a count, a number of different units,
/// or the longest run. `in_class(c, class)` says whether character `c` is in a class.
pub(crate) fn value(
    unit: Unit,
    measure: &Measure,
    password: &str,
    in_class: impl Fn(char, crate::ir::ClassId) -> bool,
) -> u32 {
    match measure {
        Measure::Count { class, .. } => count(unit, Some(*class), password, in_class),
        Measure::MaxRun { class, .. } => {
            let (mut run, mut best) = (0u32, 0u32);
            for c in password.chars() {
                run = if in_class(c, *class) { run + unit.of(c) } else { 0 };
                best = best.max(run);
            }
            best
        }
        Measure::MaxRepeat(_) => longest(units(password, unit), |a, b| a == b),
        Measure::MaxSequence(_) => {
            let up = longest(units(password, unit), |a, b| a.checked_add(1) == Some(b));
            let down = longest(units(password, unit), |a, b| a.checked_sub(1) == Some(b));
            up.max(down)
        }
        Measure::Distinct(_) => {
            let mut all: Zeroizing<Vec<u32>> = Zeroizing::new(units(password, unit).collect());
            all.sort_unstable();
            all.dedup();
            u32::try_from(all.len()).unwrap_or(u32::MAX)
        }
    }
}

/// The code units of the characters of `class` (of every character: `None`), for counts and
/// `N per SET in UNIT` awards.
pub(crate) fn count(
    unit: Unit,
    class: Option<crate::ir::ClassId>,
    password: &str,
    in_class: impl Fn(char, crate::ir::ClassId) -> bool,
) -> u32 {
    password.chars().filter(|c| class.is_none_or(|k| in_class(*c, k))).map(|c| unit.of(c)).sum()
}

/// The longest stretch of units in which each follows the one before as `next` says.
fn longest(units: impl Iterator<Item = u32>, next: impl Fn(u32, u32) -> bool) -> u32 {
    let (mut prev, mut run, mut best) = (None, 0u32, 0u32);
    for u in units {
        run = if prev.is_some_and(|p| next(p, u)) { run + 1 } else { 1 };
        best = best.max(run);
        prev = Some(u);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Bounds, ClassId};

    fn non_ascii(c: char, _: ClassId) -> bool {
        !c.is_ascii()
    }

    #[test]
    fn bytes_see_inside_characters() {
        // U+2082 is e2 82 82: a repeat of two bytes; U+2083 (e2 82 83) an ascending pair.
        assert_eq!(value(Unit::Bytes, &Measure::MaxRepeat(1), "a\u{2082}", non_ascii), 2);
        assert_eq!(value(Unit::Characters, &Measure::MaxRepeat(1), "a\u{2082}", non_ascii), 1);
        assert_eq!(value(Unit::Bytes, &Measure::MaxSequence(1), "\u{2083}", non_ascii), 2);
        // `ééé` repeats a character, not a byte (c3 a9 c3 a9 c3 a9).
        assert_eq!(value(Unit::Bytes, &Measure::MaxRepeat(1), "ééé", non_ascii), 1);
        assert_eq!(value(Unit::Characters, &Measure::MaxRepeat(1), "ééé", non_ascii), 3);
    }

    #[test]
    fn counts_and_runs_weigh_each_character_by_its_units() {
        let class = ClassId(0);
        let count = Measure::Count { class, bounds: Bounds { min: 0, max: None } };
        assert_eq!(value(Unit::Bytes, &count, "aé€😀", non_ascii), 2 + 3 + 4);
        assert_eq!(value(Unit::Utf16, &count, "aé€😀", non_ascii), 1 + 1 + 2);
        let run = Measure::MaxRun { class, max: 0 };
        assert_eq!(value(Unit::Bytes, &run, "éa€😀b", non_ascii), 7);
        assert_eq!(value(Unit::Characters, &run, "éa€😀b", non_ascii), 2);
        let distinct = Measure::Distinct(Bounds { min: 0, max: None });
        // U+2082 U+2088 U+2208 U+2202: four characters, three different bytes.
        assert_eq!(value(Unit::Bytes, &distinct, "\u{2082}\u{2088}\u{2208}\u{2202}", non_ascii), 3);
        assert_eq!(value(Unit::Characters, &distinct, "abca", non_ascii), 3);
        assert_eq!(value(Unit::Bytes, &distinct, "", non_ascii), 0);
    }
}
