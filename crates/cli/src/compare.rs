//! `freqprop compare A B`: compare trace B (candidate) against trace A (reference) node by
//! node; see the `compare` crate for the method.
//!
//! Exit codes: 0 when every compared signal is within the relative tolerance, 1 when not,
//! 2 when an input cannot be read or the traces cannot be compared at all (no common time
//! window, no common signal, an unknown `--nodes` entry).
use std::io::Write;
use std::path::PathBuf;

use compare::{CompareOptions, Report};

use crate::CliError;

/// Arguments of `freqprop compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Reference trace: SPICE rawfile, freqprop HDF5 or CSV (chosen by content).
    pub reference: PathBuf,
    /// Candidate trace, compared against the reference.
    pub candidate: PathBuf,
    /// Relative tolerance on max|diff| / max(swing, floor) per signal.
    #[arg(long, default_value_t = compare::DEFAULT_TOL, value_parser = parse_tol)]
    pub tol: f64,
    /// Compare only these signals (comma separated; `out`, `v(out)`, `i(v1)`, `v1#branch`).
    #[arg(long, value_delimiter = ',', value_name = "N1,N2")]
    pub nodes: Vec<String>,
    /// Start of the compared window in seconds (SPICE suffixes allowed: 1m, 20us).
    #[arg(long, value_parser = parse_time, value_name = "T")]
    pub from: Option<f64>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write a PNG overlaying the worst signal's two traces and their difference.
    #[arg(long, value_name = "OUT.png")]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub memory: crate::resources::MemoryArgs,
}

fn parse_tol(s: &str) -> Result<f64, String> {
    let v = parse_spice_number(s)?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("tolerance must be a finite number >= 0, got `{s}`"))
    }
}

pub(crate) fn parse_time(s: &str) -> Result<f64, String> {
    let v = parse_spice_number(s)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("time must be finite, got `{s}`"))
    }
}

/// A number with an optional SPICE scale suffix (`f p n u m k meg g t`, any case) and
/// trailing unit letters (`1ms`, `20us`, `3.3V`).
fn parse_spice_number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad = || format!("expected a number such as 1e-3 or 1m, got `{s}`");
    // Longest numeric prefix.
    let mut end = 0;
    for k in (1..=t.len()).rev() {
        if t.is_char_boundary(k) && t[..k].parse::<f64>().is_ok() {
            end = k;
            break;
        }
    }
    if end == 0 {
        return Err(bad());
    }
    let x: f64 = t[..end].parse().map_err(|_| bad())?;
    let rest = t[end..].to_ascii_lowercase();
    if rest.is_empty() {
        return Ok(x);
    }
    if !rest.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(bad());
    }
    let exp10: i32 = if rest.starts_with("meg") {
        6
    } else if rest.starts_with("mil") {
        return Ok(x * 25.4e-6);
    } else {
        match rest.as_bytes()[0] {
            b'f' => -15,
            b'p' => -12,
            b'n' => -9,
            b'u' => -6,
            b'm' => -3,
            b'k' => 3,
            b'g' => 9,
            b't' => 12,
            _ => 0, // a bare unit such as `s` or `V`
        }
    };
    let digits = &t[..end];
    if digits.contains(['e', 'E'])
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.".contains(c))
    {
        return Ok(x * 10f64.powi(exp10));
    }
    // `20u` parses as `20e-6`, the correctly rounded value (20 * 1e-6 is not).
    format!("{digits}e{exp10}").parse().map_err(|_| bad())
}

/// Run `freqprop compare`.
pub fn run(args: Args) -> Result<i32, CliError> {
    // an unreadable input is reported by the reader below, with its own message
    let estimate = crate::resources::compare_estimate(&args.reference, &args.candidate).ok();
    if let Some(e) = &estimate {
        crate::resources::check("compare", e, &args.memory)?;
    }
    let reference = store::read_any(&args.reference).map_err(|e| CliError::Input(e.to_string()))?;
    let candidate = store::read_any(&args.candidate).map_err(|e| CliError::Input(e.to_string()))?;
    let opts = CompareOptions {
        tol: args.tol,
        nodes: if args.nodes.is_empty() {
            None
        } else {
            Some(
                args.nodes
                    .iter()
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect(),
            )
        },
        from: args.from,
        ..CompareOptions::default()
    };
    let report = compare::compare(&reference, &candidate, &opts).map_err(|e| {
        CliError::Input(format!(
            "cannot compare {} with {}: {e}",
            args.reference.display(),
            args.candidate.display()
        ))
    })?;

    let text = if args.json {
        let mut js = json_report(&report);
        if let (Some(e), Some(o)) = (&estimate, js.as_object_mut()) {
            o.insert("memory_estimate".into(), e.to_json());
        }
        js.to_string() + "\n"
    } else {
        table(&report, &args)
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();

    if let Some(png) = &args.plot {
        if let Some(worst) = report.worst() {
            let aligned = compare::align(&reference, &candidate, &worst.name, &opts)
                .map_err(|e| CliError::Run(format!("plot: {e}")))?;
            let diff: Vec<f64> = aligned
                .candidate
                .iter()
                .zip(&aligned.reference)
                .map(|(c, r)| c - r)
                .collect();
            plot::overlay(
                png,
                &worst.name,
                (&aligned.time, &aligned.reference),
                (&aligned.time, &aligned.candidate),
                (&aligned.time, &diff),
            )
            .map_err(|e| CliError::Run(e.to_string()))?;
            if !args.json {
                eprintln!(
                    "plot: {} ({}: both traces above, their difference below)",
                    png.display(),
                    worst.name
                );
            }
        }
    }
    Ok(if report.pass { 0 } else { 1 })
}

fn num(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}

/// The `--json` object.
pub fn json_report(r: &Report) -> serde_json::Value {
    serde_json::json!({
        "pass": r.pass,
        "tol": r.tol,
        "from": num(r.from),
        "to": num(r.to),
        "signals": r.signals.iter().map(|s| serde_json::json!({
            "name": s.name,
            "max_abs": num(s.max_abs),
            "at_time": num(s.at_time),
            "swing": num(s.swing),
            "rel": num(s.rel),
            "pass": s.pass,
        })).collect::<Vec<_>>(),
        "only_in_reference": r.only_in_reference,
        "only_in_candidate": r.only_in_candidate,
    })
}

/// C-style `%.{prec}e` (`5.000e-01`); `nan`/`inf` spelled out.
fn e(x: f64, prec: usize) -> String {
    if !x.is_finite() {
        return format!("{x}").to_ascii_lowercase();
    }
    let s = format!("{x:.prec$e}");
    let (m, ex) = s.split_once('e').expect("exponent");
    let ex: i32 = ex.parse().expect("exponent digits");
    format!("{m}e{}{:02}", if ex < 0 { '-' } else { '+' }, ex.abs())
}

fn table(r: &Report, args: &Args) -> String {
    let mut s = String::new();
    let w = r
        .signals
        .iter()
        .map(|x| x.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    s += &format!(
        "{:<w$}  {:>13}  {:>12}  {:>13}  {:>10}  result\n",
        "signal", "worst |diff|", "at time", "swing", "relative",
    );
    for x in &r.signals {
        let u = x.quantity.unit();
        s += &format!(
            "{:<w$}  {:>11} {:<1}  {:>10} s  {:>11} {:<1}  {:>10}  {}\n",
            x.name,
            e(x.max_abs, 3),
            u,
            e(x.at_time, 4),
            e(x.swing, 3),
            u,
            e(x.rel, 3),
            if x.pass { "ok" } else { "FAIL" },
        );
    }
    if !r.only_in_reference.is_empty() {
        s += &format!(
            "only in reference ({}): {}\n",
            args.reference.display(),
            r.only_in_reference.join(", ")
        );
    }
    if !r.only_in_candidate.is_empty() {
        s += &format!(
            "only in candidate ({}): {}\n",
            args.candidate.display(),
            r.only_in_candidate.join(", ")
        );
    }
    let n = r.signals.len();
    let window = format!("[{}, {}] s", e(r.from, 4), e(r.to, 4));
    let tol = e(r.tol, 1);
    if r.pass {
        s += &format!("PASS: {n} signal(s) within relative tolerance {tol} over {window}\n");
    } else {
        let failed = r.failures();
        let worst = r.worst().expect("a report has rows");
        let mut line = format!(
            "FAIL: {failed} of {n} signal(s) exceed relative tolerance {tol} over {window}"
        );
        if failed > 0 {
            line += &format!(
                "; worst {} off by {} {} ({} of its swing) at t = {} s",
                worst.name,
                e(worst.max_abs, 3),
                worst.quantity.unit(),
                e(worst.rel, 3),
                e(worst.at_time, 4)
            );
        }
        if !args.nodes.is_empty()
            && (!r.only_in_reference.is_empty() || !r.only_in_candidate.is_empty())
        {
            line += "; requested signals missing from one trace";
        }
        s += &line;
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spice_numbers() {
        assert_eq!(parse_spice_number("1e-3").unwrap(), 1e-3);
        assert_eq!(parse_spice_number("2m").unwrap(), 2e-3);
        assert_eq!(parse_spice_number("20us").unwrap(), 20e-6);
        assert_eq!(parse_spice_number("1.5MEG").unwrap(), 1.5e6);
        assert_eq!(parse_spice_number("3s").unwrap(), 3.0);
        assert!(parse_spice_number("abc").is_err());
        assert!(parse_spice_number("1e-3x2").is_err());
        assert!(parse_tol("-1").is_err());
        assert_eq!(e(0.5, 3), "5.000e-01");
        assert_eq!(e(1234.0, 1), "1.2e+03");
        assert_eq!(e(f64::NAN, 3), "nan");
    }
}
