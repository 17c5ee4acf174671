//! POSIX basic regular expressions as glibc reads them with `regcomp(&re, token, REG_ICASE)` in
//! the C locale, and `regexec` finds them in a text: what OpenLDAP's ppm does with each token
//! of the RDN and of `checkAttributes` (`containsRDN`, `containsAttributes`), so that
//! `not contains user.ATTR in bytes as patterns` gives ppm's verdicts.
//!
//! Over bytes, ASCII letters folded to upper case in the pattern and the text (glibc's
//! `build_upper_buffer`, the C locale's `toupper`), except the byte after a backslash, which
//! glibc keeps as written (so `\A` matches `a` and `A`, and `\a` matches nothing). Read as glibc's `RE_SYNTAX_POSIX_BASIC`: `.`, `[…]` with
//! classes, equivalence classes and collating symbols of one byte, `*`, `\{m,n\}`, `\(…\)`,
//! `^` and `$` where they anchor, and GNU's `\+ \? \| \< \> \b \B \w \W \s \S \` \'`; what
//! glibc refuses to compile is [`Search::Invalid`] (ppm then stops looking). A back-reference
//! (`\1`–`\9`) needs backtracking, which this does not do: [`Search::Unsupported`].
//!
//! Matching is a breadth-first walk of the automaton (no backtracking): time bounded by the
//! text's length times the automaton's size, which is capped ([`MAX_STATES`]).

/// The most automaton states a token may expand to (`a\{9999\}` would be more): past it,
/// [`Search::Unsupported`].
pub const MAX_STATES: usize = 4_096;

/// glibc's `RE_DUP_MAX`: a larger count is an error (`REG_ESIZE`).
const DUP_MAX: u32 = 0x7fff;

/// What looking for a pattern found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// The pattern occurs in the text.
    Found,
    /// It does not.
    NotFound,
    /// glibc would not compile it (`regcomp` fails).
    Invalid,
    /// A back-reference, or an automaton larger than [`MAX_STATES`].
    Unsupported,
}

/// Looks for `pattern` in `text` as glibc's `regexec` does after `regcomp(…, REG_ICASE)`.
pub fn search(pattern: &[u8], text: &[u8]) -> Search {
    let node = match Parser::new(pattern).parse() {
        Ok(node) => node,
        Err(Problem::Invalid) => return Search::Invalid,
        Err(Problem::Unsupported) => return Search::Unsupported,
    };
    let mut program = Program { states: Vec::new() };
    let Some(start) = program.compile(&node) else { return Search::Unsupported };
    match program.found(start, text) {
        true => Search::Found,
        false => Search::NotFound,
    }
}

/// Why a pattern is not searched.
enum Problem {
    Invalid,
    Unsupported,
}

/// A zero-width condition on the bytes around a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Assertion {
    /// `^` and `` \` ``: the start (no `REG_NEWLINE`, no `REG_NOTBOL`).
    Start,
    /// `$` and `\'`: the end.
    End,
    /// `\<`: a word character follows, none precedes.
    WordStart,
    /// `\>`: a word character precedes, none follows.
    WordEnd,
    /// `\b`.
    Boundary,
    /// `\B`.
    NotBoundary,
}

impl Assertion {
    fn holds(self, before: Option<u8>, after: Option<u8>) -> bool {
        let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        match self {
            Assertion::Start => before.is_none(),
            Assertion::End => after.is_none(),
            Assertion::WordStart => !word(before) && word(after),
            Assertion::WordEnd => word(before) && !word(after),
            Assertion::Boundary => word(before) != word(after),
            Assertion::NotBoundary => word(before) == word(after),
        }
    }
}

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bytes([u64; 4]);

impl Bytes {
    const EMPTY: Bytes = Bytes([0; 4]);

    fn with(mut self, b: u8) -> Bytes {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
        self
    }

    fn has(self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }

    fn of(f: impl Fn(u8) -> bool) -> Bytes {
        (0..=255u8).filter(|&b| f(b)).fold(Bytes::EMPTY, Bytes::with)
    }

    fn not(self) -> Bytes {
        Bytes(self.0.map(|w| !w))
    }
}

/// The parsed expression.
#[derive(Debug, Clone)]
enum Node {
    Empty,
    Byte(u8),
    Set(Bytes),
    Assert(Assertion),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

/// A token of the pattern, as glibc's `peek_token` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A byte matched as itself (already folded, or as written after a backslash).
    Char(u8),
    Any,
    Bracket,
    Star,
    /// `\+` and `\?`.
    Plus,
    Question,
    OpenInterval,
    CloseInterval,
    Open,
    Close,
    Alt,
    Anchor(Assertion),
    /// `\1`–`\9`, by index from 0.
    BackRef(usize),
    /// `\w \W \s \S`.
    Class(Bytes),
    /// A backslash at the very end.
    TrailingBackslash,
    End,
}

/// glibc's folding under REG_ICASE (`build_upper_buffer`): the C locale's `toupper`.
fn fold(b: u8) -> u8 {
    b.to_ascii_uppercase()
}

struct Parser<'p> {
    raw: &'p [u8],
    at: usize,
    /// Whether each group (by the order it opens) is closed: a back-reference to one that is
    /// not is glibc's REG_ESUBREG.
    closed: Vec<bool>,
}

impl<'p> Parser<'p> {
    fn new(raw: &'p [u8]) -> Parser<'p> {
        Parser { raw, at: 0, closed: Vec::new() }
    }

    /// The folded byte at `i`.
    fn byte(&self, i: usize) -> Option<u8> {
        self.raw.get(i).map(|&b| fold(b))
    }

    /// The token at `at` and its length; `caret_here`: a `^` anchors (the start, or after `\(`
    /// or `\|`).
    fn peek_at(&self, at: usize, caret_here: bool) -> (Token, usize) {
        let Some(c) = self.byte(at) else { return (Token::End, 0) };
        if c == b'\\' {
            let Some(&c2) = self.raw.get(at + 1) else { return (Token::TrailingBackslash, 1) };
            let word = Bytes::of(|b| b.is_ascii_alphanumeric() || b == b'_');
            let space =
                Bytes::of(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'));
            let token = match c2 {
                b'|' => Token::Alt,
                b'1'..=b'9' => Token::BackRef(usize::from(c2 - b'1')),
                b'<' => Token::Anchor(Assertion::WordStart),
                b'>' => Token::Anchor(Assertion::WordEnd),
                b'b' => Token::Anchor(Assertion::Boundary),
                b'B' => Token::Anchor(Assertion::NotBoundary),
                b'w' => Token::Class(word),
                b'W' => Token::Class(word.not()),
                b's' => Token::Class(space),
                b'S' => Token::Class(space.not()),
                b'`' => Token::Anchor(Assertion::Start),
                b'\'' => Token::Anchor(Assertion::End),
                b'(' => Token::Open,
                b')' => Token::Close,
                b'+' => Token::Plus,
                b'?' => Token::Question,
                b'{' => Token::OpenInterval,
                b'}' => Token::CloseInterval,
                other => Token::Char(other),
            };
            return (token, 2);
        }
        let token = match c {
            b'*' => Token::Star,
            b'.' => Token::Any,
            b'[' => Token::Bracket,
            b'^' if at == 0 || caret_here => Token::Anchor(Assertion::Start),
            b'$' => {
                let last = at + 1 == self.raw.len();
                let (next, _) = self.peek_at(at + 1, false);
                match last || matches!(next, Token::Alt | Token::Close) {
                    true => Token::Anchor(Assertion::End),
                    false => Token::Char(c),
                }
            }
            c => Token::Char(c),
        };
        (token, 1)
    }

    fn peek(&self, caret_here: bool) -> (Token, usize) {
        self.peek_at(self.at, caret_here)
    }

    fn parse(mut self) -> Result<Node, Problem> {
        let node = self.alternation(0, true)?;
        match self.peek(false).0 {
            Token::End => Ok(node),
            // `\)` at the top: glibc's REG_ERPAREN.
            _ => Err(Problem::Invalid),
        }
    }

    /// `parse_reg_exp`: branches separated by `\|`.
    fn alternation(&mut self, nest: usize, caret_here: bool) -> Result<Node, Problem> {
        let mut branches = vec![self.branch(nest, caret_here)?];
        while let (Token::Alt, len) = self.peek(false) {
            self.at += len;
            branches.push(self.branch(nest, true)?);
        }
        Ok(match branches.len() {
            1 => branches.pop().unwrap_or(Node::Empty),
            _ => Node::Alt(branches),
        })
    }

    /// `parse_branch`: expressions up to `\|`, the end, or `\)` inside a group.
    fn branch(&mut self, nest: usize, caret_here: bool) -> Result<Node, Problem> {
        let mut items = Vec::new();
        let mut caret = caret_here;
        loop {
            match self.peek(caret).0 {
                Token::Alt | Token::End => break,
                Token::Close if nest > 0 => break,
                _ => {}
            }
            items.push(self.expression(nest, caret)?);
            caret = false;
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    /// `parse_expression`: one atom and the repetitions after it.
    fn expression(&mut self, nest: usize, caret_here: bool) -> Result<Node, Problem> {
        let (token, len) = self.peek(caret_here);
        self.at += len;
        let atom = match token {
            Token::Char(c) => Node::Byte(c),
            Token::Any => Node::Set(Bytes::EMPTY.with(0).not()),
            Token::Bracket => Node::Set(self.bracket()?),
            Token::Class(set) => Node::Set(set),
            Token::Open => {
                let index = self.closed.len();
                self.closed.push(false);
                let inner = match self.peek(true).0 {
                    Token::Close => Node::Empty,
                    _ => self.alternation(nest + 1, true)?,
                };
                match self.peek(false) {
                    (Token::Close, len) => self.at += len,
                    _ => return Err(Problem::Invalid),
                }
                self.closed[index] = true;
                inner
            }
            // An anchor is never repeated: what follows starts a new expression.
            Token::Anchor(a) => return Ok(Node::Assert(a)),
            Token::BackRef(i) => {
                return Err(match self.closed.get(i) {
                    Some(true) => Problem::Unsupported,
                    _ => Problem::Invalid,
                });
            }
            // `\{` where nothing precedes it: REG_BADRPT.
            Token::OpenInterval => return Err(Problem::Invalid),
            // `*`, `\+`, `\?` where nothing precedes them: themselves.
            Token::Star => Node::Byte(b'*'),
            Token::Plus => Node::Byte(b'+'),
            Token::Question => Node::Byte(b'?'),
            Token::CloseInterval => Node::Byte(b'}'),
            Token::Close => return Err(Problem::Invalid),
            Token::TrailingBackslash => return Err(Problem::Invalid),
            Token::Alt | Token::End => return Ok(Node::Empty),
        };
        let mut node = atom;
        loop {
            let (token, len) = self.peek(false);
            let (min, max) = match token {
                Token::Star => (0, None),
                Token::Plus => (1, None),
                Token::Question => (0, Some(1)),
                Token::OpenInterval => {
                    self.at += len;
                    self.interval()?
                }
                _ => break,
            };
            if token != Token::OpenInterval {
                self.at += len;
            }
            node = Node::Repeat(Box::new(node), min, max);
            // In a basic expression two repetitions in a row (`a**`, `a*\{2\}`) are REG_BADRPT.
            if matches!(self.peek(false).0, Token::Star | Token::OpenInterval) {
                return Err(Problem::Invalid);
            }
        }
        Ok(node)
    }

    /// After `\{`: `m`, `m,`, `m,n` or `,n`, then `\}` (glibc's `parse_dup_op`).
    fn interval(&mut self) -> Result<(u32, Option<u32>), Problem> {
        let (start, after) = self.number()?;
        let start = match (start, after) {
            (Some(n), _) => n,
            (None, Token::Char(b',')) => 0,
            _ => return Err(Problem::Invalid),
        };
        let end = match after {
            Token::CloseInterval => Some(start),
            _ => match self.number()? {
                (n, Token::CloseInterval) => n,
                _ => return Err(Problem::Invalid),
            },
        };
        if end.is_some_and(|e| start > e) || end.unwrap_or(start) > DUP_MAX {
            return Err(Problem::Invalid);
        }
        Ok((start, end))
    }

    /// glibc's `fetch_number`: digits up to `,` or `\}`, and the token that ended them; any
    /// other token on the way is an error, the end of the pattern too.
    fn number(&mut self) -> Result<(Option<u32>, Token), Problem> {
        let mut n: Option<u32> = None;
        let mut bad = false;
        loop {
            let (token, len) = self.peek(false);
            self.at += len;
            match token {
                Token::End => return Err(Problem::Invalid),
                Token::CloseInterval | Token::Char(b',') => {
                    return match bad {
                        true => Err(Problem::Invalid),
                        false => Ok((n, token)),
                    };
                }
                Token::Char(c @ b'0'..=b'9') if !bad => {
                    let digit = u32::from(c - b'0');
                    n = Some(n.map_or(digit, |n| (n * 10 + digit).min(DUP_MAX + 1)));
                }
                _ => bad = true,
            }
        }
    }

    /// After `[`: the set, as glibc's `parse_bracket_exp` reads it in the C locale.
    fn bracket(&mut self) -> Result<Bytes, Problem> {
        let mut set = Bytes::EMPTY;
        let mut negated = false;
        if self.byte(self.at) == Some(b'^') {
            negated = true;
            self.at += 1;
        }
        let mut first = true;
        loop {
            let start = self.bracket_element(first)?;
            first = false;
            if self.at >= self.raw.len() {
                return Err(Problem::Invalid);
            }
            let range = match (&start, self.byte(self.at)) {
                (Element::Byte(_), Some(b'-')) if self.byte(self.at + 1) == Some(b']') => false,
                (Element::Byte(_), Some(b'-')) => {
                    if self.at + 1 >= self.raw.len() {
                        return Err(Problem::Invalid);
                    }
                    self.at += 1;
                    true
                }
                _ => false,
            };
            match (range, start) {
                (true, Element::Byte(lo)) => {
                    let Element::Byte(hi) = self.bracket_element(true)? else {
                        return Err(Problem::Invalid);
                    };
                    if lo > hi {
                        return Err(Problem::Invalid);
                    }
                    (lo..=hi).for_each(|b| set = set.with(b));
                }
                (_, Element::Byte(b)) => set = set.with(b),
                (_, Element::Set(s)) => set = Bytes(std::array::from_fn(|i| set.0[i] | s.0[i])),
            }
            match self.byte(self.at) {
                None => return Err(Problem::Invalid),
                Some(b']') => {
                    self.at += 1;
                    break;
                }
                Some(_) => {}
            }
        }
        // With REG_ICASE the text is folded: an upper-case member matches nothing more.
        Ok(match negated {
            true => set.not(),
            false => set,
        })
    }

    /// One element of a bracket: a byte, a `[:class:]`, or a one-byte `[.x.]` or `[=x=]`.
    fn bracket_element(&mut self, first: bool) -> Result<Element, Problem> {
        let Some(c) = self.byte(self.at) else { return Err(Problem::Invalid) };
        if c == b'[' {
            let delim = self.byte(self.at + 1);
            if let Some(d @ (b'.' | b'=' | b':')) = delim {
                self.at += 2;
                let begin = self.at;
                loop {
                    if self.at + 1 >= self.raw.len() || self.at - begin >= 32 {
                        return Err(Problem::Invalid);
                    }
                    // Class names as written; the other two folded.
                    let b = if d == b':' { self.raw[self.at] } else { fold(self.raw[self.at]) };
                    if b == d && self.raw.get(self.at + 1) == Some(&b']') {
                        break;
                    }
                    self.at += 1;
                }
                let name: Vec<u8> = match d {
                    b':' => self.raw[begin..self.at].to_vec(),
                    _ => self.raw[begin..self.at].iter().map(|&b| fold(b)).collect(),
                };
                self.at += 2;
                return match d {
                    b':' => class(&name).map(Element::Set).ok_or(Problem::Invalid),
                    _ => match name.as_slice() {
                        [b] => Ok(Element::Byte(*b)),
                        _ => Err(Problem::Invalid),
                    },
                };
            }
        }
        // A `-` that is not first must close the bracket (`[a-]`); elsewhere REG_ERANGE.
        if c == b'-' && !first && self.byte(self.at + 1) != Some(b']') {
            return Err(Problem::Invalid);
        }
        self.at += 1;
        Ok(Element::Byte(c))
    }
}

/// A bracket element.
enum Element {
    Byte(u8),
    Set(Bytes),
}

/// A `[:name:]` class in the C locale; with REG_ICASE, `upper` and `lower` are `alpha`.
fn class(name: &[u8]) -> Option<Bytes> {
    let f: fn(u8) -> bool = match name {
        b"alnum" => |b| b.is_ascii_alphanumeric(),
        b"alpha" | b"upper" | b"lower" => |b| b.is_ascii_alphabetic(),
        b"digit" => |b| b.is_ascii_digit(),
        b"xdigit" => |b| b.is_ascii_hexdigit(),
        b"space" => |b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'),
        b"blank" => |b| b == b' ' || b == b'\t',
        b"punct" => |b| b.is_ascii_punctuation(),
        b"print" => |b| (0x20..0x7f).contains(&b),
        b"graph" => |b| b.is_ascii_graphic(),
        b"cntrl" => |b| b.is_ascii_control(),
        _ => return None,
    };
    Some(Bytes::of(f))
}

/// An automaton state.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Consumes a byte in the set, then goes on.
    Byte(Bytes, usize),
    /// Goes on if the assertion holds here.
    Assert(Assertion, usize),
    /// Goes on to either.
    Split(usize, usize),
    /// Goes on.
    Jump(usize),
    Match,
}

struct Program {
    states: Vec<State>,
}

/// A hole to fill with the next state.
type Hole = usize;

impl Program {
    /// The automaton for `node`, ending in a match; `None` when too large.
    fn compile(&mut self, node: &Node) -> Option<usize> {
        let mut holes = Vec::new();
        let start = self.emit(node, &mut holes)?;
        let end = self.push(State::Match)?;
        self.patch(&holes, end);
        Some(start)
    }

    fn push(&mut self, s: State) -> Option<usize> {
        if self.states.len() >= MAX_STATES {
            return None;
        }
        self.states.push(s);
        Some(self.states.len() - 1)
    }

    fn patch(&mut self, holes: &[Hole], to: usize) {
        for &h in holes {
            match &mut self.states[h] {
                State::Byte(_, next) | State::Assert(_, next) | State::Jump(next) => *next = to,
                State::Split(_, b) => *b = to,
                State::Match => {}
            }
        }
    }

    /// Emits `node`; returns its entry, and adds to `out` the states whose exit is open.
    fn emit(&mut self, node: &Node, out: &mut Vec<Hole>) -> Option<usize> {
        match node {
            Node::Empty => {
                let s = self.push(State::Jump(usize::MAX))?;
                out.push(s);
                Some(s)
            }
            Node::Byte(b) => self.emit(&Node::Set(Bytes::EMPTY.with(*b)), out),
            Node::Set(set) => {
                let s = self.push(State::Byte(*set, usize::MAX))?;
                out.push(s);
                Some(s)
            }
            Node::Assert(a) => {
                let s = self.push(State::Assert(*a, usize::MAX))?;
                out.push(s);
                Some(s)
            }
            Node::Concat(items) => {
                let mut entry = None;
                let mut open: Vec<Hole> = Vec::new();
                for item in items {
                    let mut next_open = Vec::new();
                    let s = self.emit(item, &mut next_open)?;
                    self.patch(&open, s);
                    entry.get_or_insert(s);
                    open = next_open;
                }
                out.extend(open);
                entry
            }
            Node::Alt(branches) => {
                // A chain of splits: each tries its branch, then the rest.
                let mut entry = None;
                let mut pending: Option<usize> = None;
                for (i, b) in branches.iter().enumerate() {
                    let last = i + 1 == branches.len();
                    let here = match last {
                        true => self.emit(b, out)?,
                        false => {
                            let split = self.push(State::Split(usize::MAX, usize::MAX))?;
                            let s = self.emit(b, out)?;
                            if let State::Split(a, _) = &mut self.states[split] {
                                *a = s;
                            }
                            split
                        }
                    };
                    if let Some(p) = pending {
                        self.patch(&[p], here);
                    }
                    entry.get_or_insert(here);
                    pending = (!last).then_some(here);
                }
                entry
            }
            Node::Repeat(inner, min, max) => {
                let mut entry = None;
                let mut open: Vec<Hole> = Vec::new();
                // The required copies.
                for _ in 0..*min {
                    let mut next_open = Vec::new();
                    let s = self.emit(inner, &mut next_open)?;
                    self.patch(&open, s);
                    entry.get_or_insert(s);
                    open = next_open;
                }
                match max {
                    None => {
                        // A loop: split into one more copy or on.
                        let split = self.push(State::Split(usize::MAX, usize::MAX))?;
                        let mut body_open = Vec::new();
                        let body = self.emit(inner, &mut body_open)?;
                        if let State::Split(a, _) = &mut self.states[split] {
                            *a = body;
                        }
                        self.patch(&body_open, split);
                        self.patch(&open, split);
                        entry.get_or_insert(split);
                        out.push(split);
                    }
                    Some(max) => {
                        // Optional copies, each skippable to the end.
                        for _ in *min..*max {
                            let split = self.push(State::Split(usize::MAX, usize::MAX))?;
                            let mut body_open = Vec::new();
                            let body = self.emit(inner, &mut body_open)?;
                            if let State::Split(a, _) = &mut self.states[split] {
                                *a = body;
                            }
                            self.patch(&open, split);
                            entry.get_or_insert(split);
                            out.push(split);
                            open = body_open;
                        }
                        out.extend(open);
                        if entry.is_none() {
                            // `\{0\}` or `\{0,0\}`: matches the empty string.
                            let s = self.push(State::Jump(usize::MAX))?;
                            out.push(s);
                            entry = Some(s);
                        }
                    }
                }
                entry
            }
        }
    }

    /// Whether the automaton from `start` matches somewhere in `text` (folded here).
    fn found(&self, start: usize, text: &[u8]) -> bool {
        let n = self.states.len();
        let mut current: Vec<usize> = Vec::with_capacity(n);
        let mut next: Vec<usize> = Vec::with_capacity(n);
        let mut seen = vec![usize::MAX; n];
        for at in 0..=text.len() {
            let before = at.checked_sub(1).map(|i| fold(text[i]));
            let after = text.get(at).map(|&b| fold(b));
            // A match may start at every position: add the start state.
            if self.close(start, at, before, after, &mut seen, &mut current) {
                return true;
            }
            let Some(byte) = after else { break };
            for &s in &current {
                if let State::Byte(set, to) = self.states[s]
                    && set.has(byte)
                    && self.close(
                        to,
                        at + 1,
                        Some(byte),
                        text.get(at + 1).map(|&b| fold(b)),
                        &mut seen,
                        &mut next,
                    )
                {
                    return true;
                }
            }
            std::mem::swap(&mut current, &mut next);
            next.clear();
        }
        false
    }

    /// Adds `s` and what it reaches without consuming, at position `at` (marked in `seen`),
    /// to `list`; true when that reaches the match.
    fn close(
        &self,
        s: usize,
        at: usize,
        before: Option<u8>,
        after: Option<u8>,
        seen: &mut [usize],
        list: &mut Vec<usize>,
    ) -> bool {
        let mut stack = vec![s];
        while let Some(s) = stack.pop() {
            if seen[s] == at {
                continue;
            }
            seen[s] = at;
            match self.states[s] {
                State::Match => return true,
                State::Byte(..) => list.push(s),
                State::Jump(to) => stack.push(to),
                State::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                State::Assert(a, to) => {
                    if a.holds(before, after) {
                        stack.push(to);
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::{Search, search};

    fn s(p: &str, t: &str) -> Search {
        search(p.as_bytes(), t.as_bytes())
    }

    #[test]
    fn basic_expressions_read_as_glibc_reads_them() {
        assert_eq!(s("j.smith", "Aj_smith1"), Search::Found);
        assert_eq!(s("j.smith", "jsmith"), Search::NotFound);
        assert_eq!(s("ab[cd", "abc"), Search::Invalid);
        assert_eq!(s("SMITH", "xsmithx"), Search::Found);
        assert_eq!(s("a*b", "b"), Search::Found);
        assert_eq!(s("*ab", "x*ab"), Search::Found);
        assert_eq!(s("a**", "a"), Search::Invalid);
        assert_eq!(s("a\\{2\\}", "aa"), Search::Found);
        assert_eq!(s("a\\{2\\}", "a"), Search::NotFound);
        assert_eq!(s("\\{2\\}", "a"), Search::Invalid);
        assert_eq!(s("a\\{2,1\\}", "a"), Search::Invalid);
        assert_eq!(s("a\\{,2\\}b", "b"), Search::Found);
        assert_eq!(s("^abc", "xabc"), Search::NotFound);
        assert_eq!(s("x^abc", "x^abc"), Search::Found);
        assert_eq!(s("abc$", "abcx"), Search::NotFound);
        assert_eq!(s("a$b", "a$b"), Search::Found);
        assert_eq!(s("a\\|xyz", "xyz"), Search::Found);
        assert_eq!(s("\\(ab\\)\\1", "abab"), Search::Unsupported);
        assert_eq!(s("\\1", "a"), Search::Invalid);
        assert_eq!(s("\\(a\\1\\)", "aa"), Search::Invalid);
        assert_eq!(s("a\\", "a"), Search::Invalid);
        assert_eq!(s("a\\)", "a)"), Search::Invalid);
        assert_eq!(s("a+b", "a+b"), Search::Found);
        assert_eq!(s("ab\\+c", "abbc"), Search::Found);
        assert_eq!(s("[[:digit:]][[:upper:]]", "1a"), Search::Found);
        assert_eq!(s("[[:nope:]]", "a"), Search::Invalid);
        assert_eq!(s("[z-a]", "a"), Search::Invalid);
        assert_eq!(s("[a-]", "-"), Search::Found);
        assert_eq!(s("[]a]", "]"), Search::Found);
        assert_eq!(s("[^a]", "a"), Search::NotFound);
        assert_eq!(s("\\<smith", "j.smith"), Search::Found);
        assert_eq!(s("\\<mith", "smith"), Search::NotFound);
        assert_eq!(s("\\A", "a"), Search::Found);
        assert_eq!(s("\\a", "a"), Search::NotFound);
        assert_eq!(s("a\\{99999\\}", "a"), Search::Invalid);
        assert_eq!(s("a\\{5000\\}", "a"), Search::Unsupported);
    }
}
