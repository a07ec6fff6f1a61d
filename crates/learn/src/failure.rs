//! What training does when one example's simulation fails: the `[train] on_failure` policy.
//!
//! A per-example failure is an engine error of kind [`LearnError::Sim`] (no DC operating
//! point, a time step that does not converge, a singular matrix) or a non-finite loss,
//! gradient or output. Other errors (configuration, data, files) always stop the run.
//!
//! * `abort` (the default): the run stops at the first failing example with an error that
//!   names the set, the example's index and the simulator's message. The run file keeps the
//!   last completed epoch.
//! * `skip`: the example contributes no gradient (the minibatch mean is taken over the
//!   examples that succeeded; a minibatch in which every example failed makes no update) and
//!   is left out of the epoch's losses and accuracies. Every skipped example is recorded in
//!   the epoch's [`crate::train::EpochStats::skipped`] with its error text; an epoch in which
//!   every training example fails stops the run.
//!
//! ```
//! use learn::failure::FailurePolicy;
//! let t: learn::train::TrainOptions = toml::from_str("on_failure = \"skip\"").unwrap();
//! assert_eq!(t.on_failure, FailurePolicy::Skip);
//! assert_eq!(learn::train::TrainOptions::default().on_failure, FailurePolicy::Abort);
//! ```

use crate::adjoint::SampleGrad;
use crate::LearnError;
use serde::{Deserialize, Serialize};

/// `[train] on_failure`: what a failing example does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Stop the run, naming the example and the error.
    #[default]
    Abort,
    /// Leave the example out (no gradient, not in the losses), report and record it.
    Skip,
}

/// Where an example failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Its gradient during the epoch's minibatches.
    Gradient,
    /// Its forward pass in the end-of-epoch evaluation.
    Evaluation,
}

/// One skipped example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedSample {
    /// `train` or `test`.
    pub set: String,
    /// Index in that set (the index the run file's `/samples/<k>@index` uses).
    pub index: usize,
    /// Where it failed.
    pub stage: Stage,
    /// The error.
    pub error: String,
}

impl std::fmt::Display for SkippedSample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let stage = match self.stage {
            Stage::Gradient => "gradient",
            Stage::Evaluation => "evaluation",
        };
        write!(f, "{} #{} ({stage}): {}", self.set, self.index, self.error)
    }
}

/// One line for stderr: the count, the first example with its error, and where the others
/// failed (every error is in the epoch's record).
pub fn summary_line(epoch: usize, skipped: &[SkippedSample]) -> Option<String> {
    const SHOWN: usize = 8;
    let first = skipped.first()?;
    let mut s = format!(
        "epoch {epoch}: skipped {} failing example{} (on_failure = \"skip\"): {first}",
        skipped.len(),
        if skipped.len() == 1 { "" } else { "s" }
    );
    let rest: Vec<String> = skipped[1..]
        .iter()
        .take(SHOWN)
        .map(|k| {
            let stage = match k.stage {
                Stage::Gradient => "gradient",
                Stage::Evaluation => "evaluation",
            };
            format!("{} #{} ({stage})", k.set, k.index)
        })
        .collect();
    if !rest.is_empty() {
        s.push_str(&format!("; also {}", rest.join(", ")));
    }
    if skipped.len() > SHOWN + 1 {
        s.push_str(&format!(" and {} more", skipped.len() - SHOWN - 1));
    }
    Some(s)
}

fn sim_text(e: &LearnError) -> Option<String> {
    match e {
        LearnError::Sim(m) => Some(m.clone()),
        _ => None,
    }
}

/// A gradient with a non-finite loss or component is a failure.
pub(crate) fn check_grad(r: Result<SampleGrad, LearnError>) -> Result<SampleGrad, LearnError> {
    let g = r?;
    if !g.loss.is_finite() {
        return Err(LearnError::Sim(format!("non-finite loss {}", g.loss)));
    }
    if let Some((j, v)) = g.grad.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(LearnError::Sim(format!(
            "non-finite gradient {v} for trainable resistor {j}"
        )));
    }
    Ok(g)
}

/// Outputs and loss of a forward pass must be finite.
pub(crate) fn check_forward(y: &[f64], loss: f64) -> Result<(), LearnError> {
    if let Some((k, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(LearnError::Sim(format!(
            "non-finite value {v} at output {k}"
        )));
    }
    if !loss.is_finite() {
        return Err(LearnError::Sim(format!("non-finite loss {loss}")));
    }
    Ok(())
}

/// Apply `policy` to per-example outcomes `(index, result)` of `set` at `stage`: the
/// successes in order, with the skipped examples appended to `skipped`; under `abort` (or
/// for an error that is not a simulation failure) the first failure's error, naming the
/// example.
pub(crate) fn triage<T>(
    policy: FailurePolicy,
    set: &str,
    stage: Stage,
    outcomes: impl IntoIterator<Item = (usize, Result<T, LearnError>)>,
    skipped: &mut Vec<SkippedSample>,
) -> Result<Vec<T>, LearnError> {
    let mut ok = Vec::new();
    for (index, r) in outcomes {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => match (policy, sim_text(&e)) {
                (FailurePolicy::Skip, Some(error)) => skipped.push(SkippedSample {
                    set: set.to_string(),
                    index,
                    stage,
                    error,
                }),
                (FailurePolicy::Abort, Some(m)) => {
                    let what = match stage {
                        Stage::Gradient => "gradient",
                        Stage::Evaluation => "evaluation",
                    };
                    return Err(LearnError::Sim(format!(
                        "{set} example #{index} ({what}): {m} (set on_failure = \"skip\" in [train] to skip failing examples)"
                    )));
                }
                (_, None) => return Err(e),
            },
        }
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(m: &str) -> Result<u32, LearnError> {
        Err(LearnError::Sim(m.into()))
    }

    #[test]
    fn abort_names_the_example_skip_records_it() {
        let outs = || vec![(0, Ok(1u32)), (5, err("no DC operating point")), (6, Ok(2))];
        let mut sk = Vec::new();
        let e = triage(
            FailurePolicy::Abort,
            "train",
            Stage::Gradient,
            outs(),
            &mut sk,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("train example #5") && e.contains("no DC operating point"),
            "{e}"
        );
        assert!(sk.is_empty());
        let ok = triage(
            FailurePolicy::Skip,
            "train",
            Stage::Gradient,
            outs(),
            &mut sk,
        )
        .unwrap();
        assert_eq!(ok, vec![1, 2]);
        assert_eq!(sk.len(), 1);
        assert_eq!((sk[0].index, sk[0].stage), (5, Stage::Gradient));
        sk.push(SkippedSample {
            set: "test".into(),
            index: 2,
            stage: Stage::Evaluation,
            error: "x".into(),
        });
        let line = summary_line(3, &sk).unwrap();
        assert!(line.ends_with("; also test #2 (evaluation)"), "{line}");
        assert!(
            line.contains("epoch 3: skipped 2 failing examples "),
            "{line}"
        );
        assert!(
            line.contains("train #5 (gradient): no DC operating point"),
            "{line}"
        );
        assert_eq!(summary_line(3, &[]), None);
    }

    #[test]
    fn other_errors_are_never_skipped() {
        let outs = vec![(0, Err::<u32, _>(LearnError::Config("bad".into())))];
        let mut sk = Vec::new();
        let e = triage(
            FailurePolicy::Skip,
            "test",
            Stage::Evaluation,
            outs,
            &mut sk,
        );
        assert!(matches!(e, Err(LearnError::Config(_))));
        assert!(sk.is_empty());
    }

    #[test]
    fn non_finite_values_are_failures() {
        let g = SampleGrad {
            loss: 1.0,
            grad: vec![0.0, f64::NAN],
            outputs: vec![0.0],
        };
        let e = check_grad(Ok(g)).unwrap_err().to_string();
        assert!(
            e.contains("non-finite gradient NaN for trainable resistor 1"),
            "{e}"
        );
        let e = check_forward(&[f64::INFINITY], 0.0).unwrap_err();
        assert!(
            e.to_string().contains("non-finite value inf at output 0"),
            "{e}"
        );
        let e = check_forward(&[0.0], f64::NAN).unwrap_err();
        assert!(e.to_string().contains("non-finite loss NaN"), "{e}");
        assert!(check_forward(&[0.0], 1.0).is_ok());
    }
}
