//! Every figure kind renders to a non-trivial PNG (checked by its signature and size).
use plot::{heatmap, histogram, line_chart, overlay, stacked, Axes, Series};

fn is_png(path: &std::path::Path) -> bool {
    let b = std::fs::read(path).unwrap();
    b.len() > 2000 && b.starts_with(b"\x89PNG\r\n\x1a\n")
}

#[test]
fn all_kinds_render() {
    let dir = tempfile::tempdir().unwrap();
    let t: Vec<f64> = (0..500).map(|i| i as f64 * 1e-5).collect();
    let a: Vec<f64> = t
        .iter()
        .map(|t| (2e3 * std::f64::consts::PI * t).sin())
        .collect();
    let b: Vec<f64> = a.iter().map(|v| v * 1.01).collect();
    let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
    let p = dir.path().join("overlay.png");
    overlay(&p, "v(out)", (&t, &a), (&t, &b), (&t, &d)).unwrap();
    assert!(is_png(&p));
    let f: Vec<f64> = (1..200).map(|k| k as f64 * 100.0).collect();
    let m: Vec<f64> = f.iter().map(|f| 1.0 / f).collect();
    let p = dir.path().join("spectrum.png");
    stacked(
        &p,
        &[
            ("wave", Axes::new("t", "v"), vec![Series::new("v", &t, &a)]),
            (
                "spectrum",
                Axes::new("f", "|V|").log_y().marker(1e3, "f_e"),
                vec![Series::new("mag", &f, &m)],
            ),
        ],
    )
    .unwrap();
    assert!(is_png(&p));
    let p = dir.path().join("hist.png");
    histogram(&p, "conductances", "g (S)", &a, 20).unwrap();
    assert!(is_png(&p));
    let p = dir.path().join("heat.png");
    heatmap(
        &p,
        "accuracy",
        "beta",
        "f_e",
        &[1.0, 2.0],
        &[3.0, 4.0, 5.0],
        &[vec![0.1, 0.2], vec![0.3, 0.4], vec![0.5, 0.6]],
    )
    .unwrap();
    assert!(is_png(&p));
    let p = dir.path().join("line.png");
    line_chart(
        &p,
        "loss",
        &Axes::new("epoch", "loss").log_y(),
        &[Series::new("train", &f, &m), Series::new("test", &f, &m)],
    )
    .unwrap();
    assert!(is_png(&p));
    if let Ok(keep) = std::env::var("FREQPROP_KEEP_PLOTS") {
        for n in ["overlay", "spectrum", "hist", "heat", "line"] {
            std::fs::copy(
                dir.path().join(format!("{n}.png")),
                format!("{keep}/{n}.png"),
            )
            .unwrap();
        }
    }
}
