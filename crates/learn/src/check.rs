//! Gradient checks: the transient engine's estimate and central finite differences against
//! the exact adjoint gradient, averaged over a fixed set of samples.

use crate::adjoint::AdjointEngine;
use crate::loss::{Objective, Target};
use crate::network::Network;
use crate::transient_engine::{TransientEngine, TransientOptions};
use crate::LearnError;
use serde::{Deserialize, Serialize};

/// Cosine similarity of `a` and `b`, and `‖a − b‖/‖b‖`.
pub fn compare(a: &[f64], b: &[f64]) -> (f64, f64) {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    (dot / (na * nb), diff / nb)
}

/// One row of the β table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BetaRow {
    /// Error amplitude.
    pub beta: f64,
    /// Cosine of transient estimate and exact gradient.
    pub cosine: f64,
    /// Relative error of the transient estimate.
    pub rel_error: f64,
}

/// The outcome of [`gradcheck`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradcheckReport {
    /// Samples averaged.
    pub samples: usize,
    /// Trainable resistors.
    pub parameters: usize,
    /// The configured β.
    pub beta: f64,
    /// Cosine at the configured β.
    pub cosine: f64,
    /// Relative error at the configured β.
    pub rel_error: f64,
    /// Transient estimate against the exact gradient for several β.
    pub table: Vec<BetaRow>,
    /// Exact adjoint against central finite differences (cosine, relative error).
    pub finite_differences: Option<(f64, f64)>,
    /// Norm of the exact mean gradient.
    pub grad_norm: f64,
}

/// Mean exact gradient over samples.
pub fn mean_adjoint(
    net: &Network,
    samples: &[(Vec<f64>, Target)],
    obj: &Objective,
) -> Result<Vec<f64>, LearnError> {
    let mut eng = AdjointEngine::new(net)?;
    let mut sum = vec![0.0; net.trainable.len()];
    for (x, t) in samples {
        let r = eng.gradient(x, t, obj)?;
        sum.iter_mut().zip(&r.grad).for_each(|(s, g)| *s += g);
    }
    Ok(sum.into_iter().map(|s| s / samples.len() as f64).collect())
}

/// Mean transient-engine estimate over samples.
pub fn mean_transient(
    net: &Network,
    samples: &[(Vec<f64>, Target)],
    obj: &Objective,
    opts: &TransientOptions,
) -> Result<Vec<f64>, LearnError> {
    let mut eng = TransientEngine::new(net, opts)?;
    let mut sum = vec![0.0; net.trainable.len()];
    for (x, t) in samples {
        let r = eng.gradient(x, t, obj)?;
        sum.iter_mut().zip(&r.grad).for_each(|(s, g)| *s += g);
    }
    Ok(sum.into_iter().map(|s| s / samples.len() as f64).collect())
}

/// Central finite differences of the mean loss, step `rel_step·g_j` per conductance.
pub fn finite_differences(
    net: &Network,
    samples: &[(Vec<f64>, Target)],
    obj: &Objective,
    rel_step: f64,
) -> Result<Vec<f64>, LearnError> {
    let mut eng = AdjointEngine::new(net)?;
    let g0 = net.conductances();
    let mut g = g0.clone();
    let mut out = Vec::with_capacity(g0.len());
    let mean_loss = |eng: &mut AdjointEngine, g: &[f64]| -> Result<f64, LearnError> {
        eng.set_conductances(g)?;
        let mut s = 0.0;
        for (x, t) in samples {
            s += eng.loss(x, t, obj)?;
        }
        Ok(s / samples.len() as f64)
    };
    for j in 0..g0.len() {
        let h = rel_step * g0[j];
        g[j] = g0[j] + h;
        let lp = mean_loss(&mut eng, &g)?;
        g[j] = g0[j] - h;
        let lm = mean_loss(&mut eng, &g)?;
        g[j] = g0[j];
        out.push((lp - lm) / (2.0 * h));
    }
    Ok(out)
}

/// Compare the transient engine (at `opts.beta` and at each of `betas`) and, when `fd` is
/// given (relative step), finite differences with the exact gradient.
pub fn gradcheck(
    net: &Network,
    samples: &[(Vec<f64>, Target)],
    obj: &Objective,
    opts: &TransientOptions,
    betas: &[f64],
    fd: Option<f64>,
) -> Result<GradcheckReport, LearnError> {
    if samples.is_empty() {
        return Err(LearnError::Config(
            "gradcheck needs at least one sample".into(),
        ));
    }
    let exact = mean_adjoint(net, samples, obj)?;
    let est = mean_transient(net, samples, obj, opts)?;
    let (cosine, rel_error) = compare(&est, &exact);
    let mut table = Vec::new();
    for &b in betas {
        let o = TransientOptions {
            beta: b,
            ..opts.clone()
        };
        let e = mean_transient(net, samples, obj, &o)?;
        let (c, r) = compare(&e, &exact);
        table.push(BetaRow {
            beta: b,
            cosine: c,
            rel_error: r,
        });
    }
    let finite_differences = match fd {
        Some(step) => Some(compare(
            &exact,
            &finite_differences(net, samples, obj, step)?,
        )),
        None => None,
    };
    let grad_norm = exact.iter().map(|x| x * x).sum::<f64>().sqrt();
    Ok(GradcheckReport {
        samples: samples.len(),
        parameters: exact.len(),
        beta: opts.beta,
        cosine,
        rel_error,
        table,
        finite_differences,
        grad_norm,
    })
}

/// `[gradcheck]` settings of a configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradcheckOptions {
    /// Training samples averaged (the first ones of the training set).
    pub samples: usize,
    /// β values of the convergence table (empty: `beta·{100, 10, 1, 0.1}`).
    pub betas: Vec<f64>,
    /// Also check the adjoint against central finite differences (when at most 400 resistors).
    pub finite_differences: bool,
    /// Relative finite-difference step.
    pub fd_step: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            samples: 4,
            betas: vec![],
            finite_differences: true,
            fd_step: 1e-5,
        }
    }
}
