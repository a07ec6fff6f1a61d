//! `freqprop gradcheck`: the frequency-propagation update (transient engine) against the exact
//! adjoint gradient on a fixed set of training samples, a table of the error against β
//! (it falls as β²), and the adjoint against central finite differences.

use crate::train::learn_err;
use crate::CliError;
use learn::check::gradcheck;
use learn::train::{config_base, read_config, setup};
use std::path::PathBuf;

/// Arguments of `freqprop gradcheck`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Training configuration (TOML).
    pub config: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Override the seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Remove the diodes (a linear network: the rule is exact for any β).
    #[arg(long)]
    pub linear: bool,
}

/// Run `freqprop gradcheck`.
pub fn run(args: Args) -> Result<i32, CliError> {
    let mut config = read_config(&args.config).map_err(learn_err)?;
    if let Some(s) = args.seed {
        config.train.seed = s;
    }
    if args.linear {
        config.network.nonlinearity = learn::network::Nonlinearity::None;
    }
    let base = config_base(&args.config);
    let (split, net) = setup(&config, &base).map_err(learn_err)?;
    let gc = &config.gradcheck;
    let n = gc.samples.min(split.train.len()).max(1);
    let samples: Vec<_> = (0..n)
        .map(|i| (split.train.x[i].clone(), split.train.y[i].clone()))
        .collect();
    let b = config.transient.beta;
    let betas = if gc.betas.is_empty() {
        vec![100.0 * b, 10.0 * b, b, 0.1 * b]
    } else {
        gc.betas.clone()
    };
    let fd = (gc.finite_differences && net.trainable.len() <= 400).then_some(gc.fd_step);
    let start = std::time::Instant::now();
    let r = gradcheck(&net, &samples, &config.loss, &config.transient, &betas, fd)
        .map_err(learn_err)?;
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let mut j = serde_json::to_value(&r).unwrap();
        j["seconds"] = serde_json::json!(seconds);
        println!("{}", serde_json::to_string_pretty(&j).unwrap());
    } else {
        println!(
            "{} samples, {} trainable resistors, |grad| = {:.4e}",
            r.samples, r.parameters, r.grad_norm
        );
        println!("cosine {:.9}", r.cosine);
        println!("rel_error {:.3e}   (beta = {:.3e})", r.rel_error, r.beta);
        println!("{:>12} {:>14} {:>12}", "beta", "cosine", "rel_error");
        for row in &r.table {
            println!(
                "{:>12.3e} {:>14.9} {:>12.3e}",
                row.beta, row.cosine, row.rel_error
            );
        }
        if let Some((c, e)) = r.finite_differences {
            println!("adjoint vs finite differences: cosine {c:.10}, rel_error {e:.3e}");
        }
        println!("({seconds:.2} s)");
    }
    Ok(0)
}
