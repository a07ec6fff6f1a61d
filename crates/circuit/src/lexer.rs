//! Physical lines, tokens and SPICE numbers.
use crate::ParseError;
use std::path::PathBuf;
use std::rc::Rc;

/// One physical line of a netlist file.
#[derive(Debug)]
pub(crate) struct Line {
    pub file: Rc<PathBuf>,
    pub number: usize,
    pub text: String,
}

impl Line {
    /// An error at a 1-based column of this line.
    pub fn err(&self, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            file: (*self.file).clone(),
            line: self.number,
            column,
            text: self.text.clone(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// A run of ordinary characters (names, numbers, keywords, bare expressions).
    Word,
    LParen,
    RParen,
    Eq,
    Comma,
    /// `{...}` or `'...'`; `text` is the inside.
    Expr,
    /// `"..."`; `text` is the inside.
    Str,
}

#[derive(Debug, Clone)]
pub(crate) struct Tok {
    pub kind: TokKind,
    pub text: String,
    pub line: Rc<Line>,
    /// 1-based character column of the token's first character.
    pub col: usize,
    /// Width in characters as written.
    pub width: usize,
}

impl Tok {
    pub fn lower(&self) -> String {
        self.text.to_ascii_lowercase()
    }
    pub fn is_word(&self) -> bool {
        self.kind == TokKind::Word
    }
    /// Is this a word equal (case-insensitively) to `w`?
    pub fn is(&self, w: &str) -> bool {
        self.kind == TokKind::Word && self.text.eq_ignore_ascii_case(w)
    }
    /// The token as written, for messages.
    pub fn shown(&self) -> String {
        match self.kind {
            TokKind::Expr => format!("{{{}}}", self.text),
            TokKind::Str => format!("\"{}\"", self.text),
            _ => self.text.clone(),
        }
    }
    /// An error pointing at this token.
    pub fn err(&self, message: impl Into<String>) -> ParseError {
        self.line.err(self.col, message)
    }
    /// An error pointing just past this token (for something missing).
    pub fn err_after(&self, message: impl Into<String>) -> ParseError {
        self.line.err(self.col + self.width + 1, message)
    }
}

/// Split one physical line (from character index `start`) into tokens, dropping `;`
/// comments and `$` comments (a `$` at the start or after a space, a tab or a comma).
pub(crate) fn tokenize(line: &Rc<Line>, start: usize) -> Result<Vec<Tok>, ParseError> {
    // columns count characters: an ASCII line (nearly every netlist's) is scanned as its
    // bytes, where they are the same, any other as its characters
    if line.text.is_ascii() {
        scan(line, line.text.as_bytes(), start, |i, j| {
            line.text[i..j].to_string()
        })
    } else {
        let chars: Vec<char> = line.text.chars().collect();
        scan(line, &chars, start, |i, j| chars[i..j].iter().collect())
    }
}

/// [`tokenize`] over a line's characters (or its bytes, when those are its characters);
/// `text(i, j)` gives characters `i..j` as a string.
fn scan<C: Copy + Into<char>>(
    line: &Rc<Line>,
    units: &[C],
    start: usize,
    text: impl Fn(usize, usize) -> String,
) -> Result<Vec<Tok>, ParseError> {
    let at = |k: usize| -> char { units[k].into() };
    let len = units.len();
    let mut out = Vec::new();
    let mut i = start.min(len);
    let mk = |kind, text: String, col: usize, width: usize| Tok {
        kind,
        text,
        line: line.clone(),
        col: col + 1,
        width,
    };
    while i < len {
        let ch = at(i);
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if ch == ';' {
            break;
        }
        // ngspice (inp_stripcomments_line): `$` starts a comment at the start of a line or
        // after a space, a tab or a comma
        if ch == '$' && (i == 0 || at(i - 1).is_whitespace() || at(i - 1) == ',') {
            break;
        }
        match ch {
            '(' => out.push(mk(TokKind::LParen, "(".into(), i, 1)),
            ')' => out.push(mk(TokKind::RParen, ")".into(), i, 1)),
            '=' => out.push(mk(TokKind::Eq, "=".into(), i, 1)),
            ',' => out.push(mk(TokKind::Comma, ",".into(), i, 1)),
            '{' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    if j >= len {
                        return Err(line.err(
                            i + 1,
                            "unterminated '{': expected a matching '}' on the same line",
                        ));
                    }
                    match at(j) {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let inner = text(i + 1, j);
                out.push(mk(TokKind::Expr, inner, i, j + 1 - i));
                i = j + 1;
                continue;
            }
            '}' => return Err(line.err(i + 1, "unexpected '}' without a matching '{'")),
            '\'' | '"' => {
                let Some(width) = (i + 1..len).position(|k| at(k) == ch) else {
                    return Err(line.err(
                        i + 1,
                        format!("unterminated {ch}: expected a closing {ch} on the same line"),
                    ));
                };
                let inner = text(i + 1, i + 1 + width);
                let kind = if ch == '"' {
                    TokKind::Str
                } else {
                    TokKind::Expr
                };
                out.push(mk(kind, inner, i, width + 2));
                i += width + 2;
                continue;
            }
            _ => {
                let mut j = i;
                while j < len {
                    let c = at(j);
                    if c.is_whitespace()
                        || matches!(c, '(' | ')' | '=' | ',' | '{' | '}' | '\'' | '"' | ';')
                    {
                        break;
                    }
                    j += 1;
                }
                out.push(mk(TokKind::Word, text(i, j), i, j - i));
                i = j;
                continue;
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Unit words SPICE users write after a value; they carry no meaning and are ignored.
const UNITS: &[&str] = &[
    "v", "volt", "volts", "a", "amp", "amps", "ampere", "amperes", "s", "sec", "secs", "second",
    "seconds", "ohm", "ohms", "hz", "f", "farad", "farads", "h", "henry", "henries", "henrys",
    "deg", "degree", "degrees", "w", "watt", "watts",
];

/// Decimal exponent of a scale suffix (and whether it is `mil`), or None when the letters are
/// neither a scale suffix, nor a unit, nor a scale suffix followed by a unit.
fn suffix(letters: &str) -> Option<(i64, bool)> {
    if letters.is_empty() {
        return Some((0, false));
    }
    let (scale, mil, rest) = if let Some(r) = letters.strip_prefix("meg") {
        (6, false, r)
    } else if let Some(r) = letters.strip_prefix("mil") {
        (0, true, r)
    } else {
        let scale = match letters.as_bytes()[0] {
            b't' => Some(12),
            b'g' => Some(9),
            b'k' => Some(3),
            b'm' => Some(-3),
            b'u' => Some(-6),
            b'n' => Some(-9),
            b'p' => Some(-12),
            b'f' => Some(-15),
            _ => None,
        };
        match scale {
            Some(s) => (s, false, &letters[1..]),
            None => (0, false, letters),
        }
    };
    if rest.is_empty() || UNITS.contains(&rest) {
        Some((scale, mil))
    } else {
        None
    }
}

/// Append `e` and the decimal exponent `e` to a literal (nothing for 0).
fn push_exponent(text: &mut String, e: i64) {
    if e == 0 {
        return;
    }
    text.push('e');
    if e < 0 {
        text.push('-');
    }
    let mut digits = [0u8; 20];
    let (mut m, mut k) = (e.unsigned_abs(), digits.len());
    while m > 0 {
        k -= 1;
        digits[k] = b'0' + (m % 10) as u8;
        m /= 10;
    }
    text.extend(digits[k..].iter().map(|&d| char::from(d)));
}

/// Scan a SPICE number at the start of `s` (mantissa, exponent, scale suffix, unit letters).
/// Returns the value and the number of bytes consumed, or None when `s` does not start with a
/// valid number. Decimal scaling is exact (`4.7k` is parsed as `4.7e3`).
pub(crate) fn scan_number(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let n = b.len();
    let mut i = 0;
    let neg = if i < n && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
        b[0] == b'-'
    } else {
        false
    };
    let int_start = i;
    while i < n && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &s[int_start..i];
    let mut frac_digits = "";
    if i < n && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &s[fs..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if i < n && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        let eneg = if j < n && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
            b[j - 1] == b'-'
        } else {
            false
        };
        let es = j;
        while j < n && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > es {
            let digits = &s[es..j];
            let mag: i64 = if digits.len() > 7 {
                10_000_000
            } else {
                digits.parse().unwrap_or(10_000_000)
            };
            exp = if eneg { -mag } else { mag };
            i = j;
        }
    }
    let ls = i;
    while i < n && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    let letters = s[ls..i].to_ascii_lowercase();
    let (scale, mil) = suffix(&letters)?;
    // the value as one decimal literal, parsed (correctly rounded) once: built by hand, as
    // `format!` took a third of a large netlist's time in this function
    let mut text = String::with_capacity(int_digits.len() + frac_digits.len() + 12);
    if neg {
        text.push('-');
    }
    text.push_str(if int_digits.is_empty() {
        "0"
    } else {
        int_digits
    });
    text.push('.');
    text.push_str(if frac_digits.is_empty() {
        "0"
    } else {
        frac_digits
    });
    push_exponent(&mut text, exp + scale);
    let mut v: f64 = text.parse().ok()?;
    if mil {
        v *= 25.4e-6;
    }
    Some((v, i))
}

/// Parse a whole token as a SPICE number (`1k`, `4.7uF`, `1e-3V`, `10meg`, `2mil`).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    match scan_number(s) {
        Some((v, used)) if used == s.len() => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1k"), Some(1e3));
        assert_eq!(parse_number("4.7k"), Some(4.7e3));
        assert_eq!(parse_number("1kohm"), Some(1e3));
        assert_eq!(parse_number("10uF"), Some(10e-6));
        assert_eq!(parse_number("1e-3V"), Some(1e-3));
        assert_eq!(parse_number("10Meg"), Some(10e6));
        assert_eq!(parse_number("1M"), Some(1e-3));
        assert_eq!(parse_number("2mil"), Some(2.0 * 25.4e-6));
        assert_eq!(parse_number("1F"), Some(1e-15));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("-3."), Some(-3.0));
        assert_eq!(parse_number("1x"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("1e"), None);
        assert_eq!(parse_number("1e999999999999"), Some(f64::INFINITY));
    }

    fn texts(line: &str) -> Vec<String> {
        let l = Rc::new(Line {
            file: Rc::new(PathBuf::from("t.cir")),
            number: 1,
            text: line.to_string(),
        });
        tokenize(&l, 0)
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    /// `$` is a comment after a space, a tab or a comma (as in ngspice), and part of the
    /// word otherwise. Found by libFuzzer: `.options a,$q=10` read `$q` as an option, which
    /// the writer wrote after a space, where it reads back as a comment.
    #[test]
    fn dollar_comments() {
        assert_eq!(texts("r1 a b 1k $ load"), ["r1", "a", "b", "1k"]);
        assert_eq!(texts("r1 a b 1k\t$load"), ["r1", "a", "b", "1k"]);
        assert_eq!(texts(".options a,$q=10"), [".options", "a", ","]);
        assert_eq!(texts("r1 a b 1k$x"), ["r1", "a", "b", "1k$x"]);
        assert_eq!(texts("$ all comment"), Vec::<String>::new());
    }

    /// Columns count characters on both paths: a line with a non-ASCII character is scanned
    /// by characters, an ASCII one by bytes, and an error's column is the same either way.
    #[test]
    fn columns_count_characters() {
        let line = |text: &str| {
            Rc::new(Line {
                file: Rc::new(PathBuf::from("t.cir")),
                number: 1,
                text: text.to_string(),
            })
        };
        let cols = |text: &str| -> Vec<(String, usize, usize)> {
            tokenize(&line(text), 0)
                .unwrap()
                .into_iter()
                .map(|t| (t.text, t.col, t.width))
                .collect()
        };
        for name in ["rµ", "ru"] {
            assert_eq!(
                cols(&format!("{name} a {{x+1}} 'b'")),
                [
                    (name.to_string(), 1, 2),
                    ("a".to_string(), 4, 1),
                    ("x+1".to_string(), 6, 5),
                    ("b".to_string(), 12, 3)
                ]
            );
        }
        for text in ["rµ a {x", "ru a {x"] {
            assert_eq!(tokenize(&line(text), 0).unwrap_err().column, 6);
        }
    }

    proptest::proptest! {
        /// A number with any sign, digits, exponent and scale suffix reads as the decimal
        /// literal it stands for (mantissa times ten to the exponent plus the suffix's).
        #[test]
        fn numbers_read_as_their_decimal_literal(
            neg in proptest::bool::ANY,
            int in "[0-9]{0,12}",
            frac in proptest::option::of("[0-9]{0,12}"),
            exp in proptest::option::of(-320i64..320),
            suffix in proptest::sample::select(vec![
                ("", 0i64), ("k", 3), ("meg", 6), ("g", 9), ("t", 12), ("m", -3), ("u", -6),
                ("n", -9), ("p", -12), ("f", -15), ("mV", -3), ("Hz", 0),
            ]),
        ) {
            let frac_digits = frac.clone().unwrap_or_default();
            proptest::prop_assume!(!int.is_empty() || !frac_digits.is_empty());
            let mut written = format!("{}{int}", if neg { "-" } else { "" });
            if let Some(f) = &frac {
                written.push('.');
                written.push_str(f);
            }
            if let Some(e) = exp {
                written.push_str(&format!("e{e}"));
            }
            written.push_str(suffix.0);
            let literal = format!(
                "{}{}.{}e{}",
                if neg { "-" } else { "" },
                if int.is_empty() { "0" } else { &int },
                if frac_digits.is_empty() { "0" } else { &frac_digits },
                exp.unwrap_or(0) + suffix.1
            );
            let expected: f64 = literal.parse().unwrap();
            proptest::prop_assert_eq!(
                parse_number(&written).map(f64::to_bits),
                Some(expected.to_bits()),
                "{} as {}", written, literal
            );
        }
    }
}
