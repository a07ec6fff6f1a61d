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

/// Most values an axis may have.
pub const MAX_AXIS_VALUES: usize = 100_000;
/// Most points a sweep may have (the product of the axis lengths, or their common length).
pub const MAX_POINTS: usize = 100_000;

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
        if let Some(n) = self
            .linspace
            .map(|l| l.2)
            .or(self.logspace.map(|l| l.2))
            .filter(|&n| n > MAX_AXIS_VALUES)
        {
            return Err(format!(
                "axis '{}': {n} values, at most {MAX_AXIS_VALUES}",
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

/// What a metric reads: a signal of a simulation, or a result of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Training base: mean loss on the training set after the last epoch.
    TrainLoss,
    /// Training base: training-set accuracy after the last epoch (classification).
    TrainAccuracy,
    /// Training base: mean loss on the test set after the last epoch.
    TestLoss,
    /// Training base: test-set accuracy after the last epoch (classification).
    TestAccuracy,
    /// Training base: the best test accuracy over all epochs (classification).
    BestTestAccuracy,
    /// Training base: cosine between the frequency-propagation (transient) gradient and the
    /// exact adjoint gradient at the initial conductances, averaged over the first
    /// `gradcheck.samples` training samples (as `freqprop gradcheck` reports it).
    GradCosine,
    /// Training base: relative error `|est − exact| / |exact|` of the same comparison.
    GradRelError,
}

impl MetricKind {
    /// Whether the kind belongs to a training base (otherwise to a simulation).
    pub fn is_train(self) -> bool {
        !matches!(
            self,
            MetricKind::Final
                | MetricKind::Max
                | MetricKind::Min
                | MetricKind::Mean
                | MetricKind::Rms
                | MetricKind::Amplitude
                | MetricKind::Phase
        )
    }
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
    /// Simulation base: the signal, a node name (`out`) or a branch current (`i(v1)`).
    #[serde(default)]
    pub signal: Option<String>,
    /// For `amplitude` and `phase`.
    pub freq: Option<Freq>,
    /// Start of the time window for max/min/mean/rms (seconds; default: the start).
    pub from: Option<f64>,
}

/// The base configuration every point starts from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseSpec {
    /// `"simulation"` (a netlist) or `"train"` (a training configuration).
    pub kind: String,
    /// Simulation base: the netlist file, relative to the spec file.
    pub netlist: Option<PathBuf>,
    /// Training base: the training configuration (TOML, as for `freqprop train`), relative to
    /// the spec file.
    pub config: Option<PathBuf>,
    /// Training base: fixed overrides applied to every point before the axes, as dotted keys
    /// (`"train.engine" = "transient"`); any TOML value.
    pub set: Option<toml::Table>,
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
    /// The base file's text (netlist or training configuration).
    pub base_text: String,
    /// The base file's path (resolved against the spec file's directory).
    pub base_path: PathBuf,
    /// Training base: the configuration with `[base] set` applied, as a TOML tree.
    pub train: Option<crate::train::TrainBase>,
    /// Axis names (simulation: lower case; training: dotted keys as written) and values.
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

    /// Parse spec text; `path` names it in errors and anchors the relative base path.
    pub fn parse(text: &str, path: &Path) -> Result<Spec, SweepError> {
        let err = |m: String| SweepError::Input(format!("{}: {m}", path.display()));
        let raw: RawSpec = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let train = match raw.base.kind.as_str() {
            "simulation" => false,
            "train" => true,
            k => {
                return Err(err(format!(
                    "unknown base kind \"{k}\" (expected \"simulation\" or \"train\")"
                )))
            }
        };
        let (file, field, other) = if train {
            (
                &raw.base.config,
                "config",
                raw.base.netlist.is_some().then_some("netlist"),
            )
        } else {
            (
                &raw.base.netlist,
                "netlist",
                if raw.base.config.is_some() {
                    Some("config")
                } else if raw.base.set.is_some() {
                    Some("set")
                } else {
                    None
                },
            )
        };
        if let Some(o) = other {
            return Err(err(format!(
                "[base] {o} is not used by kind = \"{}\" (it takes {field})",
                raw.base.kind
            )));
        }
        let file = file.as_ref().ok_or_else(|| {
            err(format!(
                "[base] kind = \"{}\" needs {field} = \"...\" (relative to the spec file)",
                raw.base.kind
            ))
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let base_path = dir.join(file);
        let base_text = std::fs::read_to_string(&base_path)
            .map_err(|e| err(format!("{field} {}: {e}", base_path.display())))?;
        let mut axes: Vec<(String, Vec<f64>)> = Vec::new();
        for a in &raw.axes {
            let name = if train {
                a.param.trim().to_string()
            } else {
                a.param.to_ascii_lowercase()
            };
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
        let n_points = match raw.combine {
            Combine::Zip => axes.first().map_or(Some(1), |(_, v)| Some(v.len())),
            Combine::Product => axes
                .iter()
                .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len())),
        };
        if n_points.is_none_or(|n| n > MAX_POINTS) {
            return Err(err(format!(
                "{} points, at most {MAX_POINTS}: split the sweep",
                n_points.map_or("more than 2^64".to_string(), |n| n.to_string())
            )));
        }
        if raw.metrics.is_empty() {
            return Err(err("no [[metric]] given".into()));
        }
        for (i, m) in raw.metrics.iter().enumerate() {
            if raw.metrics[..i].iter().any(|o| o.name == m.name) {
                return Err(err(format!("metric '{}' is given twice", m.name)));
            }
            if m.kind.is_train() != train {
                return Err(err(format!(
                    "metric '{}': kind {:?} is for a {} base, this one is \"{}\"",
                    m.name,
                    m.kind,
                    if train { "simulation" } else { "train" },
                    raw.base.kind
                )));
            }
            if train {
                if let Some(f) = ["signal", "freq", "from"]
                    .into_iter()
                    .zip([m.signal.is_some(), m.freq.is_some(), m.from.is_some()])
                    .find_map(|(f, given)| given.then_some(f))
                {
                    return Err(err(format!(
                        "metric '{}': {f} is not used by kind {:?}",
                        m.name, m.kind
                    )));
                }
                continue;
            }
            if m.signal.is_none() {
                return Err(err(format!("metric '{}': signal is required", m.name)));
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
        let train_base = if train {
            Some(
                crate::train::TrainBase::new(&base_text, &base_path, raw.base.set.as_ref())
                    .map_err(err)?,
            )
        } else {
            None
        };
        let spec = Spec {
            path: path.to_path_buf(),
            name: raw.name.unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "sweep".into())
            }),
            combine: raw.combine,
            base: raw.base,
            base_text,
            base_path,
            train: train_base,
            axes,
            metrics: raw.metrics,
        };
        if let Some(tb) = &spec.train {
            // Every axis must name a numeric key of the configuration, and every point's
            // configuration must be valid.
            tb.check_axes(&spec.axes).map_err(err)?;
            let names = spec.param_names();
            for (i, vals) in spec.points().iter().enumerate() {
                tb.point_config(&names, vals)
                    .map_err(|m| err(format!("point {i}: {m}")))?;
            }
            return Ok(spec);
        }
        // Every axis must name a top-level .param of the netlist, and the base must parse.
        let names: Vec<String> = spec.axes.iter().map(|(n, _)| n.clone()).collect();
        let firsts: Vec<f64> = spec.axes.iter().map(|(_, v)| v[0]).collect();
        let text = crate::netlist::substitute(&spec.base_text, &names, &firsts)
            .map_err(|m| err(format!("{}: {m}", spec.base_path.display())))?;
        let c = circuit::parse_str(&text, &spec.base_path)
            .map_err(|e| SweepError::Input(e.to_string()))?;
        if c.tran().is_none() {
            return Err(err(format!(
                "{}: the netlist has no .tran analysis",
                spec.base_path.display()
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
