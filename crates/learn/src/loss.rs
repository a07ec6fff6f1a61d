//! Losses on the output voltages and the error signal `e = −∂C/∂y` they produce.

use serde::{Deserialize, Serialize};

/// What a sample asks of the outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// A class index.
    Class(usize),
    /// Target values, one per output (volts).
    Values(Vec<f64>),
}

/// Loss kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// `C = ½ Σ (y_o − t_o)²`, volts²; class targets become `target_high` on the class's
    /// output and `target_low` elsewhere (one output and two classes: low/high).
    Mse,
    /// `C = −log softmax(scale·y)_class` (classification only).
    #[default]
    CrossEntropy,
}

/// A loss with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Objective {
    /// Loss kind.
    pub kind: LossKind,
    /// Softmax scale, 1/V (cross-entropy).
    pub scale: f64,
    /// Output voltage meaning "not this class" (MSE classification).
    pub target_low: f64,
    /// Output voltage meaning "this class" (MSE classification).
    pub target_high: f64,
}

impl Default for Objective {
    fn default() -> Self {
        Objective {
            kind: LossKind::CrossEntropy,
            scale: 10.0,
            target_low: 0.0,
            target_high: 0.5,
        }
    }
}

impl Objective {
    /// Loss value and `dC/dy` at outputs `y`.
    pub fn eval(&self, y: &[f64], t: &Target) -> (f64, Vec<f64>) {
        match (self.kind, t) {
            (LossKind::CrossEntropy, Target::Class(c)) => {
                let m = y
                    .iter()
                    .map(|v| self.scale * v)
                    .fold(f64::NEG_INFINITY, f64::max);
                let z: Vec<f64> = y.iter().map(|v| (self.scale * v - m).exp()).collect();
                let s: f64 = z.iter().sum();
                let loss = -(self.scale * y[*c] - m - s.ln());
                let d = z
                    .iter()
                    .enumerate()
                    .map(|(k, zk)| self.scale * (zk / s - if k == *c { 1.0 } else { 0.0 }))
                    .collect();
                (loss, d)
            }
            _ => {
                let tv = self.target_values(y.len(), t);
                let mut loss = 0.0;
                let d = y
                    .iter()
                    .zip(&tv)
                    .map(|(yo, to)| {
                        loss += 0.5 * (yo - to) * (yo - to);
                        yo - to
                    })
                    .collect();
                (loss, d)
            }
        }
    }

    fn target_values(&self, n: usize, t: &Target) -> Vec<f64> {
        match t {
            Target::Values(v) => v.clone(),
            Target::Class(c) if n == 1 => vec![if *c == 1 {
                self.target_high
            } else {
                self.target_low
            }],
            Target::Class(c) => (0..n)
                .map(|k| {
                    if k == *c {
                        self.target_high
                    } else {
                        self.target_low
                    }
                })
                .collect(),
        }
    }

    /// Predicted class: argmax of the outputs, or for one output a threshold halfway between
    /// the low and high targets.
    pub fn predict(&self, y: &[f64]) -> usize {
        if y.len() == 1 {
            let mid = match self.kind {
                LossKind::Mse => 0.5 * (self.target_low + self.target_high),
                LossKind::CrossEntropy => 0.0,
            };
            return usize::from(y[0] > mid);
        }
        let mut best = 0;
        for (k, v) in y.iter().enumerate() {
            if *v > y[best] {
                best = k;
            }
        }
        best
    }

    /// Check the objective against a task: cross-entropy needs class targets and one output per
    /// class.
    pub fn check(&self, n_outputs: usize, n_classes: Option<usize>) -> Result<(), String> {
        match (self.kind, n_classes) {
            (LossKind::CrossEntropy, None) => Err("cross_entropy needs a classification dataset; use kind = \"mse\"".into()),
            (LossKind::CrossEntropy, Some(c)) if c != n_outputs => {
                Err(format!("cross_entropy needs one output per class: {c} classes, {n_outputs} outputs"))
            }
            (LossKind::Mse, Some(c)) if n_outputs != c && !(n_outputs == 1 && c == 2) => {
                Err(format!("mse classification needs one output per class (or one output for two classes): {c} classes, {n_outputs} outputs"))
            }
            _ if !(self.scale > 0.0) => Err(format!("loss scale must be > 0, got {}", self.scale)),
            _ => Ok(()),
        }
    }
}
