//! Distinguished names compared as Active Directory compares them (RFC 4514): attribute types
//! and values ignore case, spaces around `,`, `+` and `=` (and at either end) are insignificant,
//! `;` separates like `,`, and an escaped character (`\,` or `\2C`, UTF-8 in hex escapes) equals
//! itself. So `CN=Domain Admins, CN=Users, DC=corp` names the group `cn=domain admins,cn=users,dc=corp`
//! names. The comparison walks both names once and allocates nothing.

use super::fold::Folding;

/// One unit of a name: a separator, or a character of a type or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `,` or `;`: between relative names.
    Comma,
    /// `+`: between the parts of a multi-valued relative name.
    Plus,
    /// `=`: between a type and its value.
    Equals,
    /// A character of a type or value (escaped or not).
    Char(char),
}

/// The tokens of a name, with insignificant spaces dropped and escapes decoded.
struct Tokens<'a> {
    rest: std::str::Chars<'a>,
    /// Unescaped spaces seen since the last character: kept only if a character follows.
    spaces: u32,
    /// The token read after those spaces.
    held: Option<Token>,
    /// At the start or just after a separator: spaces here are dropped at once.
    boundary: bool,
}

impl<'a> Tokens<'a> {
    fn new(name: &'a str) -> Tokens<'a> {
        Tokens { rest: name.chars(), spaces: 0, held: None, boundary: true }
    }

    /// The character after a backslash: a hex-escaped UTF-8 sequence, or the next character.
    fn escaped(&mut self) -> char {
        let Some(lead) = self.hex_pair() else { return self.rest.next().unwrap_or('\\') };
        let len = match lead {
            0..=0x7f => 1,
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return char::REPLACEMENT_CHARACTER,
        };
        let mut buf = [lead, 0, 0, 0];
        for slot in buf.iter_mut().take(len).skip(1) {
            let mut look = self.rest.clone();
            if look.next() != Some('\\') {
                return char::REPLACEMENT_CHARACTER;
            }
            self.rest = look;
            match self.hex_pair() {
                Some(b) => *slot = b,
                None => return char::REPLACEMENT_CHARACTER,
            }
        }
        std::str::from_utf8(buf.get(..len).unwrap_or_default())
            .ok()
            .and_then(|s| s.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    /// Two hex digits next, consumed; nothing consumed otherwise.
    fn hex_pair(&mut self) -> Option<u8> {
        let mut look = self.rest.clone();
        let high = look.next()?.to_digit(16)?;
        let low = look.next()?.to_digit(16)?;
        self.rest = look;
        Some((high * 16 + low) as u8)
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        loop {
            match self.held {
                Some(Token::Char(_)) if self.spaces > 0 => {
                    self.spaces -= 1;
                    return Some(Token::Char(' '));
                }
                Some(t) => {
                    self.held = None;
                    self.spaces = 0;
                    self.boundary = !matches!(t, Token::Char(_));
                    return Some(t);
                }
                None => {}
            }
            let token = match self.rest.next()? {
                ',' | ';' => Token::Comma,
                '+' => Token::Plus,
                '=' => Token::Equals,
                ' ' => {
                    if !self.boundary {
                        self.spaces += 1;
                    }
                    continue;
                }
                '\\' => Token::Char(self.escaped()),
                c => Token::Char(c),
            };
            self.held = Some(token);
        }
    }
}

/// Whether two distinguished names name the same entry, as Active Directory compares them.
pub fn eq(folding: Folding<'_>, a: &str, b: &str) -> bool {
    let fold = |t: Token| match t {
        Token::Char(c) => Token::Char(folding.fold(c)),
        t => t,
    };
    Tokens::new(a).map(fold).eq(Tokens::new(b).map(fold))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        eq(Folding::new(&[]), a, b)
    }

    #[test]
    fn spaces_around_separators_and_case_do_not_matter() {
        let dn = "CN=Domain Admins,CN=Users,DC=corp,DC=example";
        assert!(same(dn, "cn=domain admins, cn=users, dc=corp, dc=example"));
        assert!(same(dn, "  CN = Domain Admins ; CN=Users,DC=corp,DC=example  "));
        assert!(!same(dn, "CN=DomainAdmins,CN=Users,DC=corp,DC=example"), "inner spaces count");
        assert!(!same(dn, "CN=Domain  Admins,CN=Users,DC=corp,DC=example"));
        assert!(!same(dn, "CN=Domain Admins,CN=Users,DC=corp"));
    }

    #[test]
    fn escapes_equal_their_characters() {
        assert!(same(r"CN=Smith\, John,DC=x", r"cn=smith\2c john,dc=x"));
        assert!(!same(r"CN=Smith\, John,DC=x", "CN=Smith, John,DC=x"), "an escaped comma is text");
        assert!(same(r"CN=R\C3\A9sum\C3\A9,DC=x", "CN=Résumé,DC=x"));
        assert!(same(r"CN=\ lead,DC=x", r"CN=\20lead,DC=x"), "an escaped space is kept");
        assert!(!same(r"CN=\ lead,DC=x", "CN=lead,DC=x"));
        assert!(same(r"CN=bad\C3,DC=x", "CN=bad\u{FFFD},DC=x"), "broken UTF-8 never panics");
        assert!(same("CN=a\\", "CN=a\\"));
    }
}
