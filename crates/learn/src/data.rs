//! Datasets: Iris and digits (embedded), XOR, a 1-D regression, any CSV; standardisation and
//! deterministic stratified splits.

use crate::loss::Target;
use crate::rng::Rng;
use crate::LearnError;
use std::io::Read;

/// Fisher's Iris data (UCI, CC BY 4.0), as distributed with scikit-learn.
pub const IRIS_CSV: &str = include_str!("../data/iris.csv");
/// UCI optical digits test set (8×8, CC BY 4.0), gzip'd CSV.
pub const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// A dataset in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Feature rows.
    pub x: Vec<Vec<f64>>,
    /// Targets.
    pub y: Vec<Target>,
    /// Number of classes (None: regression).
    pub n_classes: Option<usize>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.x.first().map_or(0, |r| r.len())
    }
    fn subset(&self, idx: &[usize]) -> Dataset {
        Dataset {
            x: idx.iter().map(|&i| self.x[i].clone()).collect(),
            y: idx.iter().map(|&i| self.y[i].clone()).collect(),
            n_classes: self.n_classes,
        }
    }
}

/// Parse CSV text: numbers, last column the label; a first line that is not all numbers is
/// a header and skipped. Integer labels make a classification dataset (classes 0..max), others
/// a regression. `name` is used in error messages.
pub fn parse_csv(text: &str, name: &str) -> Result<Dataset, LearnError> {
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        // Errors name the line and the column (1-based field index).
        let at =
            |col: usize, msg: String| LearnError::Data(format!("{name}:{}:{col}: {msg}", ln + 1));
        let nums: Result<Vec<f64>, usize> = fields
            .iter()
            .enumerate()
            .map(|(k, f)| f.parse::<f64>().map_err(|_| k))
            .collect();
        let nums = match nums {
            Ok(v) => v,
            Err(_) if x.is_empty() && labels.is_empty() && ln == 0 => continue,
            Err(k) => {
                return Err(at(
                    k + 1,
                    format!("expected a number, found `{}`", fields[k]),
                ))
            }
        };
        if nums.len() < 2 {
            return Err(at(
                nums.len() + 1,
                "need at least one feature and a label".to_string(),
            ));
        }
        if let Some(first) = x.first() {
            let first: &Vec<f64> = first;
            if first.len() + 1 != nums.len() {
                // The first missing column, or the first extra one.
                let col = nums.len().min(first.len() + 1) + 1;
                return Err(at(
                    col,
                    format!("{} columns, expected {}", nums.len(), first.len() + 1),
                ));
            }
        }
        if let Some(k) = nums.iter().position(|v| !v.is_finite()) {
            return Err(at(k + 1, format!("non-finite value `{}`", fields[k])));
        }
        labels.push(*nums.last().unwrap());
        x.push(nums[..nums.len() - 1].to_vec());
    }
    if x.is_empty() {
        return Err(LearnError::Data(format!("{name}: no data rows")));
    }
    let integer = labels
        .iter()
        .all(|l| *l >= 0.0 && l.fract() == 0.0 && *l < 1e6);
    if integer {
        let n = labels.iter().fold(0.0f64, |a, &b| a.max(b)) as usize + 1;
        Ok(Dataset {
            x,
            y: labels.iter().map(|&l| Target::Class(l as usize)).collect(),
            n_classes: Some(n),
        })
    } else {
        Ok(Dataset {
            x,
            y: labels.iter().map(|&l| Target::Values(vec![l])).collect(),
            n_classes: None,
        })
    }
}

/// Iris: 150 samples, 4 features, 3 classes.
pub fn iris() -> Dataset {
    parse_csv(IRIS_CSV, "iris.csv").expect("embedded iris data")
}

/// Digits: 1,797 samples, 64 features, 10 classes.
pub fn digits() -> Dataset {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .expect("embedded digits data");
    parse_csv(&text, "digits.csv").expect("embedded digits data")
}

/// XOR: the four points (±1, ±1); class 1 when the signs differ.
pub fn xor() -> Dataset {
    let pts = [
        (-1.0, -1.0, 0),
        (-1.0, 1.0, 1),
        (1.0, -1.0, 1),
        (1.0, 1.0, 0),
    ];
    Dataset {
        x: pts.iter().map(|p| vec![p.0, p.1]).collect(),
        y: pts.iter().map(|p| Target::Class(p.2)).collect(),
        n_classes: Some(2),
    }
}

/// A 1-D nonlinear regression: 64 points x ∈ [−1, 1], y = 0.25·|x| + 0.1·sin(3x) (volts).
pub fn regression() -> Dataset {
    let n = 64;
    let x: Vec<f64> = (0..n)
        .map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64)
        .collect();
    Dataset {
        y: x.iter()
            .map(|&v| Target::Values(vec![0.25 * v.abs() + 0.1 * (3.0 * v).sin()]))
            .collect(),
        x: x.into_iter().map(|v| vec![v]).collect(),
        n_classes: None,
    }
}

/// A train/test split with features standardised by the training statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Training set.
    pub train: Dataset,
    /// Test set.
    pub test: Dataset,
    /// Feature means (training set).
    pub mean: Vec<f64>,
    /// Feature standard deviations (training set; 1 for constant features).
    pub std: Vec<f64>,
}

/// Split deterministically from `seed`: per class (stratified) or overall for regression,
/// `test_fraction` of the samples (rounded) go to the test set. A fraction of 0 uses the whole
/// set for both (XOR). Features are then standardised with the training mean and deviation.
pub fn split(
    d: &Dataset,
    test_fraction: f64,
    seed: u64,
    standardize: bool,
) -> Result<Split, LearnError> {
    if !(0.0..1.0).contains(&test_fraction) {
        return Err(LearnError::Config(format!(
            "test_fraction must be in [0, 1), got {test_fraction}"
        )));
    }
    let mut rng = Rng::new(seed ^ 0x5157_1100);
    let (mut tr, mut te) = (Vec::new(), Vec::new());
    if test_fraction == 0.0 {
        tr = (0..d.len()).collect();
        te = tr.clone();
    } else {
        let groups: Vec<Vec<usize>> = match d.n_classes {
            Some(c) => (0..c)
                .map(|k| {
                    (0..d.len())
                        .filter(|&i| d.y[i] == Target::Class(k))
                        .collect()
                })
                .collect(),
            None => vec![(0..d.len()).collect()],
        };
        for mut g in groups {
            rng.shuffle(&mut g);
            let nt = (g.len() as f64 * test_fraction).round() as usize;
            te.extend_from_slice(&g[..nt]);
            tr.extend_from_slice(&g[nt..]);
        }
        tr.sort_unstable();
        te.sort_unstable();
    }
    if tr.is_empty() || te.is_empty() {
        return Err(LearnError::Config(
            "the split leaves an empty training or test set".into(),
        ));
    }
    let mut train = d.subset(&tr);
    let mut test = d.subset(&te);
    let nf = d.n_features();
    let mut mean = vec![0.0; nf];
    let mut std = vec![1.0; nf];
    if standardize {
        for f in 0..nf {
            let m = train.x.iter().map(|r| r[f]).sum::<f64>() / train.len() as f64;
            let var =
                train.x.iter().map(|r| (r[f] - m) * (r[f] - m)).sum::<f64>() / train.len() as f64;
            mean[f] = m;
            std[f] = if var > 1e-24 { var.sqrt() } else { 1.0 };
        }
        for set in [&mut train, &mut test] {
            for r in &mut set.x {
                for f in 0..nf {
                    r[f] = (r[f] - mean[f]) / std[f];
                }
            }
        }
    } else {
        mean = vec![0.0; nf];
    }
    Ok(Split {
        train,
        test,
        mean,
        std,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_csv(text, "d.csv").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            err("x,y,label\n1,2,0\n3,four,1\n"),
            "d.csv:3:2: expected a number, found `four`"
        );
        assert_eq!(err("1,2,0\n3,1\n"), "d.csv:2:3: 2 columns, expected 3");
        assert_eq!(err("1,2,0\n3,1,0,5\n"), "d.csv:2:4: 4 columns, expected 3");
        assert_eq!(err("1,2,0\n3,inf,0\n"), "d.csv:2:2: non-finite value `inf`");
        assert_eq!(
            err("\n\n7\n"),
            "d.csv:3:2: need at least one feature and a label"
        );
        assert_eq!(err("# only a comment\n"), "d.csv: no data rows");
        let d = parse_csv("a,b,label\n0,1,1\n1,0,0\n", "d.csv").unwrap();
        assert_eq!((d.len(), d.n_features(), d.n_classes), (2, 2, Some(2)));
    }
}
