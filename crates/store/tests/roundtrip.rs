//! Property tests: rawfile write/read round-trips exactly.

use num_complex::Complex64;
use proptest::prelude::*;
use std::path::Path;
use store::raw::{
    parse_raw, write_raw_to, RawFormat, RawPlot, RawReadOptions, RawValues, RawVariable,
};

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        -1e3..1e3f64,
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
    ]
}

fn plot(complex: bool) -> impl Strategy<Value = RawPlot> {
    (1usize..6, 0usize..40).prop_flat_map(move |(nv, np)| {
        let width = if complex { 2 } else { 1 };
        (
            proptest::collection::vec(any_f64(), nv * np * width),
            "[a-z]{1,8}",
            "[A-Za-z ]{0,12}",
        )
            .prop_map(move |(vals, title, plotname)| {
                let variables: Vec<_> = (0..nv)
                    .map(|i| {
                        if i == 0 {
                            RawVariable::new("time", "time")
                        } else {
                            RawVariable::new(&format!("v({title}{i})"), "voltage")
                        }
                    })
                    .collect();
                let values = if complex {
                    RawValues::Complex(
                        (0..nv)
                            .map(|v| {
                                (0..np)
                                    .map(|p| {
                                        Complex64::new(
                                            vals[2 * (p * nv + v)],
                                            vals[2 * (p * nv + v) + 1],
                                        )
                                    })
                                    .collect()
                            })
                            .collect(),
                    )
                } else {
                    RawValues::Real(
                        (0..nv)
                            .map(|v| (0..np).map(|p| vals[p * nv + v]).collect())
                            .collect(),
                    )
                };
                RawPlot {
                    title: title.clone(),
                    date: "Mon Jan  1 00:00:00  2024".into(),
                    plotname: plotname.trim().to_string(),
                    variables,
                    values,
                }
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn binary_and_ascii_roundtrip_exactly(plots in proptest::collection::vec(prop_oneof![plot(false), plot(true)], 1..4), ascii in any::<bool>()) {
        let fmt = if ascii { RawFormat::Ascii } else { RawFormat::Binary };
        let mut buf = Vec::new();
        write_raw_to(&mut buf, &plots, fmt).unwrap();
        let back = parse_raw(&buf, Path::new("prop.raw"), &RawReadOptions::default()).unwrap();
        // Compare bit patterns so that -0.0 and 0.0 are told apart.
        prop_assert_eq!(back.len(), plots.len());
        for (a, b) in back.iter().zip(&plots) {
            prop_assert_eq!(&a.variables, &b.variables);
            prop_assert_eq!(&a.title, &b.title);
            prop_assert_eq!(&a.plotname, &b.plotname);
            let bits = |p: &RawPlot| -> Vec<u64> {
                match &p.values {
                    RawValues::Real(c) => c.iter().flatten().map(|x| x.to_bits()).collect(),
                    RawValues::Complex(c) => c.iter().flatten().flat_map(|x| [x.re.to_bits(), x.im.to_bits()]).collect(),
                }
            };
            prop_assert_eq!(a.values.is_complex(), b.values.is_complex());
            prop_assert_eq!(a.n_points(), b.n_points());
            prop_assert_eq!(bits(a), bits(b));
        }
    }

    #[test]
    fn truncated_input_never_panics(plots in proptest::collection::vec(plot(false), 1..3), cut in 0usize..2000, ascii in any::<bool>()) {
        let fmt = if ascii { RawFormat::Ascii } else { RawFormat::Binary };
        let mut buf = Vec::new();
        write_raw_to(&mut buf, &plots, fmt).unwrap();
        let cut = cut.min(buf.len());
        let _ = parse_raw(&buf[..cut], Path::new("cut.raw"), &RawReadOptions::default());
        let _ = parse_raw(&buf[..cut], Path::new("cut.raw"), &RawReadOptions { lenient_points: true });
    }
}
