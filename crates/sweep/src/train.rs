//! The training base: a `freqprop train` configuration whose keys the axes set.
//!
//! The configuration is read as a TOML tree; `[base] set` overrides and each point's axis
//! values are written into the tree by dotted key (`train.lr`, `transient.beta`, and array
//! elements by index, `network.hidden.0`) before it is deserialised into
//! [`learn::train::Config`], so unknown keys are refused exactly as `freqprop train` refuses
//! them. Each point trains in a single-threaded pool, so its result does not depend on how
//! many cores the machine (or the Slurm task) has: local and cluster tables agree bit for bit.

use std::path::{Path, PathBuf};

use learn::train::{Config, Trainer};
use toml::Value;

use crate::spec::{MetricKind, MetricSpec};
use crate::SweepError;

/// A parsed training base.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainBase {
    /// The configuration file.
    pub path: PathBuf,
    /// Its TOML tree with `[base] set` applied.
    pub value: Value,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// The slot a dotted key names in `root`, creating missing tables on the way (but not array
/// elements); a missing last key is created as an empty table, for the caller to replace.
fn slot<'a>(root: &'a mut Value, key: &str) -> Result<&'a mut Value, String> {
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("'{key}' is not a dotted key such as train.lr"));
    }
    let mut cur = root;
    for (k, p) in parts.iter().enumerate() {
        let here = parts[..k].join(".");
        cur = match cur {
            Value::Table(t) => t
                .entry(p.to_string())
                // a missing table on the way, or (last step) a placeholder for the caller
                .or_insert_with(|| Value::Table(Default::default())),
            Value::Array(a) => {
                let n = a.len();
                let i: usize = p.parse().map_err(|_| {
                    format!("'{here}' is an array: index it with a number ({here}.0)")
                })?;
                a.get_mut(i).ok_or_else(|| {
                    format!("'{here}' has {n} elements, index {i} is out of range")
                })?
            }
            other => {
                return Err(format!(
                    "'{here}' is {} in the configuration, not a table",
                    type_name(other)
                ))
            }
        };
    }
    Ok(cur)
}

/// Set `key` to an arbitrary TOML value.
pub fn set_value(root: &mut Value, key: &str, v: Value) -> Result<(), String> {
    *slot(root, key)? = v;
    Ok(())
}

/// Set `key` to the number `x`: a float where the configuration has a float, an integer where
/// it has an integer (then `x` must be integral); a key the file does not give gets an
/// integer when `x` is integral and a float otherwise (float fields accept both).
pub fn set_number(root: &mut Value, key: &str, x: f64) -> Result<(), String> {
    let integral = x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15;
    let s = slot(root, key)?;
    let new = match s {
        Value::Float(_) => Value::Float(x),
        Value::Integer(_) if integral => Value::Integer(x as i64),
        Value::Integer(_) => {
            return Err(format!(
                "'{key}' is an integer in the configuration; {x} is not"
            ))
        }
        // A fresh placeholder from `slot`: the key is not in the file.
        Value::Table(t) if t.is_empty() => {
            if integral {
                Value::Integer(x as i64)
            } else {
                Value::Float(x)
            }
        }
        Value::Array(_) => {
            return Err(format!(
                "'{key}' is an array in the configuration; axes set numbers (sweep an element: \
                 {key}.0)"
            ))
        }
        other => {
            return Err(format!(
                "'{key}' is {} in the configuration; axes set numbers",
                type_name(other)
            ))
        }
    };
    *s = new;
    Ok(())
}

fn to_config(v: Value) -> Result<Config, String> {
    v.try_into::<Config>()
        .map_err(|e| e.to_string().trim().to_string())
}

impl TrainBase {
    /// Parse the configuration text and apply `[base] set`; the result must be a valid
    /// configuration.
    pub fn new(text: &str, path: &Path, set: Option<&toml::Table>) -> Result<TrainBase, String> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| format!("config {}: {e}", path.display()))?;
        let mut value = Value::Table(table);
        to_config(value.clone()).map_err(|e| format!("config {}: {e}", path.display()))?;
        if let Some(set) = set {
            for (k, v) in set {
                if matches!(v, Value::Table(_)) {
                    return Err(format!(
                        "[base] set: '{k}' is a table; give dotted keys (\"{k}.name\" = ...)"
                    ));
                }
                set_value(&mut value, k, v.clone()).map_err(|e| format!("[base] set: {e}"))?;
                to_config(value.clone())
                    .map_err(|e| format!("[base] set '{k}' (config {}): {e}", path.display()))?;
            }
        }
        Ok(TrainBase {
            path: path.to_path_buf(),
            value,
        })
    }

    /// Check that every axis names a numeric key of the configuration (one at a time, so an
    /// error names the axis).
    pub fn check_axes(&self, axes: &[(String, Vec<f64>)]) -> Result<(), String> {
        for (name, vals) in axes {
            let mut v = self.value.clone();
            let e = |m: String| format!("axis '{name}': {m} (config {})", self.path.display());
            set_number(&mut v, name, vals[0]).map_err(e)?;
            to_config(v).map_err(e)?;
        }
        Ok(())
    }

    /// The configuration of a point: its tree and the deserialised [`Config`].
    pub fn point_config(&self, names: &[String], vals: &[f64]) -> Result<(Value, Config), String> {
        let mut v = self.value.clone();
        for (n, x) in names.iter().zip(vals) {
            set_number(&mut v, n, *x).map_err(|e| format!("axis '{n}': {e}"))?;
        }
        let c = to_config(v.clone()).map_err(|e| format!("config {}: {e}", self.path.display()))?;
        Ok((v, c))
    }

    /// The point's configuration as TOML text (what `plan` writes to `configs/I.toml`).
    pub fn point_text(&self, names: &[String], vals: &[f64]) -> Result<String, String> {
        let (v, _) = self.point_config(names, vals)?;
        toml::to_string(&v).map_err(|e| e.to_string())
    }
}

fn is_grad(k: MetricKind) -> bool {
    matches!(k, MetricKind::GradCosine | MetricKind::GradRelError)
}

/// Train one point (single-threaded) and read its metrics, in the order of `metrics`.
pub fn evaluate(
    tb: &TrainBase,
    names: &[String],
    vals: &[f64],
    metrics: &[MetricSpec],
    index: usize,
) -> Result<Vec<(String, f64)>, SweepError> {
    let (_, config) = tb
        .point_config(names, vals)
        .map_err(|e| SweepError::Input(format!("point {index}: {e}")))?;
    let run_err = |e: String| SweepError::Run(format!("point {index}: {e}"));
    let base = learn::train::config_base(&tb.path);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| run_err(format!("thread pool: {e}")))?;
    pool.install(|| {
        let mut history = Vec::new();
        if metrics.iter().any(|m| !is_grad(m.kind)) {
            let mut t = Trainer::new(config.clone(), &base).map_err(|e| run_err(e.to_string()))?;
            if let Some(f) = crate::stop_flag() {
                t.set_stop_flag(std::sync::Arc::clone(f));
            }
            while t.epoch < config.train.epochs {
                t.train_epoch(&mut |_, _, _| {}).map_err(|e| match e {
                    learn::LearnError::Interrupted => SweepError::Interrupted,
                    e => run_err(format!("epoch {}: {e}", t.epoch + 1)),
                })?;
            }
            history = t.history;
        }
        let mut grad = None;
        if metrics.iter().any(|m| is_grad(m.kind)) {
            let (split, net) =
                learn::train::setup(&config, &base).map_err(|e| run_err(e.to_string()))?;
            let n = config.gradcheck.samples.min(split.train.len()).max(1);
            let samples: Vec<_> = (0..n)
                .map(|i| (split.train.x[i].clone(), split.train.y[i].clone()))
                .collect();
            let r =
                learn::check::gradcheck(&net, &samples, &config.loss, &config.transient, &[], None)
                    .map_err(|e| run_err(format!("gradcheck: {e}")))?;
            grad = Some((r.cosine, r.rel_error));
        }
        let last = history.last();
        metrics
            .iter()
            .map(|m| {
                let class = |a: Option<f64>| {
                    a.ok_or_else(|| {
                        run_err(format!(
                            "metric '{}': {:?} needs a classification task",
                            m.name, m.kind
                        ))
                    })
                };
                let v = match m.kind {
                    MetricKind::TrainLoss => last.expect("trained").train_loss,
                    MetricKind::TestLoss => last.expect("trained").test_loss,
                    MetricKind::TrainAccuracy => class(last.expect("trained").train_accuracy)?,
                    MetricKind::TestAccuracy => class(last.expect("trained").test_accuracy)?,
                    MetricKind::BestTestAccuracy => {
                        let mut best = f64::NEG_INFINITY;
                        for s in &history {
                            best = best.max(class(s.test_accuracy)?);
                        }
                        best
                    }
                    MetricKind::GradCosine => grad.expect("gradcheck ran").0,
                    MetricKind::GradRelError => grad.expect("gradcheck ran").1,
                    k => unreachable!("simulation metric {k:?} in a training sweep"),
                };
                Ok((m.name.clone(), v))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(s: &str) -> Value {
        Value::Table(toml::from_str(s).unwrap())
    }

    #[test]
    fn numbers_keep_their_type() {
        let mut v = tree("[train]\nlr = 0.3\nseed = 1\n[network]\nhidden = [4]\n");
        set_number(&mut v, "train.lr", 2.0).unwrap();
        set_number(&mut v, "train.seed", 7.0).unwrap();
        set_number(&mut v, "network.hidden.0", 6.0).unwrap();
        set_number(&mut v, "transient.beta", 1e-4).unwrap();
        set_number(&mut v, "transient.periods", 2.0).unwrap();
        assert_eq!(v["train"]["lr"], Value::Float(2.0));
        assert_eq!(v["train"]["seed"], Value::Integer(7));
        assert_eq!(v["network"]["hidden"][0], Value::Integer(6));
        assert_eq!(v["transient"]["beta"], Value::Float(1e-4));
        assert_eq!(v["transient"]["periods"], Value::Integer(2));
        let e = set_number(&mut v, "train.seed", 1.5).unwrap_err();
        assert!(e.contains("'train.seed' is an integer"), "{e}");
        let e = set_number(&mut v, "network.hidden", 1.0).unwrap_err();
        assert!(e.contains("'network.hidden' is an array"), "{e}");
        let e = set_number(&mut v, "network.hidden.3", 1.0).unwrap_err();
        assert!(e.contains("index 3 is out of range"), "{e}");
        let e = set_number(&mut v, "train.lr.x", 1.0).unwrap_err();
        assert!(e.contains("'train.lr' is a float"), "{e}");
        assert!(set_number(&mut v, "train..lr", 1.0).is_err());
    }
}
