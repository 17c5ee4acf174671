//! The practical floor: the Office 365 rule written by hand as one pass over the bytes, as in
//! `specs/perf-anchors.md` (a 256-entry class table, early exit on a refused byte).

/// The 32 symbols the cloud allows.
const SYMBOLS: &[u8] = b"@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<>";

/// a-z → 1, A-Z → 2, 0-9 → 4, symbols → 8, the space → 16 (allowed, no class), else 0 (refused).
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() {
            1
        } else if c.is_ascii_uppercase() {
            2
        } else if c.is_ascii_digit() {
            4
        } else if c == b' ' {
            16
        } else {
            0
        };
        b += 1;
    }
    let mut i = 0;
    while i < SYMBOLS.len() {
        t[SYMBOLS[i] as usize] = 8;
        i += 1;
    }
    t
};

/// The hand-written pass, in four copies at four places in the binary: how fast one loop runs
/// depends on where the linker put it (up to 1.8× between two builds of the same code), so the
/// floor is the fastest copy.
macro_rules! copies {
    ($($name:ident),*) => {$(
        /// The shipped `office365` policy: 8 to 256 characters, all allowed, three of the four
        /// classes.
        #[inline(never)]
        pub fn $name(pw: &[u8]) -> bool {
            // Non-ASCII bytes are refused below, so bytes are characters.
            if pw.len() < 8 || pw.len() > 256 {
                return false;
            }
            let mut seen = 0u8;
            for &b in pw {
                let c = CLASS[b as usize];
                if c == 0 {
                    return false;
                }
                seen |= c;
            }
            (seen & 15).count_ones() >= 3
        }
    )*};
}

copies!(office365, office365_b, office365_c, office365_d);

/// Every copy of the pass.
pub const COPIES: [fn(&[u8]) -> bool; 4] = [office365, office365_b, office365_c, office365_d];
