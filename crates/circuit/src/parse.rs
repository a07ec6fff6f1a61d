//! SPICE netlist reader.
//!
//! Reading happens in three passes: physical lines are joined (`+` continuations), stripped
//! of comments and split into tokens, following `.include`; the statements are sorted into
//! a tree of scopes (top level and `.subckt` definitions); then the top scope is expanded
//! into a flat [`Circuit`], evaluating `.param` expressions and instantiating subcircuits
//! with ngspice's naming (`r.x1.r1`, node `x1.m`, model `x1:dmod`).
//! See `docs/netlist.md` for the supported language.
use crate::expr;
use crate::lexer::{parse_number, tokenize, Line, Tok, TokKind};
use crate::model::*;
use crate::ParseError;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Parse a netlist file, following `.include`.
pub fn parse_file(path: &Path) -> Result<Circuit, ParseError> {
    let text = std::fs::read_to_string(path).map_err(|e| ParseError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        text: String::new(),
        message: format!("cannot read netlist: {e}"),
    })?;
    parse_str(&text, path)
}

/// Parse netlist text; `origin` names it in errors and anchors relative `.include` paths.
pub fn parse_str(text: &str, origin: impl AsRef<Path>) -> Result<Circuit, ParseError> {
    let origin = origin.as_ref();
    let mut reader = Reader {
        stmts: Vec::new(),
        stack: Vec::new(),
    };
    let title = reader.read_text(text, origin, true)?;
    let deck = build(reader.stmts)?;
    Flattener::run(&deck, title)
}

/// One logical line: a non-empty token list.
#[derive(Debug, Clone)]
struct Stmt {
    toks: Vec<Tok>,
}

impl Stmt {
    fn head(&self) -> &Tok {
        &self.toks[0]
    }
    fn last(&self) -> &Tok {
        &self.toks[self.toks.len() - 1]
    }
}

const MAX_INCLUDE_DEPTH: usize = 32;
const MAX_SUBCKT_DEPTH: usize = 64;
const MAX_ELEMENTS: usize = 2_000_000;

struct Reader {
    stmts: Vec<Stmt>,
    stack: Vec<PathBuf>,
}

fn first_word_lower(s: &str) -> String {
    s.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

impl Reader {
    /// Read one file's text, appending its statements (with includes spliced in). Returns the
    /// title (first line) when `main`.
    fn read_text(&mut self, text: &str, file: &Path, main: bool) -> Result<String, ParseError> {
        let rc_file = Rc::new(file.to_path_buf());
        let mut local: Vec<Stmt> = Vec::new();
        let mut title = String::new();
        let mut control: Option<Rc<Line>> = None;
        for (i, raw) in text.lines().enumerate() {
            if main && i == 0 {
                title = raw.trim().to_string();
                continue;
            }
            let trimmed = raw.trim_start();
            let word = first_word_lower(trimmed);
            if control.is_some() {
                if word == ".endc" {
                    control = None;
                }
                continue;
            }
            if trimmed.is_empty() || trimmed.starts_with('*') {
                continue;
            }
            let line = Rc::new(Line {
                file: rc_file.clone(),
                number: i + 1,
                text: raw.to_string(),
            });
            if word == ".control" {
                control = Some(line);
                continue;
            }
            if word == ".end" {
                break;
            }
            if trimmed.starts_with('+') {
                let plus = raw.chars().position(|c| c == '+').unwrap_or(0);
                let toks = tokenize(&line, plus + 1)?;
                match local.last_mut() {
                    Some(s) => s.toks.extend(toks),
                    None => {
                        return Err(line.err(
                            plus + 1,
                            "continuation line '+' has no line before it to continue",
                        ))
                    }
                }
                continue;
            }
            let toks = tokenize(&line, 0)?;
            if !toks.is_empty() {
                local.push(Stmt { toks });
            }
        }
        if let Some(line) = control {
            return Err(line.err(1, "'.control' block has no matching '.endc'"));
        }
        for stmt in local {
            let head = stmt.head().lower();
            if head == ".include" || head == ".inc" {
                self.include(&stmt, file)?;
            } else {
                self.stmts.push(stmt);
            }
        }
        Ok(title)
    }

    fn include(&mut self, stmt: &Stmt, file: &Path) -> Result<(), ParseError> {
        let Some(ptok) = stmt.toks.get(1) else {
            return Err(stmt.head().err_after("expected a file name after .include"));
        };
        if !matches!(ptok.kind, TokKind::Str | TokKind::Word | TokKind::Expr) {
            return Err(ptok.err(format!(
                "expected a file name after .include, found \"{}\"",
                ptok.text
            )));
        }
        if let Some(extra) = stmt.toks.get(2) {
            return Err(extra.err(format!(
                "unexpected \"{}\" after the .include file name",
                extra.shown()
            )));
        }
        let rel = PathBuf::from(&ptok.text);
        let path = if rel.is_absolute() {
            rel
        } else {
            file.parent().map(|d| d.join(&rel)).unwrap_or(rel)
        };
        if self.stack.len() >= MAX_INCLUDE_DEPTH || self.stack.contains(&path) {
            return Err(ptok.err(format!(
                "include cycle: '{}' includes itself (directly or indirectly)",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            ptok.err(format!(
                "cannot read include file '{}': {e}",
                path.display()
            ))
        })?;
        self.stack.push(path.clone());
        self.read_text(&text, &path, false)?;
        self.stack.pop();
        Ok(())
    }
}

/// A `name = value...` assignment; `value` holds the tokens of the value expression.
#[derive(Debug, Clone)]
struct Assign {
    name: String,
    name_tok: Tok,
    value: Vec<Tok>,
}

/// The top level or one `.subckt` definition.
#[derive(Debug, Default)]
struct Scope {
    name: String,
    def: Option<Tok>,
    ports: Vec<Tok>,
    defaults: Vec<Assign>,
    params: Vec<Assign>,
    body: Vec<Stmt>,
    models: Vec<(String, Stmt)>,
    subckts: HashMap<String, Rc<Scope>>,
}

struct Deck {
    top: Scope,
    controls: Vec<Stmt>,
    globals: HashSet<String>,
}

/// Parse `name = value ... name = value ...` starting at `toks[i]`. A value runs until the next
/// word followed by `=`.
fn assignments(toks: &[Tok], mut i: usize, what: &str) -> Result<Vec<Assign>, ParseError> {
    let mut out = Vec::new();
    while i < toks.len() {
        let t = &toks[i];
        if t.kind == TokKind::Comma {
            i += 1;
            continue;
        }
        if !t.is_word() || toks.get(i + 1).map(|n| n.kind) != Some(TokKind::Eq) {
            return Err(t.err(format!(
                "expected name=value in {what}, found \"{}\"",
                t.shown()
            )));
        }
        let mut j = i + 2;
        let start = j;
        while j < toks.len() {
            let is_next_name =
                toks[j].is_word() && toks.get(j + 1).map(|n| n.kind) == Some(TokKind::Eq);
            if is_next_name {
                break;
            }
            j += 1;
        }
        let mut end = j;
        while end > start && toks[end - 1].kind == TokKind::Comma {
            end -= 1;
        }
        if end == start {
            return Err(
                toks[i + 1].err_after(format!("expected a value for '{}' in {what}", t.text))
            );
        }
        out.push(Assign {
            name: t.lower(),
            name_tok: t.clone(),
            value: toks[start..end].to_vec(),
        });
        i = j;
    }
    Ok(out)
}

/// Sort statements into scopes.
fn build(stmts: Vec<Stmt>) -> Result<Deck, ParseError> {
    let mut stack: Vec<Scope> = vec![Scope::default()];
    let mut controls = Vec::new();
    let mut globals = HashSet::new();
    for stmt in stmts {
        let head = stmt.head().clone();
        if !head.is_word() {
            return Err(head.err(format!(
                "expected an element name or a dot card, found \"{}\"",
                head.shown()
            )));
        }
        let card = head.lower();
        let in_sub = stack.len() > 1;
        if !card.starts_with('.') {
            stack.last_mut().expect("scope stack").body.push(stmt);
            continue;
        }
        match card.as_str() {
            ".subckt" => {
                let Some(name) = stmt.toks.get(1).filter(|t| t.is_word()) else {
                    return Err(match stmt.toks.get(1) {
                        Some(t) => t.err(format!(
                            "expected a subcircuit name after .subckt, found \"{}\"",
                            t.shown()
                        )),
                        None => head.err_after("expected a subcircuit name after .subckt"),
                    });
                };
                let mut i = 2;
                let mut ports: Vec<Tok> = Vec::new();
                while i < stmt.toks.len() {
                    let t = &stmt.toks[i];
                    if t.is("params:") {
                        i += 1;
                        break;
                    }
                    if stmt.toks.get(i + 1).map(|n| n.kind) == Some(TokKind::Eq) {
                        break;
                    }
                    if !t.is_word() {
                        return Err(t.err(format!(
                            "expected a port name in .subckt {}, found \"{}\"",
                            name.text,
                            t.shown()
                        )));
                    }
                    if ports.iter().any(|p| p.text.eq_ignore_ascii_case(&t.text)) {
                        return Err(t.err(format!(
                            "port '{}' appears twice in .subckt {}",
                            t.lower(),
                            name.lower()
                        )));
                    }
                    ports.push(t.clone());
                    i += 1;
                }
                let what = format!("the parameters of .subckt {}", name.lower());
                let defaults = assignments(&stmt.toks, i, &what)?;
                stack.push(Scope {
                    name: name.lower(),
                    def: Some(name.clone()),
                    ports,
                    defaults,
                    ..Scope::default()
                });
            }
            ".ends" => {
                if !in_sub {
                    return Err(head.err(".ends without a matching .subckt"));
                }
                let scope = stack.pop().expect("subckt scope");
                if let Some(t) = stmt.toks.get(1) {
                    if !t.text.eq_ignore_ascii_case(&scope.name) {
                        return Err(t.err(format!(
                            "'.ends {}' closes .subckt {}",
                            t.lower(),
                            scope.name
                        )));
                    }
                }
                let parent = stack.last_mut().expect("parent scope");
                if let Some(prev) = parent.subckts.get(&scope.name) {
                    let at = prev.def.as_ref().map(|t| t.line.number).unwrap_or(0);
                    let def = scope.def.clone().expect("subckt def token");
                    return Err(def.err(format!(
                        "subcircuit '{}' is defined twice (first at line {at})",
                        scope.name
                    )));
                }
                parent.subckts.insert(scope.name.clone(), Rc::new(scope));
            }
            ".model" => {
                let Some(name) = stmt.toks.get(1).filter(|t| t.is_word()) else {
                    return Err(head.err_after("expected a model name after .model"));
                };
                let scope = stack.last_mut().expect("scope");
                let lname = name.lower();
                if scope.models.iter().any(|(n, _)| *n == lname) {
                    return Err(name.err(format!("model '{lname}' is defined twice")));
                }
                scope.models.push((lname, stmt));
            }
            ".param" => {
                let a = assignments(&stmt.toks, 1, ".param")?;
                if a.is_empty() {
                    return Err(head.err_after("expected name=value after .param"));
                }
                stack.last_mut().expect("scope").params.extend(a);
            }
            ".ic" => stack.last_mut().expect("scope").body.push(stmt),
            ".tran" | ".op" | ".options" | ".option" | ".opt" | ".title" => {
                if in_sub {
                    return Err(head.err(format!("'{card}' is not allowed inside .subckt")));
                }
                controls.push(stmt);
            }
            ".global" => {
                for t in &stmt.toks[1..] {
                    let n = t.lower();
                    if n != "0" && n != "gnd" {
                        globals.insert(n);
                    }
                }
            }
            ".save" | ".print" | ".plot" | ".probe" | ".four" | ".meas" | ".measure" | ".temp"
            | ".width" => {}
            ".ac" | ".dc" | ".noise" | ".tf" | ".pz" | ".disto" | ".sens" | ".sp" | ".pss" => {
                return Err(head.err(format!(
                    "analysis '{card}' is not supported (freqprop runs .op and .tran)"
                )));
            }
            ".endc" => return Err(head.err("'.endc' without a matching '.control'")),
            _ => return Err(head.err(format!("unknown or unsupported card '{card}'"))),
        }
    }
    if stack.len() > 1 {
        let scope = stack.pop().expect("open subckt");
        let def = scope.def.expect("subckt def token");
        return Err(def.err(format!("missing .ends for subcircuit '{}'", scope.name)));
    }
    let top = stack.pop().expect("top scope");
    Ok(Deck {
        top,
        controls,
        globals,
    })
}

/// One instantiated scope in the lexical chain.
struct Frame<'a> {
    scope: &'a Scope,
    /// Instance path (`x1.x2`), empty at top level.
    path: String,
    params: HashMap<String, f64>,
    /// Port name -> full name of the node it connects to in the caller.
    ports: HashMap<String, String>,
}

type Chain<'a> = Vec<Rc<Frame<'a>>>;

fn lookup_in(chain: &[Rc<Frame>], name: &str) -> Option<f64> {
    chain.iter().rev().find_map(|f| f.params.get(name).copied())
}

/// Evaluate a value given by one or more tokens (a number, `{expr}`, or a bare expression).
fn eval_toks(
    toks: &[Tok],
    what: &dyn fmt::Display,
    lookup: &dyn Fn(&str) -> Option<f64>,
) -> Result<f64, ParseError> {
    if toks.len() == 1 {
        let t = &toks[0];
        if t.is_word() && parse_number(&t.text).is_none() {
            return eval_toks_expr(t, what, lookup);
        }
        return value(t, what, lookup);
    }
    // Join the tokens into one expression, remembering where each came from.
    let mut text = String::new();
    let mut starts: Vec<(usize, &Tok)> = Vec::new();
    for t in toks {
        if !text.is_empty() {
            text.push(' ');
        }
        starts.push((text.chars().count(), t));
        match t.kind {
            TokKind::Expr => {
                text.push('(');
                text.push_str(&t.text);
                text.push(')');
            }
            _ => text.push_str(&t.text),
        }
    }
    match expr::eval(&text, lookup) {
        Ok(v) => Ok(v),
        Err(e) => {
            let (start, tok) = starts
                .iter()
                .rev()
                .find(|(s, _)| *s <= e.offset)
                .copied()
                .unwrap_or(starts[0]);
            let col = tok.col + (e.offset - start).min(tok.width.saturating_sub(1));
            Err(tok
                .line
                .err(col, format!("in the expression for {what}: {}", e.message)))
        }
    }
}

/// "the {quantity} of {element}", for messages: written only when one is (a netlist of
/// 100,000 elements formatted it for each of them).
struct Of<'a>(&'a str, &'a str);

impl fmt::Display for Of<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} of {}", self.0, self.1)
    }
}

/// The value of one token (a number, `{expr}`, or a bare expression); `what` names it in
/// messages and is written only for one.
fn value(
    t: &Tok,
    what: &dyn fmt::Display,
    lookup: &dyn Fn(&str) -> Option<f64>,
) -> Result<f64, ParseError> {
    let v = match t.kind {
        TokKind::Expr => expr::eval(&t.text, lookup).map_err(|e| {
            t.line.err(
                t.col + 1 + e.offset,
                format!("in the expression for {what}: {}", e.message),
            )
        })?,
        TokKind::Word => match parse_number(&t.text) {
            Some(v) => v,
            None => {
                // Bare expressions like 2*a are accepted; plain words that are not numbers
                // are reported as such.
                let looks_expr =
                    t.text.contains(|c: char| "+*/^".contains(c)) && !t.text.starts_with('+');
                if looks_expr {
                    return eval_toks_expr(t, what, lookup);
                }
                let hint = if lookup(&t.lower()).is_some() {
                    format!(" (write {{{}}} to use the parameter)", t.lower())
                } else {
                    String::new()
                };
                return Err(t.err(format!(
                    "expected a number for {what}, found \"{}\"{hint}",
                    t.text
                )));
            }
        },
        _ => {
            return Err(t.err(format!(
                "expected a number for {what}, found \"{}\"",
                t.shown()
            )))
        }
    };
    if !v.is_finite() {
        return Err(t.err(format!("{what} is not a finite number: \"{}\"", t.shown())));
    }
    Ok(v)
}

fn eval_toks_expr(
    t: &Tok,
    what: &dyn fmt::Display,
    lookup: &dyn Fn(&str) -> Option<f64>,
) -> Result<f64, ParseError> {
    expr::eval(&t.text, lookup).map_err(|e| {
        t.line.err(
            t.col + e.offset,
            format!("in the expression for {what}: {}", e.message),
        )
    })
}

fn is_value_tok(t: &Tok) -> bool {
    match t.kind {
        TokKind::Expr => true,
        TokKind::Word => parse_number(&t.text).is_some(),
        _ => false,
    }
}

/// Positional tokens and `key=value` pairs of an element line (after the name).
struct Args<'t> {
    pos: Vec<&'t Tok>,
    keys: Vec<(&'t Tok, &'t Tok)>,
}

fn split_args<'t>(stmt: &'t Stmt, name: &str) -> Result<Args<'t>, ParseError> {
    let toks = &stmt.toks;
    let mut pos = Vec::new();
    let mut keys: Vec<(&Tok, &Tok)> = Vec::new();
    let mut i = 1;
    while i < toks.len() {
        let t = &toks[i];
        match t.kind {
            TokKind::Word | TokKind::Expr
                if toks.get(i + 1).map(|n| n.kind) == Some(TokKind::Eq) =>
            {
                let Some(v) = toks
                    .get(i + 2)
                    .filter(|v| matches!(v.kind, TokKind::Word | TokKind::Expr))
                else {
                    return Err(toks[i + 1]
                        .err_after(format!("expected a value for '{}' of {name}", t.text)));
                };
                if keys
                    .iter()
                    .any(|(k, _)| k.text.eq_ignore_ascii_case(&t.text))
                {
                    return Err(t.err(format!("'{}' is given twice for {name}", t.lower())));
                }
                keys.push((t, v));
                i += 3;
            }
            TokKind::Word | TokKind::Expr => {
                if !keys.is_empty() {
                    return Err(t.err(format!(
                        "unexpected \"{}\" after the name=value parameters of {name}",
                        t.shown()
                    )));
                }
                pos.push(t);
                i += 1;
            }
            _ => {
                return Err(t.err(format!(
                    "unexpected \"{}\" in the line of {name}",
                    t.shown()
                )))
            }
        }
    }
    Ok(Args { pos, keys })
}

struct Flattener {
    c: Circuit,
    names: HashMap<String, Rc<Line>>,
    node_ids: HashMap<String, NodeId>,
    globals: HashSet<String>,
    ics: Vec<(String, f64, Tok)>,
    /// Subcircuit definitions being expanded (by address), for recursion detection.
    active: Vec<(*const Scope, String)>,
}

impl Flattener {
    fn run(deck: &Deck, title: String) -> Result<Circuit, ParseError> {
        let mut f = Flattener {
            c: Circuit {
                title,
                ..Circuit::default()
            },
            names: HashMap::new(),
            node_ids: HashMap::new(),
            globals: deck.globals.clone(),
            ics: Vec::new(),
            active: Vec::new(),
        };
        let mut params = HashMap::new();
        for a in &deck.top.params {
            let v = eval_toks(&a.value, &format!("parameter '{}'", a.name), &|n| {
                params.get(n).copied()
            })?;
            params.insert(a.name.clone(), v);
        }
        let top = Rc::new(Frame {
            scope: &deck.top,
            path: String::new(),
            params,
            ports: HashMap::new(),
        });
        let chain = vec![top];
        f.expand(&chain)?;
        for stmt in &deck.controls {
            f.control(stmt, &chain)?;
        }
        for (name, v, tok) in std::mem::take(&mut f.ics) {
            let id = if name == "0" || name == "gnd" {
                Some(GROUND)
            } else {
                f.node_ids.get(&name).copied()
            };
            match id {
                Some(GROUND) => return Err(tok.err("cannot set an initial condition on ground")),
                Some(id) => f.c.initial_conditions.push((id, v)),
                None => {
                    return Err(tok.err(format!(
                        "'.ic' sets node '{name}', which no element connects to"
                    )))
                }
            }
        }
        Ok(f.c)
    }

    /// Full (flattened) name of a node token as seen from `frame`; ground is "0".
    fn node_name(&self, frame: &Frame, t: &Tok) -> String {
        let n = t.lower();
        if n == "0" || n == "gnd" {
            return "0".into();
        }
        if frame.path.is_empty() || self.globals.contains(&n) {
            return n;
        }
        if let Some(outer) = frame.ports.get(&n) {
            return outer.clone();
        }
        format!("{}.{}", frame.path, n)
    }

    fn node(&mut self, frame: &Frame, t: &Tok) -> NodeId {
        let name = self.node_name(frame, t);
        self.node_id(name)
    }

    /// Index of a (lower-case, flattened) node name, adding it when new. Hash-based, so
    /// large netlists stay linear.
    fn node_id(&mut self, name: String) -> NodeId {
        if name == "0" || name == "gnd" {
            return GROUND;
        }
        if let Some(&id) = self.node_ids.get(&name) {
            return id;
        }
        self.c.nodes.push(name.clone());
        let id = self.c.nodes.len() - 1;
        self.node_ids.insert(name, id);
        id
    }

    fn expand<'a>(&mut self, chain: &Chain<'a>) -> Result<(), ParseError> {
        let frame = chain.last().expect("frame").clone();
        let scope = frame.scope;
        let lookup = |n: &str| lookup_in(chain, n);
        for (name, stmt) in &scope.models {
            let key = if frame.path.is_empty() {
                name.clone()
            } else {
                format!("{}:{}", frame.path, name)
            };
            let m = diode_model(stmt, &key, &lookup)?;
            self.c.models.insert(key, m);
        }
        for stmt in &scope.body {
            let head = stmt.head();
            let lname = head.lower();
            if lname == ".ic" {
                self.ic(stmt, &frame, &lookup)?;
                continue;
            }
            let letter = lname.chars().next().unwrap_or(' ');
            let name = if frame.path.is_empty() {
                lname.clone()
            } else {
                format!("{letter}.{}.{lname}", frame.path)
            };
            if letter == 'x' {
                self.instance(stmt, chain, &lname)?;
                continue;
            }
            let kind = self.element(stmt, letter, &name, chain)?;
            if let Some(prev) = self.names.get(&name) {
                return Err(head.err(format!(
                    "duplicate element name '{name}' (first defined at {}:{})",
                    prev.file.display(),
                    prev.number
                )));
            }
            if self.c.elements.len() >= MAX_ELEMENTS {
                return Err(head.err(format!("circuit too large: more than {MAX_ELEMENTS} elements after subcircuit expansion")));
            }
            self.names.insert(name.clone(), head.line.clone());
            self.c.elements.push(Element { name, kind });
        }
        Ok(())
    }

    fn ic(
        &mut self,
        stmt: &Stmt,
        frame: &Frame,
        lookup: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<(), ParseError> {
        let t = &stmt.toks;
        let mut i = 1;
        if t.len() == 1 {
            return Err(stmt.head().err_after("expected v(node)=value after .ic"));
        }
        while i < t.len() {
            let ok = t[i].is("v")
                && t.get(i + 1).map(|x| x.kind) == Some(TokKind::LParen)
                && t.get(i + 2).is_some_and(|x| x.is_word())
                && t.get(i + 3).map(|x| x.kind) == Some(TokKind::RParen)
                && t.get(i + 4).map(|x| x.kind) == Some(TokKind::Eq)
                && t.get(i + 5).is_some();
            if !ok {
                return Err(t[i].err(format!(
                    "expected v(node)=value in .ic, found \"{}\"",
                    t[i].shown()
                )));
            }
            let node_tok = &t[i + 2];
            let n = node_tok.lower();
            let v = value(
                &t[i + 5],
                &format!("the initial condition of node {n}"),
                lookup,
            )?;
            let mapped = self.node_name(frame, node_tok);
            self.ics.push((mapped, v, node_tok.clone()));
            i += 6;
            while t.get(i).map(|x| x.kind) == Some(TokKind::Comma) {
                i += 1;
            }
        }
        Ok(())
    }

    fn nodes(
        &mut self,
        stmt: &Stmt,
        args: &Args,
        count: usize,
        name: &str,
        frame: &Frame,
    ) -> Result<Vec<NodeId>, ParseError> {
        if args.pos.len() < count {
            let found = args.pos.len();
            let at = args.pos.last().copied().unwrap_or(stmt.head());
            return Err(at.err_after(format!("{name} needs {count} nodes, found {found}")));
        }
        let mut out = Vec::new();
        for t in &args.pos[..count] {
            if t.kind != TokKind::Word {
                return Err(t.err(format!(
                    "expected a node name for {name}, found \"{}\"",
                    t.shown()
                )));
            }
            out.push(self.node(frame, t));
        }
        Ok(out)
    }

    fn element(
        &mut self,
        stmt: &Stmt,
        letter: char,
        name: &str,
        chain: &Chain,
    ) -> Result<ElementKind, ParseError> {
        let frame = chain.last().expect("frame").clone();
        let lookup = |n: &str| lookup_in(chain, n);
        let head = stmt.head();
        match letter {
            'r' | 'c' | 'l' => {
                let args = split_args(stmt, name)?;
                let n = self.nodes(stmt, &args, 2, name, &frame)?;
                let (quantity, key) = match letter {
                    'r' => ("resistance", "r"),
                    'c' => ("capacitance", "c"),
                    _ => ("inductance", "l"),
                };
                let what = Of(quantity, name);
                let mut val: Option<(f64, &Tok)> = None;
                if let Some(t) = args.pos.get(2) {
                    val = Some((value(t, &what, &lookup)?, t));
                }
                if let Some(t) = args.pos.get(3) {
                    return Err(t.err(format!("unexpected \"{}\" after the {quantity} of {name}", t.shown())));
                }
                let mut ic = None;
                for (k, v) in &args.keys {
                    let kl = k.lower();
                    if kl == key || (letter == 'r' && kl == "resistance") {
                        if val.is_some() {
                            return Err(k.err(format!("the {quantity} of {name} is given twice")));
                        }
                        val = Some((value(v, &what, &lookup)?, v));
                    } else if kl == "ic" && letter != 'r' {
                        ic = Some(value(v, &Of("initial condition", name), &lookup)?);
                    } else {
                        return Err(k.err(format!("unknown parameter '{kl}' for {name}")));
                    }
                }
                let Some((v, vt)) = val else {
                    let at = args.pos.last().copied().unwrap_or(head);
                    return Err(at.err_after(format!("expected the {quantity} of {name} after its nodes")));
                };
                if v <= 0.0 {
                    return Err(vt.err(format!("the {quantity} of {name} must be positive, found {v}")));
                }
                Ok(match letter {
                    'r' => ElementKind::Resistor { a: n[0], b: n[1], resistance: v },
                    'c' => ElementKind::Capacitor { a: n[0], b: n[1], capacitance: v, ic },
                    _ => ElementKind::Inductor { a: n[0], b: n[1], inductance: v, ic },
                })
            }
            'd' => {
                let args = split_args(stmt, name)?;
                let n = self.nodes(stmt, &args, 2, name, &frame)?;
                let Some(mt) = args.pos.get(2) else {
                    let at = args.pos.last().copied().unwrap_or(head);
                    return Err(at.err_after(format!("expected a model name for {name} after its nodes")));
                };
                if !mt.is_word() {
                    return Err(mt.err(format!("expected a model name for {name}, found \"{}\"", mt.shown())));
                }
                let mname = mt.lower();
                let Some(k) = chain.iter().rposition(|f| f.scope.models.iter().any(|(m, _)| *m == mname)) else {
                    return Err(mt.err(format!("diode {name} uses model '{mname}', which is not defined")));
                };
                let model = if chain[k].path.is_empty() { mname } else { format!("{}:{}", chain[k].path, mname) };
                let mut area = None;
                if let Some(t) = args.pos.get(3) {
                    area = Some((value(t, &Of("area", name), &lookup)?, t));
                }
                if let Some(t) = args.pos.get(4) {
                    return Err(t.err(format!("unexpected \"{}\" after the area of {name}", t.shown())));
                }
                for (k, v) in &args.keys {
                    if k.is("area") && area.is_none() {
                        area = Some((value(v, &Of("area", name), &lookup)?, v));
                    } else {
                        return Err(k.err(format!("unknown or repeated parameter '{}' for {name}", k.lower())));
                    }
                }
                let area = match area {
                    Some((a, t)) if a <= 0.0 => {
                        return Err(t.err(format!("the area of {name} must be positive, found {a}")))
                    }
                    Some((a, _)) => a,
                    None => 1.0,
                };
                Ok(ElementKind::Diode { anode: n[0], cathode: n[1], model, area })
            }
            'g' => {
                let args = split_args(stmt, name)?;
                let n = self.nodes(stmt, &args, 4, name, &frame)?;
                if let Some((k, _)) = args.keys.first() {
                    return Err(k.err(format!("unknown parameter '{}' for {name}", k.lower())));
                }
                let Some(t) = args.pos.get(4) else {
                    let at = args.pos.last().copied().unwrap_or(head);
                    return Err(at.err_after(format!("expected the transconductance of {name} after its 4 nodes")));
                };
                let gm = value(t, &Of("transconductance", name), &lookup)?;
                if let Some(t) = args.pos.get(5) {
                    return Err(t.err(format!("unexpected \"{}\" after the transconductance of {name}", t.shown())));
                }
                Ok(ElementKind::Vccs { pos: n[0], neg: n[1], cpos: n[2], cneg: n[3], gm })
            }
            'v' | 'i' => {
                let toks = &stmt.toks;
                let mut nodes = Vec::new();
                for k in 1..3 {
                    match toks.get(k) {
                        Some(t) if t.is_word() => nodes.push(self.node(&frame, t)),
                        Some(t) => return Err(t.err(format!("expected a node name for {name}, found \"{}\"", t.shown()))),
                        None => {
                            return Err(toks[toks.len() - 1].err_after(format!("{name} needs 2 nodes, found {}", k - 1)))
                        }
                    }
                }
                let source = source(&toks[3..], stmt, name, &lookup)?;
                Ok(if letter == 'v' {
                    ElementKind::VoltageSource { pos: nodes[0], neg: nodes[1], source }
                } else {
                    ElementKind::CurrentSource { pos: nodes[0], neg: nodes[1], source }
                })
            }
            'e' | 'f' | 'h' | 'b' | 'q' | 'm' | 'j' | 'k' | 't' | 's' | 'w' | 'z' | 'o' | 'u' | 'y'
            | 'p' | 'a' | 'n' => Err(head.err(format!(
                "element type '{letter}' ({name}) is not supported; supported elements are R C L D V I G and X"
            ))),
            _ => Err(head.err(format!("unknown element type '{}' in \"{}\"", letter, head.text))),
        }
    }

    fn instance<'a>(
        &mut self,
        stmt: &Stmt,
        chain: &Chain<'a>,
        lname: &str,
    ) -> Result<(), ParseError> {
        let frame = chain.last().expect("frame").clone();
        let head = stmt.head();
        let path = if frame.path.is_empty() {
            lname.to_string()
        } else {
            format!("{}.{}", frame.path, lname)
        };
        let toks = &stmt.toks;
        let mut pos: Vec<&Tok> = Vec::new();
        let mut i = 1;
        while i < toks.len() {
            let t = &toks[i];
            if t.is("params:") {
                i += 1;
                break;
            }
            if toks.get(i + 1).map(|n| n.kind) == Some(TokKind::Eq) {
                break;
            }
            if !t.is_word() {
                return Err(t.err(format!(
                    "expected a node or subcircuit name for {path}, found \"{}\"",
                    t.shown()
                )));
            }
            pos.push(t);
            i += 1;
        }
        let inst_params = assignments(toks, i, &format!("the parameters of {path}"))?;
        let Some(sub_tok) = pos.pop() else {
            return Err(head.err_after(format!(
                "expected nodes and a subcircuit name after {lname}"
            )));
        };
        let sname = sub_tok.lower();
        let Some(k) = chain
            .iter()
            .rposition(|f| f.scope.subckts.contains_key(&sname))
        else {
            return Err(sub_tok.err(format!("unknown subcircuit '{sname}' (used by {path})")));
        };
        let owner: &'a Scope = chain[k].scope;
        let def: &'a Scope = owner.subckts.get(&sname).expect("found above");
        if pos.len() != def.ports.len() {
            let ports: Vec<String> = def.ports.iter().map(|p| p.lower()).collect();
            return Err(sub_tok.err(format!(
                "{path} connects {} node(s) but subcircuit '{sname}' has {} port(s) ({})",
                pos.len(),
                def.ports.len(),
                ports.join(" ")
            )));
        }
        let ptr = def as *const Scope;
        if let Some(at) = self.active.iter().position(|(p, _)| *p == ptr) {
            let mut cycle: Vec<&str> = self.active[at..].iter().map(|(_, n)| n.as_str()).collect();
            cycle.push(&sname);
            return Err(sub_tok.err(format!(
                "recursive subcircuit '{sname}' ({})",
                cycle.join(" -> ")
            )));
        }
        if self.active.len() >= MAX_SUBCKT_DEPTH {
            return Err(sub_tok.err(format!(
                "subcircuits nested deeper than {MAX_SUBCKT_DEPTH} levels"
            )));
        }
        let mut ports = HashMap::new();
        for (p, t) in def.ports.iter().zip(&pos) {
            ports.insert(p.lower(), self.node_name(&frame, t));
        }
        // Parameters: instance values (evaluated in the caller's scope) override defaults
        // (evaluated in the new scope, in order).
        for a in &inst_params {
            if !def.defaults.iter().any(|d| d.name == a.name) {
                return Err(a.name_tok.err(format!(
                    "subcircuit '{sname}' has no parameter '{}'",
                    a.name
                )));
            }
        }
        let outer: &[Rc<Frame<'a>>] = &chain[..=k];
        let mut params: HashMap<String, f64> = HashMap::new();
        for d in &def.defaults {
            let v = if let Some(a) = inst_params.iter().find(|a| a.name == d.name) {
                eval_toks(
                    &a.value,
                    &format!("parameter '{}' of {path}", a.name),
                    &|n| lookup_in(chain, n),
                )?
            } else {
                eval_toks(
                    &d.value,
                    &format!("parameter '{}' of {path}", d.name),
                    &|n| params.get(n).copied().or_else(|| lookup_in(outer, n)),
                )?
            };
            params.insert(d.name.clone(), v);
        }
        for a in &def.params {
            let v = eval_toks(
                &a.value,
                &format!("parameter '{}' in {path}", a.name),
                &|n| params.get(n).copied().or_else(|| lookup_in(outer, n)),
            )?;
            params.insert(a.name.clone(), v);
        }
        let mut new_chain: Chain = outer.to_vec();
        new_chain.push(Rc::new(Frame {
            scope: def,
            path,
            params,
            ports,
        }));
        self.active.push((ptr, sname));
        self.expand(&new_chain)?;
        self.active.pop();
        Ok(())
    }

    fn control(&mut self, stmt: &Stmt, chain: &Chain) -> Result<(), ParseError> {
        let lookup = |n: &str| lookup_in(chain, n);
        let head = stmt.head();
        let toks = &stmt.toks;
        match head.lower().as_str() {
            ".op" => self.c.analyses.push(Analysis::Op),
            ".title" => {
                let line = &head.line.text;
                let start = line
                    .to_ascii_lowercase()
                    .find(".title")
                    .map(|p| p + 6)
                    .unwrap_or(line.len());
                self.c.title = line[start..].trim().to_string();
            }
            ".tran" => {
                let mut vals = Vec::new();
                let mut uic = false;
                let names = ["TSTEP", "TSTOP", "TSTART", "TMAX"];
                for t in &toks[1..] {
                    if t.is("uic") {
                        uic = true;
                        continue;
                    }
                    if uic || vals.len() == 4 {
                        return Err(t.err(format!("unexpected \"{}\" in .tran (expected TSTEP TSTOP [TSTART [TMAX]] [UIC])", t.shown())));
                    }
                    vals.push((
                        value(t, &format!("{} of .tran", names[vals.len()]), &lookup)?,
                        t,
                    ));
                }
                if vals.len() < 2 {
                    return Err(stmt
                        .last()
                        .err_after("expected TSTEP TSTOP [TSTART [TMAX]] [UIC] after .tran"));
                }
                for (k, (v, t)) in vals.iter().enumerate() {
                    if (k < 2 && *v <= 0.0) || *v < 0.0 {
                        return Err(
                            t.err(format!("{} of .tran must be positive, found {v}", names[k]))
                        );
                    }
                }
                let tstart = vals.get(2).map_or(0.0, |v| v.0);
                if tstart >= vals[1].0 {
                    return Err(vals[2].1.err(format!(
                        "TSTART {tstart} of .tran is not before TSTOP {}",
                        vals[1].0
                    )));
                }
                self.c.analyses.push(Analysis::Tran(Tran {
                    tstep: vals[0].0,
                    tstop: vals[1].0,
                    tstart,
                    tmax: vals.get(3).map(|v| v.0),
                    uic,
                }));
            }
            _ => self.options(stmt, &lookup)?,
        }
        Ok(())
    }

    fn options(
        &mut self,
        stmt: &Stmt,
        lookup: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<(), ParseError> {
        let toks = &stmt.toks;
        let o = &mut self.c.options;
        let mut i = 1;
        while i < toks.len() {
            let t = &toks[i];
            if t.kind == TokKind::Comma {
                i += 1;
                continue;
            }
            if !t.is_word() {
                return Err(t.err(format!("expected an option name, found \"{}\"", t.shown())));
            }
            let name = t.lower();
            let val = if toks.get(i + 1).map(|n| n.kind) == Some(TokKind::Eq) {
                let Some(v) = toks
                    .get(i + 2)
                    .filter(|v| matches!(v.kind, TokKind::Word | TokKind::Expr))
                else {
                    return Err(
                        toks[i + 1].err_after(format!("expected a value for option '{name}'"))
                    );
                };
                i += 3;
                Some(v)
            } else {
                i += 1;
                None
            };
            let need = |what: &str| -> Result<&Tok, ParseError> {
                val.ok_or_else(|| t.err_after(format!("option '{name}' needs a value ({what})")))
            };
            let num = |what: &str| -> Result<f64, ParseError> {
                let v = need(what)?;
                let x = value(v, &format!("option '{name}'"), lookup)?;
                if x <= 0.0 {
                    return Err(v.err(format!("option '{name}' must be positive, found {x}")));
                }
                Ok(x)
            };
            let int = |what: &str| -> Result<usize, ParseError> {
                let v = need(what)?;
                let x = value(v, &format!("option '{name}'"), lookup)?;
                if x < 1.0 || x.fract() != 0.0 || x > u32::MAX as f64 {
                    return Err(v.err(format!(
                        "option '{name}' must be a positive whole number, found {x}"
                    )));
                }
                Ok(x as usize)
            };
            match name.as_str() {
                "reltol" => o.reltol = num("a number")?,
                "abstol" => o.abstol = num("a number")?,
                "vntol" => o.vntol = num("a number")?,
                "chgtol" => o.chgtol = num("a number")?,
                "gmin" => o.gmin = num("a number")?,
                "trtol" => o.trtol = num("a number")?,
                "maxord" => o.maxord = int("a whole number")?,
                "itl1" => o.itl1 = int("a whole number")?,
                "itl4" => o.itl4 = int("a whole number")?,
                "method" => {
                    let v = need("trap, gear or euler")?;
                    o.method = match v.lower().as_str() {
                        "trap" | "trapezoidal" => Method::Trap,
                        "gear" => Method::Gear,
                        "euler" | "be" => Method::Euler,
                        other => {
                            return Err(v.err(format!(
                            "unknown integration method '{other}' (expected trap, gear or euler)"
                        )))
                        }
                    };
                }
                "interp" => {
                    if let Some(v) = val {
                        return Err(v.err("option 'interp' takes no value"));
                    }
                    o.interp = true;
                }
                _ => o
                    .other
                    .push((name, val.map(|v| v.shown()).unwrap_or_default())),
            }
        }
        Ok(())
    }
}

/// Parse the source specification of a V or I element.
fn source(
    toks: &[Tok],
    stmt: &Stmt,
    name: &str,
    lookup: &dyn Fn(&str) -> Option<f64>,
) -> Result<Source, ParseError> {
    let mut s = Source::default();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let kw = t.lower();
        if t.is_word() && kw == "dc" {
            let Some(v) = toks.get(i + 1).filter(|v| is_value_tok(v)) else {
                return Err(match toks.get(i + 1) {
                    Some(v) => v.err(format!(
                        "expected a number after DC for {name}, found \"{}\"",
                        v.shown()
                    )),
                    None => t.err_after(format!("expected a number after DC for {name}")),
                });
            };
            if s.dc.is_some() {
                return Err(t.err(format!("the DC value of {name} is given twice")));
            }
            s.dc = Some(value(v, &Of("DC value", name), lookup)?);
            i += 2;
        } else if t.is_word() && kw == "ac" {
            if s.ac.is_some() {
                return Err(t.err(format!("AC is given twice for {name}")));
            }
            i += 1;
            let mut mag = 1.0;
            let mut phase = 0.0;
            if let Some(v) = toks.get(i).filter(|v| is_value_tok(v)) {
                mag = value(v, &format!("the AC magnitude of {name}"), lookup)?;
                i += 1;
                if let Some(v) = toks.get(i).filter(|v| is_value_tok(v)) {
                    phase = value(v, &format!("the AC phase of {name}"), lookup)?;
                    i += 1;
                }
            }
            s.ac = Some((mag, phase));
        } else if t.is_word() && matches!(kw.as_str(), "sin" | "pulse" | "pwl") {
            if s.tran.is_some() {
                return Err(t.err(format!("{name} has more than one transient function")));
            }
            i += 1;
            let mut args: Vec<(f64, &Tok)> = Vec::new();
            let paren = toks.get(i).map(|x| x.kind) == Some(TokKind::LParen);
            let mut close: Option<&Tok> = None;
            if paren {
                i += 1;
            }
            let fname = kw.to_ascii_uppercase();
            while i < toks.len() {
                let a = &toks[i];
                match a.kind {
                    TokKind::Comma => {}
                    TokKind::RParen if paren => {
                        close = Some(a);
                        i += 1;
                        break;
                    }
                    TokKind::Word | TokKind::Expr if is_value_tok(a) || a.kind == TokKind::Expr => {
                        let v = value(
                            a,
                            &format!("argument {} of {fname} of {name}", args.len() + 1),
                            lookup,
                        )?;
                        args.push((v, a));
                    }
                    _ if !paren => break,
                    _ => {
                        return Err(a.err(format!(
                            "expected a number in {fname}(...) of {name}, found \"{}\"",
                            a.shown()
                        )))
                    }
                }
                i += 1;
            }
            if paren && close.is_none() {
                return Err(stmt
                    .last()
                    .err_after(format!("missing ')' closing {fname}( of {name}")));
            }
            let end_tok = close.or(args.last().map(|a| a.1)).unwrap_or(t);
            let a: Vec<f64> = args.iter().map(|x| x.0).collect();
            let get = |k: usize| a.get(k).copied().unwrap_or(0.0);
            let tran = match kw.as_str() {
                "sin" => {
                    if a.len() < 3 || a.len() > 6 {
                        return Err(end_tok.err(format!(
                            "SIN of {name} takes 3 to 6 numbers (VO VA FREQ [TD [THETA [PHASE]]]), found {}",
                            a.len()
                        )));
                    }
                    TranFn::Sin {
                        vo: a[0],
                        va: a[1],
                        freq: a[2],
                        td: get(3),
                        theta: get(4),
                        phase: get(5),
                    }
                }
                "pulse" => {
                    if a.len() < 2 || a.len() > 7 {
                        return Err(end_tok.err(format!(
                            "PULSE of {name} takes 2 to 7 numbers (V1 V2 [TD TR TF PW PER]), found {}",
                            a.len()
                        )));
                    }
                    TranFn::Pulse {
                        v1: a[0],
                        v2: a[1],
                        td: get(2),
                        tr: get(3),
                        tf: get(4),
                        pw: get(5),
                        per: get(6),
                    }
                }
                _ => {
                    if a.is_empty() || a.len() % 2 != 0 {
                        return Err(end_tok.err(format!(
                            "PWL of {name} takes pairs of numbers (t1 v1 t2 v2 ...), found {} number(s)",
                            a.len()
                        )));
                    }
                    let pts: Vec<(f64, f64)> = a.chunks(2).map(|p| (p[0], p[1])).collect();
                    for k in 1..pts.len() {
                        if pts[k].0 < pts[k - 1].0 {
                            return Err(args[2 * k].1.err(format!(
                                "PWL times of {name} must not decrease: {} after {}",
                                pts[k].0,
                                pts[k - 1].0
                            )));
                        }
                    }
                    TranFn::Pwl(pts)
                }
            };
            s.tran = Some(tran);
        } else if t.is_word()
            && matches!(
                kw.as_str(),
                "exp" | "sffm" | "am" | "trnoise" | "trrandom" | "external" | "distof1" | "distof2"
            )
        {
            return Err(t.err(format!(
                "source function '{}' of {name} is not supported (supported: DC, AC, SIN, PULSE, PWL)",
                kw.to_ascii_uppercase()
            )));
        } else if is_value_tok(t) && s.dc.is_none() && i == 0 {
            s.dc = Some(value(t, &Of("value", name), lookup)?);
            i += 1;
        } else {
            return Err(t.err(format!(
                "expected DC, AC, SIN, PULSE or PWL for {name}, found \"{}\"",
                t.shown()
            )));
        }
    }
    Ok(s)
}

/// Parse a `.model NAME D(...)` card.
fn diode_model(
    stmt: &Stmt,
    key: &str,
    lookup: &dyn Fn(&str) -> Option<f64>,
) -> Result<DiodeModel, ParseError> {
    let toks = &stmt.toks;
    let name = &toks[1];
    let Some(ty) = toks.get(2) else {
        return Err(name.err_after(format!(
            "expected a model type (D) for model '{}'",
            name.lower()
        )));
    };
    if !ty.is("d") {
        return Err(ty.err(format!(
            "model type '{}' of model '{}' is not supported (only D diode models)",
            ty.lower(),
            name.lower()
        )));
    }
    let mut m = DiodeModel::default();
    let mut i = 3;
    let mut depth = 0usize;
    let mut seen: Vec<String> = Vec::new();
    while i < toks.len() {
        let t = &toks[i];
        match t.kind {
            TokKind::Comma => {
                i += 1;
                continue;
            }
            TokKind::LParen if depth == 0 && i == 3 => {
                depth = 1;
                i += 1;
                continue;
            }
            TokKind::RParen if depth == 1 => {
                depth = 2;
                i += 1;
                continue;
            }
            _ => {}
        }
        if depth == 2 || !t.is_word() || toks.get(i + 1).map(|x| x.kind) != Some(TokKind::Eq) {
            return Err(t.err(format!(
                "expected NAME=value in model '{key}', found \"{}\"",
                t.shown()
            )));
        }
        let Some(vt) = toks
            .get(i + 2)
            .filter(|v| matches!(v.kind, TokKind::Word | TokKind::Expr))
        else {
            return Err(
                toks[i + 1].err_after(format!("expected a value for {} in model '{key}'", t.text))
            );
        };
        let p = t.lower();
        let canon = match p.as_str() {
            "cj0" | "cj" => "cjo",
            "pb" => "vj",
            "mj" => "m",
            other => other,
        };
        if seen.iter().any(|s| s == canon) {
            return Err(t.err(format!(
                "parameter {} of model '{key}' is given twice",
                p.to_ascii_uppercase()
            )));
        }
        seen.push(canon.to_string());
        let v = value(
            vt,
            &format!("{} of model '{key}'", p.to_ascii_uppercase()),
            lookup,
        )?;
        let bad = |cond: &str| {
            vt.err(format!(
                "{} of model '{key}' must be {cond}, found {v}",
                p.to_ascii_uppercase()
            ))
        };
        match canon {
            "is" if v > 0.0 => m.is = v,
            "n" if v > 0.0 => m.n = v,
            "rs" if v >= 0.0 => m.rs = v,
            "cjo" if v >= 0.0 => m.cjo = v,
            "vj" if v > 0.0 => m.vj = v,
            "m" if v >= 0.0 => m.m = v,
            "fc" if (0.0..1.0).contains(&v) => m.fc = v,
            "tt" if v >= 0.0 => m.tt = v,
            "bv" if v > 0.0 => m.bv = Some(v),
            "ibv" if v > 0.0 => m.ibv = v,
            "level" if v == 1.0 => {}
            // Temperature and noise parameters: no effect at the nominal 27 °C in the time domain.
            "eg" | "xti" | "kf" | "af" => {}
            "is" | "n" | "vj" | "bv" | "ibv" => return Err(bad("positive")),
            "rs" | "cjo" | "m" | "tt" => return Err(bad("zero or positive")),
            "fc" => return Err(bad("in [0, 1)")),
            "level" => return Err(bad("1")),
            _ => {
                return Err(t.err(format!(
                    "unknown diode model parameter '{}' in model '{key}' (supported: IS N RS CJO VJ M FC TT BV IBV; EG XTI KF AF are accepted and ignored)",
                    p.to_ascii_uppercase()
                )))
            }
        }
        i += 3;
    }
    if depth == 1 {
        return Err(stmt
            .last()
            .err_after(format!("missing ')' in model '{key}'")));
    }
    Ok(m)
}
