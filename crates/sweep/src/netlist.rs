//! Setting `.param` values in netlist text.

/// Rewrite the top-level `.param name=value` definitions of `names` (lower case) to `values`,
/// leaving everything else (comments, other parameters, expressions that use them) as
/// written, so parameters derived from a swept one follow it. Values are written in Rust's
/// shortest round-trip form, so the parser reads back exactly the same `f64`.
///
/// Errors: a name that no top-level `.param` line defines, or defines twice.
pub fn substitute(text: &str, names: &[String], values: &[f64]) -> Result<String, String> {
    let mut found = vec![0usize; names.len()];
    let mut out = String::with_capacity(text.len() + 64);
    let mut depth = 0usize;
    for (lineno, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        let lower = trimmed.to_ascii_lowercase();
        let word = lower.split_whitespace().next().unwrap_or("");
        if lineno > 0 && word == ".subckt" {
            depth += 1;
        } else if lineno > 0 && word == ".ends" {
            depth = depth.saturating_sub(1);
        }
        if lineno == 0 || depth > 0 || word != ".param" {
            out.push_str(line);
            continue;
        }
        let lead = line.len() - trimmed.len();
        let (new, hits) = rewrite_param_line(&line[lead..], names, values);
        for h in hits {
            found[h] += 1;
            if found[h] > 1 {
                return Err(format!(
                    "line {}: parameter '{}' is defined twice; cannot sweep it",
                    lineno + 1,
                    names[h]
                ));
            }
        }
        out.push_str(&line[..lead]);
        out.push_str(&new);
    }
    if let Some(k) = found.iter().position(|&c| c == 0) {
        return Err(format!(
            "no top-level `.param {}=...` line to sweep (add one with a default value)",
            names[k]
        ));
    }
    Ok(out)
}

/// Rewrite one `.param` line; returns the new line and the indices of the names it set.
fn rewrite_param_line(line: &str, names: &[String], values: &[f64]) -> (String, Vec<usize>) {
    let b = line.as_bytes();
    let mut out = String::new();
    let mut hits = Vec::new();
    let mut i = ".param".len();
    out.push_str(&line[..i]);
    loop {
        // whitespace
        let s = i;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        out.push_str(&line[s..i]);
        if i >= b.len() || b[i] == b';' || b[i] == b'\n' || b[i] == b'\r' || b[i] == b'$' {
            out.push_str(&line[i..]);
            return (out, hits);
        }
        // name
        let s = i;
        while i < b.len() && !matches!(b[i], b'=' | b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        let name = line[s..i].to_ascii_lowercase();
        out.push_str(&line[s..i]);
        // spaces, '=', spaces
        let s = i;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            out.push_str(&line[s..]);
            return (out, hits);
        }
        i += 1;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        out.push_str(&line[s..i]);
        // value: {expr} or a token
        let s = i;
        if i < b.len() && b[i] == b'{' {
            let mut d = 0;
            while i < b.len() {
                if b[i] == b'{' {
                    d += 1;
                } else if b[i] == b'}' {
                    d -= 1;
                    if d == 0 {
                        i += 1;
                        break;
                    }
                }
                i += 1;
            }
        } else {
            while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b';') {
                i += 1;
            }
        }
        match names.iter().position(|n| *n == name) {
            Some(k) => {
                out.push_str(&format_value(values[k]));
                hits.push(k);
            }
            None => out.push_str(&line[s..i]),
        }
    }
}

/// Shortest round-trip decimal form of `x` that SPICE number syntax accepts (`1e3`,
/// `-2.5e-9`).
pub fn format_value(x: f64) -> String {
    format!("{x:e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_named_top_level_params() {
        let text = "t\n.param r=1k c={1/(2*pi*r*1k)} f = 50 ; comment\n.subckt x a b\n.param r=5\n.ends\nR1 a 0 {r}\n";
        let out = substitute(text, &["r".into(), "f".into()], &[2200.0, 0.1]).unwrap();
        assert_eq!(
            out,
            "t\n.param r=2.2e3 c={1/(2*pi*r*1k)} f = 1e-1 ; comment\n.subckt x a b\n.param r=5\n.ends\nR1 a 0 {r}\n"
        );
        let err = substitute(text, &["q".into()], &[1.0]).unwrap_err();
        assert!(err.contains("param q"), "{err}");
    }

    #[test]
    fn value_round_trips_through_the_parser() {
        for x in [0.1, 1.0 / 3.0, 1e-9 * 7.3, 2.5e12, 12345.678901234] {
            let text = "t\n.param p=1\nR1 a 0 {p}\nV1 a 0 1\n.op\n.end\n";
            let out = substitute(text, &["p".into()], &[x]).unwrap();
            let c = circuit::parse_str(&out, "t.cir").unwrap();
            let r = c.elements.iter().find(|e| e.name == "r1").unwrap();
            match r.kind {
                circuit::ElementKind::Resistor { resistance, .. } => {
                    assert_eq!(resistance.to_bits(), x.to_bits())
                }
                _ => panic!("not a resistor"),
            }
        }
    }
}
