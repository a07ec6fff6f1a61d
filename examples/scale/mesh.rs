//! The diode mesh of the scale measurement (examples/scale), shared with benches/simulate.rs
//! and tests/scale_mesh.rs: a side × side grid of 1 kΩ resistors, 1 kΩ from each boundary node
//! to ground, 1 nF per node, a diode from every third node to ground (alternating orientation),
//! driven every `PITCH` nodes by SIN current sources (`current`: SPD matrix) or SIN voltage
//! sources through 1 kΩ (`voltage`); `.tran 1u 1m 0 1u`.
#![allow(dead_code)]
use std::fmt::Write as _;

pub const PITCH: usize = 16;

pub fn side_of(nodes: usize) -> usize {
    ((nodes as f64).sqrt().round() as usize).max(2)
}

pub fn node(r: usize, c: usize) -> String {
    format!("m{r}_{c}")
}

/// Probe nodes: a drive point, a point between drive points, a corner.
pub fn probes(side: usize) -> Vec<String> {
    let d = (PITCH / 2).min(side - 1);
    let mid = (d + PITCH / 2).min(side - 1);
    vec![node(d, d), node(mid, d), node(0, 0)]
}

/// The deck of a `side × side` mesh with the given drive (`current` or `voltage`), 1,000
/// steps of 1 µs.
pub fn mesh_deck(side: usize, drive: &str) -> String {
    mesh_deck_steps(side, drive, 1000)
}

/// The deck with `.tran 1u {steps}u 0 1u`.
pub fn mesh_deck_steps(side: usize, drive: &str, steps: usize) -> String {
    let mut s = String::with_capacity(side * side * 64);
    let _ = writeln!(
        s,
        "{side}x{side} diode mesh with node capacitance, {drive} drive (examples/scale.rs)"
    );
    let _ = writeln!(
        s,
        "* 1k links, 1k boundary to ground, 1n per node, diode on every 3rd node, drive every {PITCH} nodes"
    );
    let mut k = 0;
    for r in 0..side {
        for c in 0..side {
            if c + 1 < side {
                k += 1;
                let _ = writeln!(s, "R{k} {} {} 1k", node(r, c), node(r, c + 1));
            }
            if r + 1 < side {
                k += 1;
                let _ = writeln!(s, "R{k} {} {} 1k", node(r, c), node(r + 1, c));
            }
        }
    }
    for r in 0..side {
        for c in 0..side {
            if r == 0 || c == 0 || r + 1 == side || c + 1 == side {
                let _ = writeln!(s, "RB{r}_{c} {} 0 1k", node(r, c));
            }
            let _ = writeln!(s, "C{r}_{c} {} 0 1n", node(r, c));
        }
    }
    let mut d = 0;
    for r in 0..side {
        for c in 0..side {
            if (r * side + c) % 3 == 0 {
                d += 1;
                if d % 2 == 1 {
                    let _ = writeln!(s, "D{d} {} 0 dm", node(r, c));
                } else {
                    let _ = writeln!(s, "D{d} 0 {} dm", node(r, c));
                }
            }
        }
    }
    let points: Vec<(usize, usize)> = (PITCH / 2..side)
        .step_by(PITCH)
        .flat_map(|r| (PITCH / 2..side).step_by(PITCH).map(move |c| (r, c)))
        .collect();
    let points = if points.is_empty() {
        vec![(side / 2, side / 2)]
    } else {
        points
    };
    let n = points.len();
    for (j, &(r, c)) in points.iter().enumerate() {
        let phase = 360.0 * j as f64 / n as f64;
        match drive {
            "voltage" => {
                let _ = writeln!(s, "V{j} s{j} 0 SIN(0 5 1k 0 0 {phase:.3})");
                let _ = writeln!(s, "RS{j} s{j} {} 1k", node(r, c));
            }
            _ => {
                let _ = writeln!(s, "I{j} 0 {} SIN(0 5m 1k 0 0 {phase:.3})", node(r, c));
            }
        }
    }
    let _ = writeln!(s, ".model dm D(IS=1e-14 N=1)");
    let saves: Vec<String> = probes(side).iter().map(|p| format!("v({p})")).collect();
    let _ = writeln!(s, ".save {}", saves.join(" "));
    if steps == 1000 {
        let _ = writeln!(s, ".tran 1u 1m 0 1u");
    } else {
        let _ = writeln!(s, ".tran 1u {steps}u 0 1u");
    }
    let _ = writeln!(s, ".end");
    s
}
