//! Arithmetic expressions of `.param` and `{...}` values.
//!
//! Grammar: `+ - * /`, `^` and `**` (power, right-associative, binding tighter than unary
//! minus), parentheses, numbers with SPICE suffixes, parameter names, `pi`, and the functions
//! `sqrt exp log ln log10 abs sin cos tan asin acos atan sinh cosh tanh floor ceil pow min max`.
//! `log` is the natural logarithm, as in ngspice.
use crate::lexer::scan_number;

/// An expression error at a character offset inside the expression text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExprError {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Num(f64),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    End,
}

fn lex(text: &str) -> Result<Vec<(T, usize)>, ExprError> {
    let mut out = Vec::new();
    // byte index -> char offset
    let mut chars = text.char_indices().enumerate().peekable();
    let bytes = text.as_bytes();
    while let Some((coff, (bi, ch))) = chars.next() {
        if ch.is_whitespace() {
            continue;
        }
        let tok = if ch.is_ascii_digit() || ch == '.' {
            let Some((v, used)) = scan_number(&text[bi..]) else {
                let end = text[bi..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                    .map_or(text.len(), |e| bi + e);
                return Err(ExprError {
                    offset: coff,
                    message: format!("bad number \"{}\"", &text[bi..end]),
                });
            };
            // skip the remaining bytes of the number (all ASCII)
            for _ in 1..used {
                chars.next();
            }
            T::Num(v)
        } else if ch.is_ascii_alphabetic() || ch == '_' {
            let mut j = bi + 1;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
                chars.next();
            }
            T::Ident(text[bi..j].to_ascii_lowercase())
        } else {
            match ch {
                '+' => T::Op("+"),
                '-' => T::Op("-"),
                '/' => T::Op("/"),
                '^' => T::Op("^"),
                '*' => {
                    if bytes.get(bi + 1) == Some(&b'*') {
                        chars.next();
                        T::Op("^")
                    } else {
                        T::Op("*")
                    }
                }
                '(' => T::LParen,
                ')' => T::RParen,
                ',' => T::Comma,
                _ => {
                    return Err(ExprError {
                        offset: coff,
                        message: format!("unexpected character '{ch}'"),
                    })
                }
            }
        };
        out.push((tok, coff));
    }
    out.push((T::End, text.chars().count()));
    Ok(out)
}

struct P<'a> {
    toks: Vec<(T, usize)>,
    pos: usize,
    depth: usize,
    lookup: &'a dyn Fn(&str) -> Option<f64>,
}

const MAX_DEPTH: usize = 200;

impl P<'_> {
    fn peek(&self) -> &T {
        &self.toks[self.pos].0
    }
    fn off(&self) -> usize {
        self.toks[self.pos].1
    }
    fn bump(&mut self) {
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
    }
    fn fail<X>(&self, message: impl Into<String>) -> Result<X, ExprError> {
        Err(ExprError {
            offset: self.off(),
            message: message.into(),
        })
    }
    fn expr(&mut self) -> Result<f64, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("expression nested too deeply");
        }
        let mut v = self.term()?;
        loop {
            match self.peek() {
                T::Op("+") => {
                    self.bump();
                    v += self.term()?;
                }
                T::Op("-") => {
                    self.bump();
                    v -= self.term()?;
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(v)
    }
    fn term(&mut self) -> Result<f64, ExprError> {
        let mut v = self.unary()?;
        loop {
            match self.peek() {
                T::Op("*") => {
                    self.bump();
                    v *= self.unary()?;
                }
                T::Op("/") => {
                    self.bump();
                    v /= self.unary()?;
                }
                _ => break,
            }
        }
        Ok(v)
    }
    fn unary(&mut self) -> Result<f64, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("expression nested too deeply");
        }
        let v = match self.peek() {
            T::Op("-") => {
                self.bump();
                -self.unary()?
            }
            T::Op("+") => {
                self.bump();
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Ok(v)
    }
    fn power(&mut self) -> Result<f64, ExprError> {
        let base = self.atom()?;
        if let T::Op("^") = self.peek() {
            self.bump();
            let e = self.unary()?;
            return Ok(base.powf(e));
        }
        Ok(base)
    }
    fn atom(&mut self) -> Result<f64, ExprError> {
        match self.peek().clone() {
            T::Num(v) => {
                self.bump();
                Ok(v)
            }
            T::LParen => {
                self.bump();
                let v = self.expr()?;
                if *self.peek() != T::RParen {
                    return self.fail("expected ')'");
                }
                self.bump();
                Ok(v)
            }
            T::Ident(name) => {
                let at = self.off();
                self.bump();
                if *self.peek() == T::LParen {
                    self.bump();
                    let mut args = Vec::new();
                    if *self.peek() != T::RParen {
                        loop {
                            args.push(self.expr()?);
                            match self.peek() {
                                T::Comma => self.bump(),
                                T::RParen => break,
                                _ => return self.fail("expected ',' or ')' in the argument list"),
                            }
                        }
                    }
                    self.bump();
                    call(&name, &args).map_err(|message| ExprError {
                        offset: at,
                        message,
                    })
                } else if let Some(v) = (self.lookup)(&name) {
                    Ok(v)
                } else if name == "pi" {
                    Ok(std::f64::consts::PI)
                } else {
                    Err(ExprError {
                        offset: at,
                        message: format!("unknown parameter '{name}'"),
                    })
                }
            }
            T::End => self.fail("expression ends early: expected a number, a name or '('"),
            T::RParen => self.fail("unexpected ')': expected a number, a name or '('"),
            T::Comma => self.fail("unexpected ',': expected a number, a name or '('"),
            T::Op(op) => self.fail(format!(
                "unexpected '{op}': expected a number, a name or '('"
            )),
        }
    }
}

fn call(name: &str, a: &[f64]) -> Result<f64, String> {
    let one = |f: fn(f64) -> f64| -> Result<f64, String> {
        if a.len() == 1 {
            Ok(f(a[0]))
        } else {
            Err(format!(
                "function {name}() takes 1 argument, got {}",
                a.len()
            ))
        }
    };
    match name {
        "sqrt" => one(f64::sqrt),
        "exp" => one(f64::exp),
        "log" | "ln" => one(f64::ln),
        "log10" => one(f64::log10),
        "abs" => one(f64::abs),
        "sin" => one(f64::sin),
        "cos" => one(f64::cos),
        "tan" => one(f64::tan),
        "asin" => one(f64::asin),
        "acos" => one(f64::acos),
        "atan" => one(f64::atan),
        "sinh" => one(f64::sinh),
        "cosh" => one(f64::cosh),
        "tanh" => one(f64::tanh),
        "floor" => one(f64::floor),
        "ceil" => one(f64::ceil),
        "pow" => {
            if a.len() == 2 {
                Ok(a[0].powf(a[1]))
            } else {
                Err(format!("function pow() takes 2 arguments, got {}", a.len()))
            }
        }
        "min" | "max" => {
            if a.is_empty() {
                return Err(format!("function {name}() needs at least 1 argument"));
            }
            let f = if name == "min" { f64::min } else { f64::max };
            Ok(a[1..].iter().fold(a[0], |x, &y| f(x, y)))
        }
        _ => Err(format!("unknown function '{name}'")),
    }
}

/// Evaluate an expression; `lookup` resolves parameter names (lower-case).
pub(crate) fn eval(text: &str, lookup: &dyn Fn(&str) -> Option<f64>) -> Result<f64, ExprError> {
    let toks = lex(text)?;
    let mut p = P {
        toks,
        pos: 0,
        depth: 0,
        lookup,
    };
    let v = p.expr()?;
    if *p.peek() != T::End {
        return p.fail("unexpected text after the expression");
    }
    if !v.is_finite() {
        return Err(ExprError {
            offset: 0,
            message: format!("expression evaluates to {v}"),
        });
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn ev(s: &str) -> Result<f64, ExprError> {
        eval(s, &|n| if n == "a" { Some(2.0) } else { None })
    }
    #[test]
    fn arithmetic() {
        assert_eq!(ev("1+2*3").unwrap(), 7.0);
        assert_eq!(ev("-2^2").unwrap(), -4.0);
        assert_eq!(ev("2**3**2").unwrap(), 512.0);
        assert_eq!(ev("(1+a)*1k").unwrap(), 3000.0);
        assert_eq!(ev("max(1, a, 0.5)").unwrap(), 2.0);
        assert_eq!(ev("sqrt(a*8)").unwrap(), 4.0);
        assert_eq!(ev("log(exp(3))").unwrap(), 3.0);
        assert_eq!(ev("2 - -1").unwrap(), 3.0);
        assert_eq!(
            ev("b").unwrap_err(),
            ExprError {
                offset: 0,
                message: "unknown parameter 'b'".into()
            }
        );
        assert_eq!(ev("1 + foo(2)").unwrap_err().offset, 4);
        assert!(ev("1/0").is_err());
        assert!(ev("(((").is_err());
        assert!(ev(&"(".repeat(10000)).is_err());
    }
}
