//! CSV traces: a header row naming the columns, the first being the time axis (`time` or
//! `t`, any case, optionally with a unit such as `time[s]`), then one row per time point.
//!
//! Fields are separated by commas when the header row holds a comma, otherwise by white
//! space (spaces or tabs). Empty lines and lines starting with `#` are skipped. Column names
//! may be quoted (`"v(out)"`). The time column must not decrease.

use std::path::Path;

use circuit::{Quantity, Signal, Waveforms};

use crate::error::{Result, StoreError};

fn csv_err(path: &Path, line: usize, column: usize, msg: impl Into<String>) -> StoreError {
    StoreError::Csv {
        path: path.into(),
        line,
        column,
        msg: msg.into(),
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

/// Quantity guessed from a column name: `i(..)` or `..#branch` is a current, else a voltage.
fn quantity_for(name: &str) -> Quantity {
    let n = name.to_ascii_lowercase();
    if (n.starts_with("i(") && n.ends_with(')')) || n.ends_with("#branch") {
        Quantity::Current
    } else {
        Quantity::Voltage
    }
}

/// Read a CSV trace file.
pub fn read_csv(path: impl AsRef<Path>) -> Result<Waveforms> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
    parse_csv_bytes(&bytes, path)
}

/// Parse the bytes of a CSV trace (they must be UTF-8 text); `path` is only used in error
/// messages.
pub fn parse_csv_bytes(bytes: &[u8], path: &Path) -> Result<Waveforms> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let upto = &bytes[..e.valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // The field holding the offending byte (1-based, as the other CSV errors count).
        let column = upto[line_start..].iter().filter(|&&b| b == b',').count() + 1;
        csv_err(path, line, column, "not UTF-8 text (not a CSV trace?)")
    })?;
    parse_csv(text, path)
}

/// Parse CSV text; `path` is only used in error messages.
pub fn parse_csv(text: &str, path: &Path) -> Result<Waveforms> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((hline, header)) = lines.next() else {
        return Err(csv_err(
            path,
            1,
            1,
            "empty file: expected a header row such as `time,v(out)`",
        ));
    };
    let comma = header.contains(',');
    let split = |l: &'_ str| -> Vec<String> {
        if comma {
            l.split(',').map(|f| unquote(f).to_string()).collect()
        } else {
            l.split_whitespace()
                .map(|f| unquote(f).to_string())
                .collect()
        }
    };
    let names = split(header);
    let first = names[0].to_ascii_lowercase();
    let base = first.split(['[', '(', ' ']).next().unwrap_or("").trim();
    if base != "time" && base != "t" {
        return Err(csv_err(
            path,
            hline,
            1,
            format!(
                "expected the first column to be the time axis named `time` or `t`, found `{}`",
                names[0]
            ),
        ));
    }
    for (c, n) in names.iter().enumerate().skip(1) {
        if n.is_empty() {
            return Err(csv_err(
                path,
                hline,
                c + 1,
                "empty column name in the header row",
            ));
        }
        if let Some(prev) = names[1..c]
            .iter()
            .position(|p| circuit::canonical_name(p) == circuit::canonical_name(n))
        {
            return Err(csv_err(
                path,
                hline,
                c + 1,
                format!(
                    "column `{n}` repeats column {} (`{}`)",
                    prev + 2,
                    names[prev + 1]
                ),
            ));
        }
    }
    let signals: Vec<Signal> = names[1..]
        .iter()
        .map(|n| Signal {
            name: n.clone(),
            quantity: quantity_for(n),
        })
        .collect();
    let mut w = Waveforms::new("", "", signals);
    for (lno, line) in lines {
        let fields = split(line);
        if fields.len() != names.len() {
            let column = fields.len().min(names.len()) + 1;
            return Err(csv_err(
                path,
                lno,
                column,
                format!(
                    "expected {} fields as in the header row, found {}",
                    names.len(),
                    fields.len()
                ),
            ));
        }
        let mut vals = Vec::with_capacity(fields.len());
        for (c, f) in fields.iter().enumerate() {
            let v = f.parse::<f64>().map_err(|_| {
                csv_err(
                    path,
                    lno,
                    c + 1,
                    format!("column `{}`: expected a number, found `{f}`", names[c]),
                )
            })?;
            vals.push(v);
        }
        if !vals[0].is_finite() {
            return Err(csv_err(
                path,
                lno,
                1,
                format!("time `{}` is not finite", fields[0]),
            ));
        }
        if let Some(&last) = w.time.last() {
            if vals[0] < last {
                return Err(csv_err(
                    path,
                    lno,
                    1,
                    format!("time {} is smaller than the previous time {last}", vals[0]),
                ));
            }
        }
        w.time.push(vals[0]);
        for (col, v) in w.data.iter_mut().zip(&vals[1..]) {
            col.push(*v);
        }
    }
    if w.time.is_empty() {
        return Err(csv_err(
            path,
            hline + 1,
            1,
            "no data rows after the header row",
        ));
    }
    Ok(w)
}

/// Write waveforms as CSV (`time,<names...>`, full `f64` precision), atomically.
pub fn write_csv(path: impl AsRef<Path>, w: &Waveforms) -> Result<()> {
    use std::io::Write;
    let path = path.as_ref();
    let mut f = crate::atomic::AtomicFile::create(path)?;
    let io = |e| StoreError::io(path, e);
    let mut header = String::from("time");
    for s in &w.signals {
        header.push(',');
        header.push_str(&s.name);
    }
    writeln!(f, "{header}").map_err(io)?;
    for (i, t) in w.time.iter().enumerate() {
        let mut row = format!("{t:e}");
        for col in &w.data {
            row.push(',');
            row.push_str(&format!("{:e}", col[i]));
        }
        writeln!(f, "{row}").map_err(io)?;
    }
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_csv(text, Path::new("t.csv")).unwrap_err().to_string()
    }

    #[test]
    fn not_utf8_names_line_and_field() {
        let e = parse_csv_bytes(b"time,v(a)\n0,1\n1,\xff2\n", Path::new("t.csv"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv:3:2: not UTF-8 text (not a CSV trace?)");
    }

    #[test]
    fn comma_and_whitespace() {
        let w = parse_csv(
            "# comment\ntime,v(out),\"i(v1)\"\n0,1,2\n1e-3, 1.5 ,-2\n",
            Path::new("a"),
        )
        .unwrap();
        assert_eq!(w.time, vec![0.0, 1e-3]);
        assert_eq!(w.signal("out").unwrap(), &[1.0, 1.5]);
        assert_eq!(w.signals[1].quantity, Quantity::Current);
        let w = parse_csv("t out\tin\n0 1 2\n\n2 3 4\n", Path::new("a")).unwrap();
        assert_eq!(w.signal("v(in)").unwrap(), &[2.0, 4.0]);
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            err("time,a\n0,1\n1,x\n"),
            "t.csv:3:2: column `a`: expected a number, found `x`"
        );
        assert_eq!(
            err("time,a,b\n0,1,2\n1,3\n"),
            "t.csv:3:3: expected 3 fields as in the header row, found 2"
        );
        assert_eq!(err("x,a\n0,1\n"), "t.csv:1:1: expected the first column to be the time axis named `time` or `t`, found `x`");
        assert_eq!(
            err("time,a\n1,1\n0,1\n"),
            "t.csv:3:1: time 0 is smaller than the previous time 1"
        );
        assert_eq!(
            err("time,a\n"),
            "t.csv:2:1: no data rows after the header row"
        );
        assert_eq!(
            err("time,a,v(A)\n0,1,2\n"),
            "t.csv:1:3: column `v(A)` repeats column 2 (`a`)"
        );
    }

    #[test]
    fn write_read_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.csv");
        let mut w = Waveforms::new("", "", vec![Signal::voltage("a"), Signal::current("v1")]);
        w.time = vec![0.0, 0.1, 0.30000000000000004];
        w.data = vec![vec![1.0 / 3.0, -2.0, 1e-300], vec![0.0, 5.0, -7.25]];
        write_csv(&p, &w).unwrap();
        let back = read_csv(&p).unwrap();
        assert_eq!(back.time, w.time);
        assert_eq!(back.data, w.data);
        assert_eq!(back.signals, w.signals);
    }
}
