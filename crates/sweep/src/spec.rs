//! The sweep specification (TOML) and its expansion into points.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::SweepError;

/// How the axes are combined into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// Cartesian product; the first axis varies slowest.
    #[default]
    Product,
    /// Element-wise: every axis has the same length, point `i` takes value `i` of each.
    Zip,
}

/// One axis: a parameter name and its values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    /// The `.param` name it sets (case-insensitive, as in the netlist).
    pub param: String,
    /// Explicit values.
    pub values: Option<Vec<f64>>,
    /// `[start, stop, num]`: `num` evenly spaced values, both ends included.
    pub linspace: Option<(f64, f64, usize)>,
    /// `[start, stop, num]`: `num` geometrically spaced values from `start` to `stop` (the
    /// values themselves, not their exponents), both ends included.
    pub logspace: Option<(f64, f64, usize)>,
}

impl AxisSpec {
    /// The axis values.
    pub fn values(&self) -> Result<Vec<f64>, String> {
        let given = [
            self.values.is_some(),
            self.linspace.is_some(),
            self.logspace.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            return Err(format!(
                "axis '{}': give exactly one of values, linspace, logspace",
                self.param
            ));
        }
        let v = if let Some(v) = &self.values {
            v.clone()
        } else if let Some((a, b, n)) = self.linspace {
            spaced(a, b, n, false)
        } else if let Some((a, b, n)) = self.logspace {
            if a * b <= 0.0 || a.is_nan() || b.is_nan() {
                return Err(format!(
                    "axis '{}': logspace needs start and stop of the same sign, not zero",
                    self.param
                ));
            }
            spaced(a, b, n, true)
        } else {
            unreachable!()
        };
        if v.is_empty() {
            return Err(format!("axis '{}' has no values", self.param));
        }
        if let Some(x) = v.iter().find(|x| !x.is_finite()) {
            return Err(format!("axis '{}': value {x} is not finite", self.param));
        }
        Ok(v)
    }
}

fn spaced(a: f64, b: f64, n: usize, log: bool) -> Vec<f64> {
    (0..n)
        .map(|i| {
            if i == 0 {
                a
            } else if i + 1 == n {
                b
            } else {
                let t = i as f64 / (n - 1) as f64;
                if log {
                    a * (b / a).powf(t)
                } else {
                    a + (b - a) * t
                }
            }
        })
        .collect()
}

/// What a metric reads from a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// The last sample.
    Final,
    /// Largest sample at or after `from`.
    Max,
    /// Smallest sample at or after `from`.
    Min,
    /// Time average (trapezoidal) over `[from, end]`.
    Mean,
    /// Root mean square (trapezoidal on the square) over `[from, end]`.
    Rms,
    /// Amplitude at `freq` over the last whole period of the run (coherent readout).
    Amplitude,
    /// Phase in degrees at `freq` (cosine convention, absolute time), same window.
    Phase,
}

/// A frequency: a number in hertz or the name of a swept/`.param` parameter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Freq {
    /// Hertz.
    Hz(f64),
    /// A parameter name whose value (at this point) is the frequency.
    Param(String),
}

/// One metric collected per point.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// Column name in the table.
    pub name: String,
    /// What to compute.
    pub kind: MetricKind,
    /// The signal: a node name (`out`) or a branch current (`i(v1)`).
    pub signal: String,
    /// For `amplitude` and `phase`.
    pub freq: Option<Freq>,
    /// Start of the time window for max/min/mean/rms (seconds; default: the start).
    pub from: Option<f64>,
}

/// The base configuration every point starts from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseSpec {
    /// `"simulation"` (the only kind so far; `"train"` is reserved for learner sweeps).
    pub kind: String,
    /// Netlist file, relative to the spec file.
    pub netlist: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Option<String>,
    #[serde(default)]
    combine: Combine,
    base: BaseSpec,
    #[serde(default, rename = "axis")]
    axes: Vec<AxisSpec>,
    #[serde(default, rename = "metric")]
    metrics: Vec<MetricSpec>,
}

/// A parsed, validated sweep specification.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file.
    pub path: PathBuf,
    /// Sweep name (default: the spec file's stem).
    pub name: String,
    /// How axes combine.
    pub combine: Combine,
    /// Base configuration.
    pub base: BaseSpec,
    /// The base netlist text.
    pub netlist_text: String,
    /// The base netlist's path (resolved).
    pub netlist_path: PathBuf,
    /// Axis names (lower case) and values.
    pub axes: Vec<(String, Vec<f64>)>,
    /// Metrics.
    pub metrics: Vec<MetricSpec>,
}

impl Spec {
    /// Read and validate a spec file.
    pub fn load(path: &Path) -> Result<Spec, SweepError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SweepError::Input(format!("{}: {e}", path.display())))?;
        Spec::parse(&text, path)
    }

    /// Parse spec text; `path` names it in errors and anchors the relative netlist path.
    pub fn parse(text: &str, path: &Path) -> Result<Spec, SweepError> {
        let err = |m: String| SweepError::Input(format!("{}: {m}", path.display()));
        let raw: RawSpec = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        match raw.base.kind.as_str() {
            "simulation" => {}
            "train" => {
                return Err(err(
                    "base kind \"train\" is not supported yet (only \"simulation\")".into(),
                ))
            }
            k => {
                return Err(err(format!(
                    "unknown base kind \"{k}\" (expected \"simulation\")"
                )))
            }
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let netlist_path = dir.join(&raw.base.netlist);
        let netlist_text = std::fs::read_to_string(&netlist_path)
            .map_err(|e| err(format!("netlist {}: {e}", netlist_path.display())))?;
        let mut axes: Vec<(String, Vec<f64>)> = Vec::new();
        for a in &raw.axes {
            let name = a.param.to_ascii_lowercase();
            if axes.iter().any(|(n, _)| *n == name) {
                return Err(err(format!("axis '{name}' is given twice")));
            }
            axes.push((name, a.values().map_err(err)?));
        }
        if raw.combine == Combine::Zip {
            if let Some((n0, v0)) = axes.first() {
                for (n, v) in &axes {
                    if v.len() != v0.len() {
                        return Err(err(format!(
                            "combine = \"zip\" needs axes of equal length: '{n0}' has {}, '{n}' has {}",
                            v0.len(),
                            v.len()
                        )));
                    }
                }
            }
        }
        if raw.metrics.is_empty() {
            return Err(err("no [[metric]] given".into()));
        }
        for (i, m) in raw.metrics.iter().enumerate() {
            if raw.metrics[..i].iter().any(|o| o.name == m.name) {
                return Err(err(format!("metric '{}' is given twice", m.name)));
            }
            let wants_freq = matches!(m.kind, MetricKind::Amplitude | MetricKind::Phase);
            if wants_freq != m.freq.is_some() {
                return Err(err(format!(
                    "metric '{}': freq is {} for kind {:?}",
                    m.name,
                    if wants_freq {
                        "required"
                    } else {
                        "not allowed"
                    },
                    m.kind
                )));
            }
        }
        let spec = Spec {
            path: path.to_path_buf(),
            name: raw.name.unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "sweep".into())
            }),
            combine: raw.combine,
            base: raw.base,
            netlist_text,
            netlist_path,
            axes,
            metrics: raw.metrics,
        };
        // Every axis must name a top-level .param of the netlist, and the base must parse.
        let names: Vec<String> = spec.axes.iter().map(|(n, _)| n.clone()).collect();
        let firsts: Vec<f64> = spec.axes.iter().map(|(_, v)| v[0]).collect();
        let text = crate::netlist::substitute(&spec.netlist_text, &names, &firsts)
            .map_err(|m| err(format!("{}: {m}", spec.netlist_path.display())))?;
        let c = circuit::parse_str(&text, &spec.netlist_path)
            .map_err(|e| SweepError::Input(e.to_string()))?;
        if c.tran().is_none() {
            return Err(err(format!(
                "{}: the netlist has no .tran analysis",
                spec.netlist_path.display()
            )));
        }
        for m in &spec.metrics {
            if let Some(Freq::Param(p)) = &m.freq {
                if !names.contains(&p.to_ascii_lowercase()) {
                    return Err(err(format!(
                        "metric '{}': freq = \"{p}\" is not an axis name",
                        m.name
                    )));
                }
            }
        }
        Ok(spec)
    }

    /// Parameter (axis) names, in spec order.
    pub fn param_names(&self) -> Vec<String> {
        self.axes.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Metric names, in spec order.
    pub fn metric_names(&self) -> Vec<String> {
        self.metrics.iter().map(|m| m.name.clone()).collect()
    }

    /// Every point's parameter values, in index order.
    pub fn points(&self) -> Vec<Vec<f64>> {
        if self.axes.is_empty() {
            return vec![vec![]];
        }
        match self.combine {
            Combine::Zip => (0..self.axes[0].1.len())
                .map(|i| self.axes.iter().map(|(_, v)| v[i]).collect())
                .collect(),
            Combine::Product => {
                let mut pts: Vec<Vec<f64>> = vec![vec![]];
                for (_, vals) in &self.axes {
                    pts = pts
                        .into_iter()
                        .flat_map(|p| {
                            vals.iter().map(move |&x| {
                                let mut q = p.clone();
                                q.push(x);
                                q
                            })
                        })
                        .collect();
                }
                pts
            }
        }
    }
}
