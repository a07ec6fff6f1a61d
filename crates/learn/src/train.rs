//! Training: the TOML configuration, minibatch gradient descent with either engine (samples of
//! a minibatch in parallel, one simulator per rayon worker), per-epoch history, and
//! checkpoints that resume bit-identically.

use crate::adjoint::{AdjointEngine, SampleGrad};
use crate::check::GradcheckOptions;
use crate::data::{self, Dataset, Split};
use crate::failure::{self, FailurePolicy, SkippedSample, Stage};
use crate::loss::{Objective, Target};
use crate::network::{
    self, Common, LayeredSpec, MeshSpec, NetlistInput, NetlistOutput, NetlistSpec, Network,
    Nonlinearity, RandomSpec,
};
use crate::rng::Rng;
use crate::team::Team;
use crate::transient_engine::{TransientEngine, TransientOptions};
use crate::LearnError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// A training configuration (TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Dataset and split.
    pub data: DataConfig,
    /// The network.
    pub network: NetworkConfig,
    /// The loss.
    #[serde(default)]
    pub loss: Objective,
    /// Optimiser and engine.
    #[serde(default)]
    pub train: TrainOptions,
    /// The time-domain protocol (transient engine, gradcheck).
    #[serde(default)]
    pub transient: TransientOptions,
    /// `freqprop gradcheck` settings.
    #[serde(default)]
    pub gradcheck: GradcheckOptions,
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// `iris`, `digits`, `xor`, `regression`, or a CSV path (relative to the config file).
    pub dataset: String,
    /// Fraction of each class held out for testing (0: train and test on everything).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Standardise features with the training mean and deviation.
    #[serde(default = "yes")]
    pub standardize: bool,
}

fn default_test_fraction() -> f64 {
    0.2
}
fn yes() -> bool {
    true
}

/// Network kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    /// Layered (Kendall et al. 2020 style).
    #[default]
    Layered,
    /// Random graph.
    Random,
    /// Rectangular mesh.
    Mesh,
    /// A user netlist.
    Netlist,
}

/// `[network]`: the kind, its shape, and the common settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// Kind.
    pub kind: NetworkKind,
    /// Layered: hidden layer widths.
    pub hidden: Vec<usize>,
    /// Layered: outputs as node-pair differences.
    pub output_pairs: bool,
    /// Number of outputs (default: one per class, one for regression or two-class MSE).
    pub n_outputs: Option<usize>,
    /// Random: internal nodes.
    pub nodes: usize,
    /// Random: extra edges.
    pub chords: usize,
    /// Random: internal nodes per source node.
    pub fan_in: usize,
    /// Mesh rows.
    pub rows: usize,
    /// Mesh columns.
    pub cols: usize,
    /// Netlist path (relative to the config file).
    pub netlist: Option<String>,
    /// Netlist: trainable resistor names (`*` suffix: prefix).
    pub trainable: Vec<String>,
    /// Netlist: inputs.
    pub inputs: Vec<NetlistInput>,
    /// Netlist: outputs.
    pub outputs: Vec<NetlistOutput>,
    /// Netlist: randomise initial conductances.
    pub randomize: bool,
    /// Initial conductance range, siemens.
    pub g_init: [f64; 2],
    /// Lower clip, siemens.
    pub g_min: f64,
    /// Upper clip, siemens.
    pub g_max: f64,
    /// Parasitic capacitance per node, farads.
    pub capacitance: f64,
    /// Diode saturation current, amperes.
    pub diode_is: f64,
    /// Diode emission coefficient.
    pub diode_n: f64,
    /// Hidden-node nonlinearity.
    pub nonlinearity: Nonlinearity,
    /// Volts per standardised input unit.
    pub input_scale: f64,
    /// Bias rail voltage.
    pub bias_voltage: f64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        let c = Common::default();
        NetworkConfig {
            kind: NetworkKind::Layered,
            hidden: vec![8],
            output_pairs: false,
            n_outputs: None,
            nodes: 12,
            chords: 12,
            fan_in: 3,
            rows: 4,
            cols: 4,
            netlist: None,
            trainable: vec![],
            inputs: vec![],
            outputs: vec![],
            randomize: false,
            g_init: c.g_init,
            g_min: c.g_min,
            g_max: c.g_max,
            capacitance: c.capacitance,
            diode_is: c.diode_is,
            diode_n: c.diode_n,
            nonlinearity: c.nonlinearity,
            input_scale: c.input_scale,
            bias_voltage: c.bias_voltage,
        }
    }
}

/// Which gradient the learner follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// Exact gradient, one adjoint solve per sample.
    #[default]
    Adjoint,
    /// The physical protocol in the time domain (frequency propagation).
    Transient,
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "adjoint" => Ok(EngineKind::Adjoint),
            "transient" => Ok(EngineKind::Transient),
            _ => Err(format!("unknown engine {s:?} (adjoint or transient)")),
        }
    }
}

/// `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainOptions {
    /// Gradient engine.
    pub engine: EngineKind,
    /// Epochs.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Dimensionless learning rate: `Δg = −lr·g_unit²·mean(dL/dg)`.
    pub lr: f64,
    /// Conductance unit for the learning rate, siemens.
    pub g_unit: f64,
    /// Momentum (0: plain gradient descent).
    pub momentum: f64,
    /// Seed for the split, the network and the shuffles.
    pub seed: u64,
    /// What an example whose simulation fails does to the run: `abort` (default) or `skip`
    /// (see [`crate::failure`]).
    pub on_failure: FailurePolicy,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            engine: EngineKind::Adjoint,
            epochs: 30,
            batch_size: 10,
            lr: 0.1,
            g_unit: 1e-3,
            momentum: 0.0,
            seed: 1,
            on_failure: FailurePolicy::Abort,
        }
    }
}

/// Parse a configuration; errors name the file (and TOML's line/column and key).
pub fn parse_config(text: &str, name: &str) -> Result<Config, LearnError> {
    let c: Config = toml::from_str(text).map_err(|e| LearnError::Config(format!("{name}: {e}")))?;
    Ok(c)
}

/// Read a configuration file.
pub fn read_config(path: &Path) -> Result<Config, LearnError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LearnError::Io(format!("{}: {e}", path.display())))?;
    parse_config(&text, &path.display().to_string())
}

/// Load the dataset named by `[data]`.
pub fn load_dataset(cfg: &DataConfig, base: &Path) -> Result<Dataset, LearnError> {
    Ok(match cfg.dataset.as_str() {
        "iris" => data::iris(),
        "digits" => data::digits(),
        "xor" => data::xor(),
        "regression" => data::regression(),
        p => {
            let path = base.join(p);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| LearnError::Io(format!("{}: {e}", path.display())))?;
            data::parse_csv(&text, &path.display().to_string())?
        }
    })
}

/// Build the network for `n_features` inputs and `n_outputs` outputs.
pub fn build_network(
    cfg: &NetworkConfig,
    n_features: usize,
    n_outputs: usize,
    seed: u64,
    base: &Path,
) -> Result<Network, LearnError> {
    let common = Common {
        g_init: cfg.g_init,
        g_min: cfg.g_min,
        g_max: cfg.g_max,
        capacitance: cfg.capacitance,
        diode_is: cfg.diode_is,
        diode_n: cfg.diode_n,
        nonlinearity: cfg.nonlinearity,
        input_scale: cfg.input_scale,
        bias_voltage: cfg.bias_voltage,
    };
    match cfg.kind {
        NetworkKind::Layered => network::layered(
            &LayeredSpec {
                n_inputs: n_features,
                hidden: cfg.hidden.clone(),
                n_outputs,
                output_pairs: cfg.output_pairs,
            },
            &common,
            seed,
        ),
        NetworkKind::Random => network::random(
            &RandomSpec {
                n_inputs: n_features,
                n_outputs,
                nodes: cfg.nodes,
                chords: cfg.chords,
                fan_in: cfg.fan_in,
            },
            &common,
            seed,
        ),
        NetworkKind::Mesh => network::mesh(
            &MeshSpec {
                n_inputs: n_features,
                n_outputs,
                rows: cfg.rows,
                cols: cfg.cols,
            },
            &common,
            seed,
        ),
        NetworkKind::Netlist => {
            let p = cfg.netlist.as_ref().ok_or_else(|| {
                LearnError::Config("kind = \"netlist\" needs netlist = \"path\"".into())
            })?;
            let path = base.join(p);
            let c = circuit::parse_file(&path).map_err(|e| LearnError::Config(e.to_string()))?;
            let spec = NetlistSpec {
                path: p.clone(),
                trainable: cfg.trainable.clone(),
                inputs: cfg.inputs.clone(),
                outputs: cfg.outputs.clone(),
                randomize: cfg.randomize,
            };
            let net = network::from_circuit(c, &spec, &common, seed)?;
            if net.n_features() > n_features {
                return Err(LearnError::Config(format!(
                    "the netlist reads feature {} but the data have {n_features}",
                    net.n_features() - 1
                )));
            }
            if net.outputs.len() != n_outputs {
                return Err(LearnError::Config(format!(
                    "the netlist has {} outputs, the task needs {n_outputs}",
                    net.outputs.len()
                )));
            }
            Ok(net)
        }
    }
}

/// One epoch's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// Epoch number (1-based).
    pub epoch: usize,
    /// Mean loss on the training set after the epoch.
    pub train_loss: f64,
    /// Training accuracy (classification).
    pub train_accuracy: Option<f64>,
    /// Mean loss on the test set.
    pub test_loss: f64,
    /// Test accuracy (classification).
    pub test_accuracy: Option<f64>,
    /// Wall time of the epoch, seconds (not part of the bit-identical state).
    pub seconds: f64,
    /// Examples skipped under `on_failure = "skip"`, with their errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedSample>,
}

/// A saved training state (JSON; floats round-trip exactly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// `freqprop-run`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The configuration the run uses.
    pub config: Config,
    /// Epochs completed.
    pub epoch: usize,
    /// Shuffle generator state.
    pub rng_state: u64,
    /// Trainable resistor names.
    pub names: Vec<String>,
    /// Conductances, siemens.
    pub conductances: Vec<f64>,
    /// Momentum buffer.
    pub velocity: Vec<f64>,
    /// History.
    pub history: Vec<EpochStats>,
}

/// Write a checkpoint atomically.
pub fn save_checkpoint(path: &Path, ck: &Checkpoint) -> Result<(), LearnError> {
    let text = serde_json::to_string_pretty(ck).map_err(|e| LearnError::Io(e.to_string()))?;
    let mut f =
        store::atomic::AtomicFile::create(path).map_err(|e| LearnError::Io(e.to_string()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .map_err(|e| LearnError::Io(format!("{}: {e}", path.display())))?;
    f.commit().map_err(|e| LearnError::Io(e.to_string()))
}

/// Read a checkpoint.
pub fn load_checkpoint(path: &Path) -> Result<Checkpoint, LearnError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LearnError::Io(format!("{}: {e}", path.display())))?;
    let ck: Checkpoint = serde_json::from_str(&text)
        .map_err(|e| LearnError::Io(format!("{}: not a freqprop run file: {e}", path.display())))?;
    if ck.format != "freqprop-run" || ck.version != 1 {
        return Err(LearnError::Io(format!(
            "{}: not a freqprop run file (format {} v{})",
            path.display(),
            ck.format,
            ck.version
        )));
    }
    Ok(ck)
}

enum Engine {
    Adjoint(Box<AdjointEngine>),
    Transient(Box<TransientEngine>),
}

/// An engine of the trainer's pool, and which of an epoch's conductances it holds.
struct Worker {
    engine: Engine,
    /// `Some(k)`: the conductances after update `k` of the running epoch (0: as the epoch
    /// began), written by a sample of that epoch; `None`: not known to be the current ones.
    holds: Option<usize>,
}

impl Engine {
    fn set_conductances(&mut self, g: &[f64]) -> Result<(), LearnError> {
        match self {
            Engine::Adjoint(e) => e.set_conductances(g),
            Engine::Transient(e) => e.set_conductances(g),
        }
    }
    fn forward(&mut self, x: &[f64]) -> Result<Vec<f64>, LearnError> {
        match self {
            Engine::Adjoint(e) => e.forward(x),
            Engine::Transient(e) => e.forward(x),
        }
    }
    fn gradient(&mut self, x: &[f64], t: &Target, o: &Objective) -> Result<SampleGrad, LearnError> {
        match self {
            Engine::Adjoint(e) => e.gradient(x, t, o),
            Engine::Transient(e) => e.gradient(x, t, o),
        }
    }
}

/// A training run in memory.
pub struct Trainer {
    /// Configuration.
    pub config: Config,
    /// The network (its circuit holds the initial conductances).
    pub network: Network,
    /// Data.
    pub split: Split,
    /// Current conductances.
    pub g: Vec<f64>,
    velocity: Vec<f64>,
    rng: Rng,
    /// Epochs completed.
    pub epoch: usize,
    /// History.
    pub history: Vec<EpochStats>,
    engines: Vec<Mutex<Worker>>,
    /// Seconds each training example's gradient took when it last ran (0 before it has):
    /// the order a minibatch's samples are claimed in, longest first.
    seconds: Vec<f64>,
    stop: Option<Arc<AtomicBool>>,
}

/// Number of outputs the task needs.
pub fn task_outputs(cfg: &Config, d: &Dataset) -> usize {
    if let Some(n) = cfg.network.n_outputs {
        return n;
    }
    match (d.n_classes, cfg.loss.kind) {
        (Some(2), crate::loss::LossKind::Mse) => 1,
        (Some(c), _) => c,
        (None, _) => match d.y.first() {
            Some(Target::Values(v)) => v.len(),
            _ => 1,
        },
    }
}

impl TrainOptions {
    /// Check the optimiser settings.
    pub fn check(&self) -> Result<(), LearnError> {
        let t = self;
        if t.epochs == 0
            || t.batch_size == 0
            || !(t.lr > 0.0)
            || !(t.g_unit > 0.0)
            || !(0.0..1.0).contains(&t.momentum)
        {
            return Err(LearnError::Config(format!("[train]: need epochs ≥ 1, batch_size ≥ 1, lr > 0, g_unit > 0, 0 ≤ momentum < 1, got {t:?}")));
        }
        Ok(())
    }
}

/// Validate a configuration as [`Trainer::new`] does before it builds its engines: the
/// `[train]` settings, the `[transient]` protocol (transient engine), the data, the network
/// and the loss. Returns the data split and the network.
pub fn validate(config: &Config, base: &Path) -> Result<(Split, Network), LearnError> {
    config.train.check()?;
    if config.train.engine == EngineKind::Transient {
        config.transient.check()?;
    }
    setup(config, base)
}

/// Build data split and network from a configuration (deterministic in the seed).
pub fn setup(config: &Config, base: &Path) -> Result<(Split, Network), LearnError> {
    let d = load_dataset(&config.data, base)?;
    let split = data::split(
        &d,
        config.data.test_fraction,
        config.train.seed,
        config.data.standardize,
    )?;
    let n_out = task_outputs(config, &d);
    let net = build_network(
        &config.network,
        d.n_features(),
        n_out,
        config.train.seed,
        base,
    )?;
    config
        .loss
        .check(net.outputs.len(), d.n_classes)
        .map_err(LearnError::Config)?;
    Ok((split, net))
}

impl Trainer {
    /// A fresh run. `base` resolves relative paths of the configuration.
    pub fn new(config: Config, base: &Path) -> Result<Trainer, LearnError> {
        let (split, network) = validate(&config, base)?;
        let g = network.conductances();
        // one per worker of the pool, and one for the thread that leads an epoch from outside
        let nthreads = rayon::current_num_threads().max(1) + 1;
        let mut engines = Vec::with_capacity(nthreads);
        for _ in 0..nthreads {
            let engine = match config.train.engine {
                EngineKind::Adjoint => Engine::Adjoint(Box::new(AdjointEngine::new(&network)?)),
                EngineKind::Transient => {
                    Engine::Transient(Box::new(TransientEngine::new(&network, &config.transient)?))
                }
            };
            engines.push(Mutex::new(Worker {
                engine,
                holds: None,
            }));
        }
        let seconds = vec![0.0; split.train.len()];
        Ok(Trainer {
            velocity: vec![0.0; g.len()],
            rng: Rng::new(config.train.seed ^ 0x7A11_0000),
            config,
            network,
            split,
            g,
            epoch: 0,
            history: Vec::new(),
            engines,
            seconds,
            stop: None,
        })
    }

    /// Resume from a checkpoint: the checkpoint's configuration must equal `config` except
    /// for the number of epochs and the failure policy.
    pub fn resume(config: Config, base: &Path, ck: &Checkpoint) -> Result<Trainer, LearnError> {
        let mut a = ck.config.clone();
        a.train.epochs = config.train.epochs;
        a.train.on_failure = config.train.on_failure;
        if a != config {
            return Err(LearnError::Config("the configuration differs from the checkpoint's (only train.epochs and train.on_failure may change on --resume)".into()));
        }
        let mut t = Trainer::new(config, base)?;
        if ck.conductances.len() != t.g.len() || ck.velocity.len() != t.g.len() {
            return Err(LearnError::Config(
                "the checkpoint's network does not match the configuration".into(),
            ));
        }
        t.g = ck.conductances.clone();
        t.velocity = ck.velocity.clone();
        t.rng = Rng {
            state: ck.rng_state,
        };
        t.epoch = ck.epoch;
        t.history = ck.history.clone();
        Ok(t)
    }

    /// The current state as a checkpoint.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            format: "freqprop-run".into(),
            version: 1,
            config: self.config.clone(),
            epoch: self.epoch,
            rng_state: self.rng.state,
            names: self.network.trainable_names(),
            conductances: self.g.clone(),
            velocity: self.velocity.clone(),
            history: self.history.clone(),
        }
    }

    /// Poll `flag` before every minibatch: once it is true, [`Trainer::train_epoch`]
    /// returns [`LearnError::Interrupted`] with the trainer put back to the last completed
    /// epoch (conductances, momentum and shuffle state as they were).
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Mean loss and accuracy (classification) on a dataset at the current conductances;
    /// any failing example is an error.
    pub fn evaluate(&self, set: &Dataset) -> Result<(f64, Option<f64>), LearnError> {
        evaluate_set(
            &self.engines,
            &self.g,
            &self.config.loss,
            set,
            "train",
            FailurePolicy::Abort,
            &mut Vec::new(),
        )
    }

    /// One epoch: shuffle, minibatches (samples in parallel), updates, evaluation.
    /// `progress(done, total, running_loss)` is called after each minibatch.
    ///
    /// The calling thread leads the epoch and the pool's other threads help it: each claims
    /// samples of a minibatch (or of an evaluation set) as they are published and waits for
    /// the next by spinning ([`crate::team`]), so that rayon's workers do not fall asleep between
    /// minibatches, and the caller, already running, does not hand the epoch to a worker it
    /// would first have to wake. Both cost about as much as a minibatch on a small network.
    /// Measured (`examples/throughput`, Iris with the adjoint engine, 2 threads against 1,
    /// median minibatch phase, runs in turn on a 2-core machine): a fork-join per minibatch
    /// 1.07–1.25×, this team 1.60–1.79× as the machine's load varied, against 1.91× for a
    /// control of the same grain in the same run (docs/training-performance.md).
    ///
    /// A minibatch's samples are claimed longest first (by what each took in the last epoch),
    /// and an engine writes the conductances into its circuit only at its first sample after
    /// an update. The results are those of one thread, bit for bit: every sample's gradient is
    /// summed in minibatch order, whichever thread ran it and in whatever order.
    pub fn train_epoch(
        &mut self,
        progress: &mut (dyn FnMut(usize, usize, f64) + Send),
    ) -> Result<EpochStats, LearnError> {
        let start = Instant::now();
        let before = (self.g.clone(), self.velocity.clone(), self.rng.state);
        let n = self.split.train.len();
        let mut order: Vec<usize> = (0..n).collect();
        self.rng.shuffle(&mut order);
        let bs = self.config.train.batch_size;
        let step = self.config.train.lr * self.config.train.g_unit * self.config.train.g_unit;
        let mom = self.config.train.momentum;
        let policy = self.config.train.on_failure;
        let Trainer {
            config,
            network,
            split,
            g,
            velocity,
            engines,
            seconds,
            stop,
            epoch,
            ..
        } = self;
        let (engines, obj) = (&*engines, &config.loss);
        let set_of = |part: Part| match part {
            Part::Train => &split.train,
            Part::Test => &split.test,
        };
        let train = &split.train;
        // the conductances the samples read (the updates write them between minibatches),
        // and how many updates this epoch has made: an engine that already holds the current
        // conductances neither reads them nor writes them again (most samples of a minibatch)
        let current = RwLock::new(g.clone());
        let updates = AtomicUsize::new(0);
        for w in engines {
            w.lock().unwrap().holds = None;
        }
        let run = |job: Job| {
            let mut w = engines[engine_index(engines.len())].lock().unwrap();
            let k = updates.load(Ordering::Acquire);
            let ready = if w.holds == Some(k) {
                Ok(())
            } else {
                let r = w.engine.set_conductances(&current.read().unwrap());
                w.holds = r.is_ok().then_some(k);
                r
            };
            let e = &mut w.engine;
            match job {
                Job::Gradient(i) => {
                    let t0 = Instant::now();
                    let r = ready.and_then(|()| {
                        failure::check_grad(e.gradient(&train.x[i], &train.y[i], obj))
                    });
                    Done::Gradient(r, t0.elapsed().as_secs_f64())
                }
                Job::Forward(part, i) => {
                    Done::Forward(ready.and_then(|()| forward_sample(e, obj, set_of(part), i)))
                }
            }
        };
        let team = Team::new(bs.max(train.len()).max(split.test.len()));
        let helpers = rayon::current_num_threads().saturating_sub(1);
        let stop_requested = || stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
        let mut running = 0.0;
        let mut seen = 0usize;
        let mut skipped = Vec::new();
        let outcome = rayon::in_place_scope(|s| {
            for _ in 0..helpers {
                s.spawn(|_| team.help(&run));
            }
            let mut epoch_work = || -> Result<EpochStats, LearnError> {
                let mut jobs = Vec::with_capacity(bs);
                for batch in order.chunks(bs) {
                    if stop_requested() {
                        return Err(LearnError::Interrupted);
                    }
                    jobs.clear();
                    jobs.extend(batch.iter().map(|&i| Job::Gradient(i)));
                    // claimed longest first by what each took in the last epoch
                    let mut claims: Vec<usize> = (0..batch.len()).collect();
                    claims.sort_by(|&a, &b| seconds[batch[b]].total_cmp(&seconds[batch[a]]));
                    let done = team.run_in_order(&jobs, claims, &run);
                    let results = done.into_iter().zip(batch).map(|(d, &i)| {
                        let (r, s) = d.gradient();
                        seconds[i] = s;
                        r
                    });
                    let results = failure::triage(
                        policy,
                        "train",
                        Stage::Gradient,
                        batch.iter().copied().zip(results),
                        &mut skipped,
                    )?;
                    let mut mean = vec![0.0; g.len()];
                    for r in &results {
                        running += r.loss;
                        for (m, gr) in mean.iter_mut().zip(&r.grad) {
                            *m += gr;
                        }
                    }
                    if !results.is_empty() {
                        seen += results.len();
                        let inv = 1.0 / results.len() as f64;
                        for ((gj, vj), mj) in g.iter_mut().zip(velocity.iter_mut()).zip(&mean) {
                            *vj = mom * *vj - step * mj * inv;
                            *gj += *vj;
                        }
                        network.clip(g);
                        current.write().unwrap().copy_from_slice(g);
                        updates.fetch_add(1, Ordering::Release);
                    }
                    progress(seen, n, running / seen.max(1) as f64);
                }
                if seen == 0 {
                    return Err(LearnError::Sim(format!(
                        "every training example failed in epoch {}; the first: {}",
                        *epoch + 1,
                        skipped.first().map_or(String::new(), |s| s.to_string())
                    )));
                }
                let mut evaluate = |part: Part, name: &str| {
                    let set = set_of(part);
                    let jobs: Vec<Job> = (0..set.len()).map(|i| Job::Forward(part, i)).collect();
                    let res = team.run(&jobs, &run).into_iter().map(Done::forward);
                    summarize(set, name, policy, res, &mut skipped)
                };
                let (train_loss, train_accuracy) = evaluate(Part::Train, "train")?;
                let (test_loss, test_accuracy) = evaluate(Part::Test, "test")?;
                Ok(EpochStats {
                    epoch: *epoch + 1,
                    train_loss,
                    train_accuracy,
                    test_loss,
                    test_accuracy,
                    seconds: start.elapsed().as_secs_f64(),
                    skipped: std::mem::take(&mut skipped),
                })
            };
            let r = epoch_work();
            // the helpers go back to the pool
            team.end();
            r
        });
        let s = match outcome {
            Ok(s) => s,
            Err(LearnError::Interrupted) => {
                (self.g, self.velocity, self.rng.state) = before;
                return Err(LearnError::Interrupted);
            }
            Err(e) => return Err(e),
        };
        self.epoch += 1;
        self.history.push(s.clone());
        Ok(s)
    }
}

/// A sample's work in an epoch: the gradient of training example `i`, or the forward pass of
/// example `i` of the training or test set.
#[derive(Debug, Clone, Copy)]
enum Job {
    Gradient(usize),
    Forward(Part, usize),
}

/// Which set a forward pass reads.
#[derive(Debug, Clone, Copy)]
enum Part {
    Train,
    Test,
}

/// A [`Job`]'s result.
enum Done {
    /// The gradient, and the seconds it took.
    Gradient(Result<SampleGrad, LearnError>, f64),
    Forward(Result<(f64, bool), LearnError>),
}

impl Done {
    fn gradient(self) -> (Result<SampleGrad, LearnError>, f64) {
        match self {
            Done::Gradient(r, s) => (r, s),
            Done::Forward(_) => unreachable!("a gradient job gives a gradient"),
        }
    }
    fn forward(self) -> Result<(f64, bool), LearnError> {
        match self {
            Done::Forward(r) => r,
            Done::Gradient(..) => unreachable!("a forward job gives a forward pass"),
        }
    }
}

/// The engine of the calling thread: one per rayon worker, and the last for a thread outside
/// the pool (the one leading an epoch).
fn engine_index(engines: usize) -> usize {
    rayon::current_thread_index().map_or(engines - 1, |i| i % engines)
}

/// Loss and whether the class is right, for example `i` of `set` at the conductances `e`
/// holds.
fn forward_sample(
    e: &mut Engine,
    obj: &Objective,
    set: &Dataset,
    i: usize,
) -> Result<(f64, bool), LearnError> {
    let y = e.forward(&set.x[i])?;
    let (l, _) = obj.eval(&y, &set.y[i]);
    let ok = match &set.y[i] {
        Target::Class(c) => obj.predict(&y) == *c,
        _ => false,
    };
    failure::check_forward(&y, l)?;
    Ok((l, ok))
}

/// Mean loss and accuracy of the forward passes `res` of every example of `set`, in order;
/// under `policy`, failed examples (named `name` #index) are appended to `skipped` and left
/// out of the means.
fn summarize(
    set: &Dataset,
    name: &str,
    policy: FailurePolicy,
    res: impl Iterator<Item = Result<(f64, bool), LearnError>>,
    skipped: &mut Vec<SkippedSample>,
) -> Result<(f64, Option<f64>), LearnError> {
    let res = failure::triage(policy, name, Stage::Evaluation, res.enumerate(), skipped)?;
    let mut loss = 0.0;
    let mut correct = 0usize;
    for (l, ok) in &res {
        loss += l;
        correct += *ok as usize;
    }
    let n = res.len() as f64;
    if res.is_empty() {
        return Ok((f64::NAN, set.n_classes.map(|_| f64::NAN)));
    }
    Ok((loss / n, set.n_classes.map(|_| correct as f64 / n)))
}

/// Mean loss and accuracy (classification) on `set` at conductances `g` (samples in
/// parallel); under `policy`, skipped examples (named `name` #index) are appended to
/// `skipped` and left out of the means.
fn evaluate_set(
    engines: &[Mutex<Worker>],
    g: &[f64],
    obj: &Objective,
    set: &Dataset,
    name: &str,
    policy: FailurePolicy,
    skipped: &mut Vec<SkippedSample>,
) -> Result<(f64, Option<f64>), LearnError> {
    let res: Vec<Result<(f64, bool), LearnError>> = (0..set.len())
        .into_par_iter()
        .map(|i| {
            let mut w = engines[engine_index(engines.len())].lock().unwrap();
            w.holds = None;
            w.engine.set_conductances(g)?;
            forward_sample(&mut w.engine, obj, set, i)
        })
        .collect();
    summarize(set, name, policy, res.into_iter(), skipped)
}

/// Resolve the directory relative paths in a config file refer to.
pub fn config_base(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `train_epoch` against the rule written out plainly: the same shuffles, one engine that
    /// is given the conductances before every sample, each minibatch's gradients summed in
    /// order, momentum, clipping. Bit for bit, on 1 and 2 threads: an engine that skipped
    /// the conductances it did not hold (or claimed them in the wrong order) would differ.
    #[test]
    fn epochs_are_the_plain_minibatch_rule() {
        let text = r#"
[data]
dataset = "iris"
[network]
hidden = [8]
[train]
batch_size = 8
momentum = 0.5
seed = 5
"#;
        let config = parse_config(text, "iris.toml").unwrap();
        let epochs = 3;
        // the rule, by hand
        let t = Trainer::new(config.clone(), Path::new(".")).unwrap();
        let (mut g, mut velocity, mut rng) = (t.g.clone(), vec![0.0; t.g.len()], t.rng);
        let mut engine = AdjointEngine::new(&t.network).unwrap();
        let train = &t.split.train;
        let step = t.config.train.lr * t.config.train.g_unit * t.config.train.g_unit;
        for _ in 0..epochs {
            let mut order: Vec<usize> = (0..train.len()).collect();
            rng.shuffle(&mut order);
            for batch in order.chunks(t.config.train.batch_size) {
                let mut sum = vec![0.0; g.len()];
                for &i in batch {
                    engine.set_conductances(&g).unwrap();
                    let r = engine
                        .gradient(&train.x[i], &train.y[i], &t.config.loss)
                        .unwrap();
                    for (s, d) in sum.iter_mut().zip(&r.grad) {
                        *s += d;
                    }
                }
                let inv = 1.0 / batch.len() as f64;
                for ((gj, vj), sj) in g.iter_mut().zip(&mut velocity).zip(&sum) {
                    *vj = t.config.train.momentum * *vj - step * sj * inv;
                    *gj += *vj;
                }
                t.network.clip(&mut g);
            }
        }
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut trainer =
                pool.install(|| Trainer::new(config.clone(), Path::new(".")).unwrap());
            pool.install(|| {
                for _ in 0..epochs {
                    trainer.train_epoch(&mut |_, _, _| {}).unwrap();
                }
            });
            assert!(trainer.g != t.g, "training moves the conductances");
            assert_eq!(trainer.g, g, "conductances, {threads} threads");
            assert_eq!(trainer.velocity, velocity, "momentum, {threads} threads");
        }
    }
}
