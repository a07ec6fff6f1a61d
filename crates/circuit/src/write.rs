//! SPICE netlist writer.
//!
//! The output is a flat netlist (title, elements, `.model` cards, `.options`, `.ic`,
//! analyses, `.end`) that ngspice reads. Numbers are written in Rust's shortest round-trip
//! exponent form (`1e-3`, `4.7e3`), so [`parse_str`](crate::parse_str) reads back exactly the
//! same values. Only options that differ from their defaults are written.
use crate::model::*;
use std::fmt::Write;

/// A number in shortest round-trip form (`{:e}`).
fn num(x: f64) -> String {
    format!("{x:e}")
}

fn node(c: &Circuit, id: NodeId) -> &str {
    if id == GROUND {
        return "0";
    }
    c.nodes.get(id).map(String::as_str).unwrap_or("?")
}

/// The element's name, with its SPICE prefix letter prepended when it does not have it.
fn name(e: &Element) -> String {
    let letter = match e.kind {
        ElementKind::Resistor { .. } => 'r',
        ElementKind::Capacitor { .. } => 'c',
        ElementKind::Inductor { .. } => 'l',
        ElementKind::Diode { .. } => 'd',
        ElementKind::CurrentSource { .. } => 'i',
        ElementKind::VoltageSource { .. } => 'v',
        ElementKind::Vccs { .. } => 'g',
    };
    let clean: String = e.name.chars().filter(|c| !c.is_whitespace()).collect();
    if clean
        .chars()
        .next()
        .is_some_and(|c| c.eq_ignore_ascii_case(&letter))
    {
        clean
    } else {
        format!("{letter}{clean}")
    }
}

fn source(s: &Source) -> String {
    let mut out = String::new();
    if let Some(dc) = s.dc {
        let _ = write!(out, " DC {}", num(dc));
    }
    if let Some((m, p)) = s.ac {
        let _ = write!(out, " AC {} {}", num(m), num(p));
    }
    match &s.tran {
        Some(TranFn::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        }) => {
            let args = [vo, va, freq, td, theta, phase].map(|x| num(*x)).join(" ");
            let _ = write!(out, " SIN({args})");
        }
        Some(TranFn::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
        }) => {
            let args = [v1, v2, td, tr, tf, pw, per].map(|x| num(*x)).join(" ");
            let _ = write!(out, " PULSE({args})");
        }
        Some(TranFn::Pwl(pts)) => {
            let args: Vec<String> = pts
                .iter()
                .map(|(t, v)| format!("{} {}", num(*t), num(*v)))
                .collect();
            let _ = write!(out, " PWL({})", args.join(" "));
        }
        None => {}
    }
    out
}

/// Write a netlist that ngspice accepts and that parses back to the same circuit.
///
/// `parse_str(&write_netlist(&c))` equals `c` when `c` is what the parser could have produced:
/// node names are single words numbered in order of first use by the elements (as the parser
/// numbers them), every node is used by an element, element names start with their SPICE
/// letter, and all values are finite. Only the first line of the title is written.
pub fn write_netlist(c: &Circuit) -> String {
    let mut s = String::new();
    let title = c.title.lines().next().unwrap_or("");
    let _ = writeln!(s, "{}", title.trim());
    for e in &c.elements {
        let n = name(e);
        let _ = match &e.kind {
            ElementKind::Resistor { a, b, resistance } => {
                writeln!(
                    s,
                    "{n} {} {} {}",
                    node(c, *a),
                    node(c, *b),
                    num(*resistance)
                )
            }
            ElementKind::Capacitor {
                a,
                b,
                capacitance: v,
                ic,
            }
            | ElementKind::Inductor {
                a,
                b,
                inductance: v,
                ic,
            } => {
                let ic = ic.map(|x| format!(" ic={}", num(x))).unwrap_or_default();
                writeln!(s, "{n} {} {} {}{ic}", node(c, *a), node(c, *b), num(*v))
            }
            ElementKind::Diode {
                anode,
                cathode,
                model,
                area,
            } => {
                // ngspice 39 rejects a positional area ("could not find a valid modelname").
                let area = if *area == 1.0 {
                    String::new()
                } else {
                    format!(" area={}", num(*area))
                };
                writeln!(
                    s,
                    "{n} {} {} {model}{area}",
                    node(c, *anode),
                    node(c, *cathode)
                )
            }
            ElementKind::CurrentSource {
                pos,
                neg,
                source: src,
            }
            | ElementKind::VoltageSource {
                pos,
                neg,
                source: src,
            } => {
                writeln!(s, "{n} {} {}{}", node(c, *pos), node(c, *neg), source(src))
            }
            ElementKind::Vccs {
                pos,
                neg,
                cpos,
                cneg,
                gm,
            } => writeln!(
                s,
                "{n} {} {} {} {} {}",
                node(c, *pos),
                node(c, *neg),
                node(c, *cpos),
                node(c, *cneg),
                num(*gm)
            ),
        };
    }
    for (mname, m) in &c.models {
        let mut p = format!(
            "IS={} N={} RS={} CJO={} VJ={} M={} FC={} TT={}",
            num(m.is),
            num(m.n),
            num(m.rs),
            num(m.cjo),
            num(m.vj),
            num(m.m),
            num(m.fc),
            num(m.tt)
        );
        if let Some(bv) = m.bv {
            let _ = write!(p, " BV={}", num(bv));
        }
        let _ = write!(p, " IBV={}", num(m.ibv));
        let _ = writeln!(s, ".model {mname} D({p})");
    }
    let o = &c.options;
    let d = Options::default();
    let mut opts: Vec<String> = Vec::new();
    for (key, v, dv) in [
        ("reltol", o.reltol, d.reltol),
        ("abstol", o.abstol, d.abstol),
        ("vntol", o.vntol, d.vntol),
        ("chgtol", o.chgtol, d.chgtol),
        ("gmin", o.gmin, d.gmin),
        ("trtol", o.trtol, d.trtol),
    ] {
        if v != dv {
            opts.push(format!("{key}={}", num(v)));
        }
    }
    if o.method != d.method {
        let m = match o.method {
            Method::Trap => "trap",
            Method::Gear => "gear",
            Method::Euler => "euler",
        };
        opts.push(format!("method={m}"));
    }
    for (key, v, dv) in [
        ("maxord", o.maxord, d.maxord),
        ("itl1", o.itl1, d.itl1),
        ("itl4", o.itl4, d.itl4),
    ] {
        if v != dv {
            opts.push(format!("{key}={v}"));
        }
    }
    if o.interp {
        opts.push("interp".into());
    }
    for (k, v) in &o.other {
        opts.push(if v.is_empty() {
            k.clone()
        } else {
            format!("{k}={v}")
        });
    }
    if !opts.is_empty() {
        let _ = writeln!(s, ".options {}", opts.join(" "));
    }
    if !c.initial_conditions.is_empty() {
        let ics: Vec<String> = c
            .initial_conditions
            .iter()
            .map(|(n, v)| format!("v({})={}", node(c, *n), num(*v)))
            .collect();
        let _ = writeln!(s, ".ic {}", ics.join(" "));
    }
    for a in &c.analyses {
        let _ = match a {
            Analysis::Op => writeln!(s, ".op"),
            Analysis::Tran(t) => {
                let mut line = format!(".tran {} {} {}", num(t.tstep), num(t.tstop), num(t.tstart));
                if let Some(tmax) = t.tmax {
                    let _ = write!(line, " {}", num(tmax));
                }
                if t.uic {
                    line.push_str(" uic");
                }
                writeln!(s, "{line}")
            }
        };
    }
    s.push_str(".end\n");
    s
}
