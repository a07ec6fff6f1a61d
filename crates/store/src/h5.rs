//! Waveforms in HDF5 files, streamed while a run goes on.
//!
//! # Layout (format `freqprop-waveforms`, version 1)
//!
//! | object | kind | content |
//! |---|---|---|
//! | `/` attrs `format`, `format_version` | string, u32 | `freqprop-waveforms`, `1` |
//! | `/` attrs `title`, `plotname` | string | circuit title, e.g. `Transient Analysis` |
//! | `/` attr `status` | string | `complete`, `failed: <reason>` or `interrupted` (stopped by a signal; the points computed so far) |
//! | `/` attr `points` | u64 | number of time points |
//! | `/time` | f64 `[points]` | time axis; attrs `quantity` = `time`, `unit` = `s` |
//! | `/signals` | f64 `[points × signals]` | row `i` holds every signal at `time[i]`; attrs `names`, `quantities` (`voltage`/`current`), `units` (`V`/`A`), 1-D string arrays in column order |
//! | `/netlist`, `/options`, `/summary`, ... | scalar string datasets | optional texts (`summary` is JSON) |
//!
//! Both datasets are chunked and extendible along the point axis. `/signals` uses chunks of
//! `flush_every × 1`: appending a block of rows writes whole chunks, and reading one column
//! (one signal) touches only that column's chunks. The writer buffers `flush_every` points
//! (default [`DEFAULT_FLUSH_EVERY`]) and then extends the datasets, so a long run never sits
//! in memory. The datasets are created at the first flush: a run that ends with fewer points
//! than `flush_every` gets chunks of exactly its points, not a block padded with zeros
//! (3 points of 100,000 signals took 843 MB and a second on disk with 1,024-point chunks).
//! Strings are variable-length UTF-8. `h5dump`, h5py and any HDF5 reader can read the files;
//! the writer works on `<path>.tmp-<pid>` and renames it on `finish`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use circuit::{Quantity, Signal, WaveSink, Waveforms};
use hdf5::types::{VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, File, Location};

use crate::atomic::AtomicPath;
use crate::error::{Result, StoreError};

/// Default number of points buffered before the datasets are extended.
pub const DEFAULT_FLUSH_EVERY: usize = 4096;

/// The `format` attribute value.
pub const FORMAT_NAME: &str = "freqprop-waveforms";

fn vlu(path: &Path, object: &str, s: &str) -> Result<VarLenUnicode> {
    VarLenUnicode::from_str(s)
        .map_err(|e| StoreError::h5(path, object, format!("string not storable: {e}")))
}

/// Write variable-length strings into the whole of `ds` (a scalar dataset for one string),
/// through a transfer property list whose conversion buffers are sized to the data.
///
/// With HDF5's default transfer list each write of variable-length strings gets a 1 MiB
/// type-conversion buffer and a zero-filled 1 MiB background buffer, fresh pages each time:
/// measured with `perf record -e page-faults`, the three texts `simulate` stores (netlist,
/// options, summary) took 45% of all the page faults of a small deck's whole run.
pub fn write_vlen_strings(ds: &Dataset, values: &[VarLenUnicode]) -> hdf5::Result<()> {
    use hdf5_sys::h5d::H5Dwrite;
    use hdf5_sys::h5p::{H5Pcreate, H5Pset_buffer};
    use hdf5_sys::h5s::H5S_ALL;
    // the larger of the memory and file element sizes (a pointer; a 16-byte heap reference),
    // with room to spare; beyond HDF5's default of 1 MiB the conversion goes in strips
    let size = (values.len().max(1) * 32).min(1 << 20);
    let mem = hdf5::Datatype::from_type::<VarLenUnicode>()?;
    let n = ds.space()?.size();
    if n != values.len() {
        return Err(format!("{} strings for a dataset of {n}", values.len()).into());
    }
    hdf5::sync::sync(|| {
        // SAFETY: the property list is owned by `xfer` (closed on drop); `values` holds
        // `n` valid variable-length strings, as the dataset's whole selection needs
        let xfer = hdf5::h5check(unsafe { H5Pcreate(*hdf5::globals::H5P_DATASET_XFER) })?;
        let xfer = unsafe { hdf5::from_id::<hdf5::PropertyList>(xfer) }?;
        hdf5::h5check(unsafe {
            H5Pset_buffer(xfer.id(), size, std::ptr::null_mut(), std::ptr::null_mut())
        })?;
        hdf5::h5check(unsafe {
            H5Dwrite(
                ds.id(),
                mem.id(),
                H5S_ALL,
                H5S_ALL,
                xfer.id(),
                values.as_ptr().cast(),
            )
        })?;
        Ok(())
    })
}

/// Columns transposed per pass of [`write_column_chunks`] (a tile of `TILE_COLUMNS` columns
/// of a chunk's values each).
const TILE_COLUMNS: usize = 32;

/// Values of padding after each column of the tile: one cache line. With columns a power of
/// two bytes apart (a 1,024-point chunk: 8 KiB), the transpose's 32 writes per row all fall
/// into one set of the cache and evict each other. Measured with `cargo bench --bench
/// output` (1,024 points pushed, transposed and written): 306 signals 5.11 → 3.72 ms per
/// block, 900 signals 15.4 → 11.6 ms.
const TILE_PAD: usize = 8;

/// Write a block of `k` rows (`rows`, row-major, one row per point) of `/signals` from row
/// `n0`, a multiple of the chunk length `c` (`k ≤ c`), as one direct chunk write per column.
///
/// A chunk of `/signals` is `c × 1`: one signal's run of `c` points, so each column of the
/// block is a whole chunk's contents (zero-padded past `k`, beyond the dataset's extent, in
/// the block at the end of a run). HDF5's selection path copies such a block element by
/// element into the column chunks; measured in `simulate` (1,024-point blocks):
/// random_network's 398 signals took 6.6–7.8 ms per block through it, mesh30's 900 signals
/// 16–22 ms. The file's data type is the native `f64` (little-endian here), unfiltered, so
/// the bytes of a column are the chunk.
#[cfg_attr(not(all(hdf5_direct_chunk, target_endian = "little")), allow(unused))]
fn write_column_chunks(
    ds: &Dataset,
    rows: &[f64],
    k: usize,
    n0: usize,
    c: usize,
    tile: &mut Vec<f64>,
) -> hdf5::Result<()> {
    #[cfg(all(hdf5_direct_chunk, target_endian = "little"))]
    {
        use hdf5_sys::h5::hsize_t;
        use hdf5_sys::h5d::H5Dwrite_chunk;
        use hdf5_sys::h5p::H5P_DEFAULT;
        let m = rows.len().checked_div(k).unwrap_or(0);
        if m == 0 {
            return Ok(());
        }
        let stride = c + TILE_PAD;
        tile.clear();
        tile.resize(TILE_COLUMNS * stride, 0.0);
        hdf5::sync::sync(|| {
            for j0 in (0..m).step_by(TILE_COLUMNS) {
                let w = TILE_COLUMNS.min(m - j0);
                for (i, row) in rows.chunks_exact(m).enumerate() {
                    for (t, &v) in row[j0..j0 + w].iter().enumerate() {
                        tile[t * stride + i] = v;
                    }
                }
                for t in 0..w {
                    let col = &mut tile[t * stride..t * stride + c];
                    col[k..].iter_mut().for_each(|v| *v = 0.0);
                    let offset: [hsize_t; 2] = [n0 as hsize_t, (j0 + t) as hsize_t];
                    // SAFETY: `col` holds the chunk's `c` values, as many bytes as the
                    // chunk of a c × 1 unfiltered f64 dataset; `offset` is a chunk corner
                    // within the extent (resized to n0 + k rows before)
                    hdf5::h5check(unsafe {
                        H5Dwrite_chunk(
                            ds.id(),
                            H5P_DEFAULT,
                            0,
                            offset.as_ptr(),
                            c * std::mem::size_of::<f64>(),
                            col.as_ptr().cast(),
                        )
                    })?;
                }
            }
            Ok(())
        })
    }
    #[cfg(not(all(hdf5_direct_chunk, target_endian = "little")))]
    {
        let _ = (ds, rows, k, n0, c, tile);
        Err("direct chunk writes need HDF5 1.10.3".into())
    }
}

fn write_str_attr(loc: &Location, path: &Path, name: &str, value: &str) -> Result<()> {
    let obj = format!("{}@{name}", loc.name());
    let v = vlu(path, &obj, value)?;
    if loc.attr(name).is_ok() {
        loc.delete_attr(name)
            .map_err(|e| StoreError::h5(path, &obj, e))?;
    }
    loc.new_attr::<VarLenUnicode>()
        .shape(())
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .map_err(|e| StoreError::h5(path, &obj, e))
}

fn write_str_list_attr(loc: &Location, path: &Path, name: &str, values: &[String]) -> Result<()> {
    let obj = format!("{}@{name}", loc.name());
    let v = values
        .iter()
        .map(|s| vlu(path, &obj, s))
        .collect::<Result<Vec<_>>>()?;
    loc.new_attr::<VarLenUnicode>()
        .shape(v.len())
        .create(name)
        .and_then(|a| a.write_raw(&v))
        .map_err(|e| StoreError::h5(path, &obj, e))
}

fn read_str_attr(loc: &Location, path: &Path, name: &str) -> Result<String> {
    let obj = format!("{}@{name}", loc.name());
    let a = loc
        .attr(name)
        .map_err(|_| StoreError::h5(path, &obj, "missing attribute"))?;
    if let Ok(s) = a.read_scalar::<VarLenUnicode>() {
        return Ok(s.as_str().to_string());
    }
    a.read_scalar::<VarLenAscii>()
        .map(|s| s.as_str().to_string())
        .map_err(|e| StoreError::h5(path, &obj, format!("expected a string attribute: {e}")))
}

fn read_str_list_attr(loc: &Location, path: &Path, name: &str) -> Result<Vec<String>> {
    let obj = format!("{}@{name}", loc.name());
    let a = loc
        .attr(name)
        .map_err(|_| StoreError::h5(path, &obj, "missing attribute"))?;
    if let Ok(v) = a.read_raw::<VarLenUnicode>() {
        return Ok(v.iter().map(|s| s.as_str().to_string()).collect());
    }
    a.read_raw::<VarLenAscii>()
        .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
        .map_err(|e| {
            StoreError::h5(
                path,
                &obj,
                format!("expected a 1-D string array attribute: {e}"),
            )
        })
}

/// Streams waveforms into an HDF5 file (see the [module docs](self) for the layout).
///
/// Create it, optionally store texts (netlist, options), hand it to an analysis as a
/// [`WaveSink`], and call [`WaveSink::finish`] (after [`H5WaveWriter::set_failed`] when the
/// run failed): only then is the file renamed into place. Dropping the writer without
/// finishing removes the temporary file.
pub struct H5WaveWriter {
    target: PathBuf,
    guard: Option<AtomicPath>,
    file: Option<File>,
    time_ds: Option<Dataset>,
    sig_ds: Option<Dataset>,
    /// The signals given to `begin`, until the datasets are created (at the first flush).
    pending: Option<Vec<Signal>>,
    n_signals: usize,
    written: usize,
    buf_time: Vec<f64>,
    buf_rows: Vec<f64>,
    flush_every: usize,
    /// Rows of a `/signals` chunk (`flush_every` when the dataset was created).
    chunk_rows: usize,
    /// Columns of a block, transposed a few at a time for direct chunk writes.
    tile: Vec<f64>,
    /// Final status when not `complete`.
    status: Option<String>,
}

impl std::fmt::Debug for H5WaveWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5WaveWriter")
            .field("target", &self.target)
            .field("n_signals", &self.n_signals)
            .field("points", &(self.written + self.buf_time.len()))
            .finish()
    }
}

impl H5WaveWriter {
    /// Create the temporary file for `path`.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self> {
        let target = path.into();
        let guard = AtomicPath::new(&target);
        let tmp = guard.tmp_path().to_path_buf();
        // HDF5 1.8 object format or later: attributes past the 64 KiB object-header limit
        // (the names of 10,000 signals and more) go to dense storage instead of failing
        let file = File::with_options()
            .with_fapl(|p| p.libver_v18())
            .create(&tmp)
            .map_err(|e| StoreError::h5(&tmp, "/", format!("cannot create HDF5 file: {e}")))?;
        write_str_attr(&file, &tmp, "format", FORMAT_NAME)?;
        file.new_attr::<u32>()
            .shape(())
            .create("format_version")
            .and_then(|a| a.write_scalar(&1u32))
            .map_err(|e| StoreError::h5(&tmp, "/@format_version", e))?;
        write_str_attr(&file, &tmp, "status", "running")?;
        Ok(H5WaveWriter {
            target,
            guard: Some(guard),
            file: Some(file),
            time_ds: None,
            sig_ds: None,
            pending: None,
            n_signals: 0,
            written: 0,
            buf_time: Vec::new(),
            buf_rows: Vec::new(),
            flush_every: DEFAULT_FLUSH_EVERY,
            chunk_rows: 0,
            tile: Vec::new(),
            status: None,
        })
    }

    /// Buffer `n` points (at least 1) between dataset extensions; also the chunk length.
    /// Takes effect for datasets created by a later [`WaveSink::begin`].
    pub fn with_flush_every(mut self, n: usize) -> Self {
        self.flush_every = n.max(1);
        self
    }

    /// Final path of the file.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Points pushed so far.
    pub fn points(&self) -> usize {
        self.written + self.buf_time.len()
    }

    /// `begin` was called and `finish` was not.
    fn begun(&self) -> bool {
        self.pending.is_some() || self.time_ds.is_some()
    }

    fn tmp(&self) -> PathBuf {
        self.guard
            .as_ref()
            .map_or_else(|| self.target.clone(), |g| g.tmp_path().to_path_buf())
    }

    fn file(&self) -> Result<&File> {
        self.file
            .as_ref()
            .ok_or_else(|| StoreError::h5(&self.target, "/", "writer already finished"))
    }

    /// Store a text as a scalar string dataset `/<name>` (replacing an earlier one).
    pub fn set_text(&mut self, name: &str, text: &str) -> Result<()> {
        let tmp = self.tmp();
        let file = self.file()?;
        let obj = format!("/{name}");
        if name.is_empty() || name.contains('/') || name == "time" || name == "signals" {
            return Err(StoreError::h5(
                &tmp,
                &obj,
                "reserved or invalid text dataset name",
            ));
        }
        let v = vlu(&tmp, &obj, text)?;
        if file.link_exists(name) {
            file.unlink(name)
                .map_err(|e| StoreError::h5(&tmp, &obj, e))?;
        }
        file.new_dataset::<VarLenUnicode>()
            .shape(())
            .create(name)
            .and_then(|d| write_vlen_strings(&d, std::slice::from_ref(&v)))
            .map_err(|e| StoreError::h5(&tmp, &obj, e))
    }

    /// Store the netlist text as `/netlist`.
    pub fn set_netlist(&mut self, text: &str) -> Result<()> {
        self.set_text("netlist", text)
    }

    /// Store the run options (e.g. TOML or `key=value` text) as `/options`.
    pub fn set_options(&mut self, text: &str) -> Result<()> {
        self.set_text("options", text)
    }

    /// Store a JSON summary as `/summary`.
    pub fn set_summary_json(&mut self, json: &str) -> Result<()> {
        self.set_text("summary", json)
    }

    /// Set a string attribute on the root group.
    pub fn set_attr(&mut self, name: &str, value: &str) -> Result<()> {
        let tmp = self.tmp();
        write_str_attr(self.file()?, &tmp, name, value)
    }

    /// Mark the run as failed; [`WaveSink::finish`] then writes `status = "failed: <reason>"`
    /// (instead of `complete`) and still renames the file into place with what was computed.
    pub fn set_failed(&mut self, reason: &str) {
        self.status = Some(format!("failed: {reason}"));
    }

    /// Mark the run as stopped by a signal; [`WaveSink::finish`] then writes
    /// `status = "interrupted"` and renames the file into place with what was computed.
    pub fn set_interrupted(&mut self) {
        self.status = Some("interrupted".to_string());
    }

    /// Create `/time` and `/signals` (with the attributes of the signals given to `begin`)
    /// in chunks of `chunk` points.
    fn create_datasets(&mut self, chunk: usize) -> Result<()> {
        let tmp = self.tmp();
        let signals = self.pending.take().unwrap_or_default();
        let file = self.file()?;
        let tds = file
            .new_dataset::<f64>()
            .chunk(chunk)
            .shape(0..)
            .create("time")
            .map_err(|e| StoreError::h5(&tmp, "/time", e))?;
        write_str_attr(&tds, &tmp, "quantity", "time")?;
        write_str_attr(&tds, &tmp, "unit", "s")?;
        let sds = file
            .new_dataset::<f64>()
            .chunk((chunk, 1))
            .shape((0.., signals.len()..))
            .create("signals")
            .map_err(|e| StoreError::h5(&tmp, "/signals", e))?;
        let names: Vec<String> = signals.iter().map(|s| s.name.clone()).collect();
        let quantities: Vec<String> = signals
            .iter()
            .map(|s| s.quantity.spice_type().to_string())
            .collect();
        let units: Vec<String> = signals
            .iter()
            .map(|s| s.quantity.unit().to_string())
            .collect();
        write_str_list_attr(&sds, &tmp, "names", &names)?;
        write_str_list_attr(&sds, &tmp, "quantities", &quantities)?;
        write_str_list_attr(&sds, &tmp, "units", &units)?;
        self.chunk_rows = chunk;
        self.time_ds = Some(tds);
        self.sig_ds = Some(sds);
        Ok(())
    }

    /// Write the buffered points. `last`: no point follows (from `finish`); the datasets,
    /// when this is their first write, then take chunks of exactly the points there are.
    fn flush_points(&mut self, last: bool) -> Result<()> {
        let k = self.buf_time.len();
        if self.time_ds.is_none() && (k > 0 || last) {
            let chunk = if last && k < self.flush_every {
                k.max(1)
            } else {
                self.flush_every
            };
            self.create_datasets(chunk)?;
        }
        if k == 0 {
            return Ok(());
        }
        let tmp = self.tmp();
        let (Some(tds), Some(sds)) = (self.time_ds.as_ref(), self.sig_ds.as_ref()) else {
            return Err(StoreError::h5(&tmp, "/time", "push before begin"));
        };
        let n0 = self.written;
        let n1 = n0 + k;
        tds.resize(n1)
            .and_then(|_| tds.write_slice(&self.buf_time, n0..n1))
            .map_err(|e| {
                StoreError::h5(
                    &tmp,
                    "/time",
                    format!("cannot append points {n0}..{n1}: {e}"),
                )
            })?;
        if self.n_signals > 0 {
            let c = self.chunk_rows;
            let direct = cfg!(all(hdf5_direct_chunk, target_endian = "little"))
                && c > 0
                && n0 % c == 0
                && k <= c;
            sds.resize((n1, self.n_signals))
                .and_then(|_| {
                    if direct {
                        write_column_chunks(sds, &self.buf_rows, k, n0, c, &mut self.tile)
                    } else {
                        let block =
                            ndarray::ArrayView2::from_shape((k, self.n_signals), &self.buf_rows)
                                .expect("buffer shape");
                        sds.write_slice(block, (n0..n1, ..))
                    }
                })
                .map_err(|e| {
                    StoreError::h5(
                        &tmp,
                        "/signals",
                        format!("cannot append points {n0}..{n1}: {e}"),
                    )
                })?;
        } else {
            sds.resize((n1, 0))
                .map_err(|e| StoreError::h5(&tmp, "/signals", e))?;
        }
        self.written = n1;
        self.buf_time.clear();
        self.buf_rows.clear();
        Ok(())
    }
}

impl WaveSink for H5WaveWriter {
    type Error = StoreError;

    fn begin(&mut self, title: &str, plotname: &str, signals: &[Signal]) -> Result<()> {
        let tmp = self.tmp();
        if self.begun() {
            return Err(StoreError::h5(&tmp, "/time", "begin called twice"));
        }
        let file = self.file()?;
        write_str_attr(file, &tmp, "title", title)?;
        write_str_attr(file, &tmp, "plotname", plotname)?;
        // the datasets come at the first flush, when it is known whether the run fills a
        // block (see the module docs)
        let m = signals.len();
        self.pending = Some(signals.to_vec());
        self.n_signals = m;
        self.buf_time.reserve(self.flush_every);
        self.buf_rows.reserve(self.flush_every * m);
        Ok(())
    }

    fn push(&mut self, time: f64, values: &[f64]) -> Result<()> {
        if values.len() != self.n_signals || !self.begun() {
            let tmp = self.tmp();
            if !self.begun() {
                return Err(StoreError::h5(
                    &tmp,
                    "/signals",
                    "push before begin (or after finish)",
                ));
            }
            return Err(StoreError::h5(
                &tmp,
                "/signals",
                format!(
                    "point {}: {} values given for {} signals",
                    self.points(),
                    values.len(),
                    self.n_signals
                ),
            ));
        }
        self.buf_time.push(time);
        self.buf_rows.extend_from_slice(values);
        if self.buf_time.len() >= self.flush_every {
            self.flush_points(false)?;
            // what HDF5 has handed to the file so far goes to disk while the run goes on
            if let Some(g) = self.guard.as_mut() {
                g.start_writeback();
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let tmp = self.tmp();
        if self.file.is_none() {
            return Err(StoreError::h5(&self.target, "/", "finish called twice"));
        }
        if !self.begun() {
            // Nothing was begun: still produce a valid (empty) file.
            self.begin("", "", &[])?;
        }
        self.flush_points(true)?;
        let status = self
            .status
            .clone()
            .unwrap_or_else(|| "complete".to_string());
        let file = self.file()?;
        write_str_attr(file, &tmp, "status", &status)?;
        file.new_attr::<u64>()
            .shape(())
            .create("points")
            .and_then(|a| a.write_scalar(&(self.written as u64)))
            .map_err(|e| StoreError::h5(&tmp, "/@points", e))?;
        self.time_ds = None;
        self.sig_ds = None;
        let file = self.file.take().expect("checked above");
        file.flush()
            .map_err(|e| StoreError::h5(&tmp, "/", format!("flush failed: {e}")))?;
        file.close()
            .map_err(|e| StoreError::h5(&tmp, "/", format!("close failed: {e}")))?;
        self.guard
            .take()
            .expect("guard present until finish")
            .commit()
    }
}

/// A reader of freqprop HDF5 waveform files.
pub struct H5Reader {
    path: PathBuf,
    file: File,
}

impl std::fmt::Debug for H5Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5Reader")
            .field("path", &self.path)
            .finish()
    }
}

impl H5Reader {
    /// Open a file for reading.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Err(e) = std::fs::metadata(&path) {
            return Err(StoreError::io(&path, e));
        }
        let file = File::open(&path)
            .map_err(|e| StoreError::h5(&path, "/", format!("not a readable HDF5 file: {e}")))?;
        Ok(H5Reader { path, file })
    }

    fn dataset(&self, name: &str) -> Result<Dataset> {
        self.file
            .dataset(name)
            .map_err(|_| StoreError::h5(&self.path, format!("/{name}"), "missing dataset"))
    }

    /// Root string attribute (`title`, `plotname`, `status`, `format`, ...).
    pub fn attr(&self, name: &str) -> Result<String> {
        read_str_attr(&self.file, &self.path, name)
    }

    /// Run status: `complete`, `failed: <reason>`, `interrupted` (or `running` for an
    /// unfinished file).
    pub fn status(&self) -> Result<String> {
        self.attr("status")
    }

    /// A text dataset such as `netlist`, `options` or `summary`, if present.
    pub fn text(&self, name: &str) -> Result<Option<String>> {
        if !self.file.link_exists(name) {
            return Ok(None);
        }
        let d = self.dataset(name)?;
        if let Ok(s) = d.read_scalar::<VarLenUnicode>() {
            return Ok(Some(s.as_str().to_string()));
        }
        d.read_scalar::<VarLenAscii>()
            .map(|s| Some(s.as_str().to_string()))
            .map_err(|e| {
                StoreError::h5(
                    &self.path,
                    format!("/{name}"),
                    format!("expected a scalar string: {e}"),
                )
            })
    }

    /// The signals stored in `/signals`, in column order.
    pub fn signals(&self) -> Result<Vec<Signal>> {
        let sds = self.dataset("signals")?;
        let names = read_str_list_attr(&sds, &self.path, "names")?;
        let quantities = read_str_list_attr(&sds, &self.path, "quantities").unwrap_or_default();
        let ncols = sds.shape().get(1).copied().unwrap_or(0);
        if sds.ndim() != 2 || names.len() != ncols {
            return Err(StoreError::h5(
                &self.path,
                "/signals",
                format!(
                    "expected a 2-D dataset with one column per name ({} names), found shape {:?}",
                    names.len(),
                    sds.shape()
                ),
            ));
        }
        Ok(names
            .into_iter()
            .enumerate()
            .map(|(k, name)| {
                let quantity = quantities
                    .get(k)
                    .and_then(|q| Quantity::from_spice_type(q))
                    .unwrap_or(Quantity::Voltage);
                Signal { name, quantity }
            })
            .collect())
    }

    /// The time axis.
    pub fn time(&self) -> Result<Vec<f64>> {
        self.dataset("time")?
            .read_raw::<f64>()
            .map_err(|e| StoreError::h5(&self.path, "/time", e))
    }

    /// One signal by name (matched with [`circuit::canonical_name`]), read column-wise.
    pub fn column(&self, name: &str) -> Result<Vec<f64>> {
        let signals = self.signals()?;
        let want = circuit::canonical_name(name);
        let k = signals
            .iter()
            .position(|s| circuit::canonical_name(&s.name) == want)
            .ok_or_else(|| {
                let known: Vec<_> = signals.iter().map(|s| s.name.as_str()).collect();
                StoreError::h5(
                    &self.path,
                    "/signals",
                    format!("no signal `{name}` (signals: {})", known.join(", ")),
                )
            })?;
        let sds = self.dataset("signals")?;
        sds.read_slice_1d::<f64, _>((.., k))
            .map(|a| a.to_vec())
            .map_err(|e| {
                StoreError::h5(
                    &self.path,
                    "/signals",
                    format!("column {k} (`{name}`): {e}"),
                )
            })
    }

    /// Everything as [`Waveforms`].
    pub fn waveforms(&self) -> Result<Waveforms> {
        let signals = self.signals()?;
        let time = self.time()?;
        let sds = self.dataset("signals")?;
        let m = signals.len();
        let rows = sds.shape()[0];
        if rows != time.len() {
            return Err(StoreError::h5(
                &self.path,
                "/signals",
                format!("{rows} rows but /time holds {} points", time.len()),
            ));
        }
        let flat = sds
            .read_raw::<f64>()
            .map_err(|e| StoreError::h5(&self.path, "/signals", e))?;
        let mut data = vec![Vec::with_capacity(rows); m];
        for row in flat
            .chunks_exact(m.max(1))
            .take(if m == 0 { 0 } else { rows })
        {
            for (col, v) in data.iter_mut().zip(row) {
                col.push(*v);
            }
        }
        Ok(Waveforms {
            title: self.attr("title").unwrap_or_default(),
            plotname: self.attr("plotname").unwrap_or_default(),
            signals,
            time,
            data,
        })
    }
}

/// Read a freqprop HDF5 file into [`Waveforms`].
pub fn read_waveforms(path: impl AsRef<Path>) -> Result<Waveforms> {
    H5Reader::open(path)?.waveforms()
}

/// Write in-memory waveforms to an HDF5 file (atomically), with the same layout.
pub fn write_waveforms(path: impl AsRef<Path>, w: &Waveforms) -> Result<()> {
    let mut wr = H5WaveWriter::create(path.as_ref())?
        .with_flush_every(w.len().clamp(1, DEFAULT_FLUSH_EVERY));
    wr.begin(&w.title, &w.plotname, &w.signals)?;
    let mut row = vec![0.0; w.signals.len()];
    for (i, &t) in w.time.iter().enumerate() {
        for (r, col) in row.iter_mut().zip(&w.data) {
            *r = col[i];
        }
        wr.push(t, &row)?;
    }
    wr.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlen_strings_round_trip_through_the_small_transfer_buffer() {
        let d = tempfile::tempdir().unwrap();
        let file = File::create(d.path().join("s.h5")).unwrap();
        // more strings than the buffer holds at once (1 MiB / 32 B), so that HDF5 converts
        // in strips, and a scalar
        let many: Vec<VarLenUnicode> = (0..40_000)
            .map(|i| VarLenUnicode::from_str(&format!("signal µ{i}")).unwrap())
            .collect();
        let ds = file
            .new_dataset::<VarLenUnicode>()
            .shape(many.len())
            .create("many")
            .unwrap();
        write_vlen_strings(&ds, &many).unwrap();
        let one = file
            .new_dataset::<VarLenUnicode>()
            .shape(())
            .create("one")
            .unwrap();
        let text = VarLenUnicode::from_str("* netlist\nR1 a 0 1k\n").unwrap();
        write_vlen_strings(&one, std::slice::from_ref(&text)).unwrap();
        // a count that is not the dataset's is refused, not read past
        assert!(write_vlen_strings(&one, &many[..2]).is_err());
        let back = file
            .dataset("many")
            .unwrap()
            .read_raw::<VarLenUnicode>()
            .unwrap();
        assert_eq!(back, many);
        let back = file
            .dataset("one")
            .unwrap()
            .read_scalar::<VarLenUnicode>()
            .unwrap();
        assert_eq!(back, text);
    }

    fn sample(n: usize) -> Waveforms {
        let mut w = Waveforms::new(
            "RC test",
            "Transient Analysis",
            vec![
                Signal::voltage("in"),
                Signal::voltage("out"),
                Signal::current("v1"),
            ],
        );
        for i in 0..n {
            let t = i as f64 * 1e-6;
            w.time.push(t);
            w.data[0].push((t * 1e4).sin());
            w.data[1].push((t * 1e4).cos() * 0.5);
            w.data[2].push(-(i as f64) * 1e-3);
        }
        w
    }

    #[test]
    fn roundtrip_with_partial_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.h5");
        let w = sample(1000);
        let mut wr = H5WaveWriter::create(&p).unwrap().with_flush_every(64);
        wr.set_netlist("* rc\nR1 a b 1k\n.end\n").unwrap();
        wr.set_options("reltol = 1e-3").unwrap();
        wr.begin(&w.title, &w.plotname, &w.signals).unwrap();
        for i in 0..w.len() {
            wr.push(w.time[i], &[w.data[0][i], w.data[1][i], w.data[2][i]])
                .unwrap();
        }
        wr.set_summary_json("{\"steps\": 1000}").unwrap();
        assert!(!p.exists(), "target must appear only on finish");
        wr.finish().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let r = H5Reader::open(&p).unwrap();
        assert_eq!(r.status().unwrap(), "complete");
        assert_eq!(r.attr("format").unwrap(), FORMAT_NAME);
        assert_eq!(
            r.text("netlist").unwrap().unwrap(),
            "* rc\nR1 a b 1k\n.end\n"
        );
        assert_eq!(r.text("summary").unwrap().unwrap(), "{\"steps\": 1000}");
        assert_eq!(r.text("nothing").unwrap(), None);
        assert_eq!(r.column("i(v1)").unwrap(), w.data[2]);
        assert_eq!(r.column("OUT").unwrap(), w.data[1]);
        let back = r.waveforms().unwrap();
        assert_eq!(back, w);
        let ds = r.file.dataset("signals").unwrap();
        assert_eq!(ds.chunk(), Some(vec![64, 1]));
    }

    /// A run that ends before its first block gets chunks of exactly its points: 3 points of
    /// 2,000 signals with 1,024-point blocks stay a small file (padded chunks would hold
    /// 2,000 × 1,024 values, 16 MB), and read back the same; a run of one block and a bit
    /// keeps the block's chunks.
    #[test]
    fn short_runs_are_not_padded_to_a_block() {
        let dir = tempfile::tempdir().unwrap();
        let m = 2_000;
        let signals: Vec<Signal> = (0..m).map(|k| Signal::voltage(&format!("n{k}"))).collect();
        let write = |name: &str, points: usize| {
            let p = dir.path().join(name);
            let mut wr = H5WaveWriter::create(&p).unwrap().with_flush_every(1024);
            wr.begin("t", "Transient Analysis", &signals).unwrap();
            for i in 0..points {
                let row: Vec<f64> = (0..m).map(|k| (i * m + k) as f64).collect();
                wr.push(i as f64 * 1e-6, &row).unwrap();
            }
            wr.finish().unwrap();
            p
        };
        let p = write("short.h5", 3);
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(
            size < 1_000_000,
            "3 points of {m} signals took {size} bytes"
        );
        let r = H5Reader::open(&p).unwrap();
        assert_eq!(r.file.dataset("signals").unwrap().chunk(), Some(vec![3, 1]));
        let w = r.waveforms().unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(w.data[1999][2], (2 * m + 1999) as f64);
        let r = H5Reader::open(write("long.h5", 1030)).unwrap();
        assert_eq!(
            r.file.dataset("signals").unwrap().chunk(),
            Some(vec![1024, 1])
        );
        let w = r.waveforms().unwrap();
        assert_eq!(w.len(), 1030);
        // every value of both blocks, each written by the transposing direct chunk writes
        // (2,000 columns: 62 whole tiles and a part)
        for (k, col) in w.data.iter().enumerate() {
            for (i, &v) in col.iter().enumerate() {
                assert_eq!(v, (i * m + k) as f64, "signal {k}, point {i}");
            }
        }
    }

    /// 20,000 signals (a 100×100 mesh has 10,000 nodes): their names, quantities and units
    /// exceed the 64 KiB a compact object header holds, and still round-trip.
    #[test]
    fn many_signals() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("many.h5");
        let m = 20_000;
        let signals: Vec<Signal> = (0..m)
            .map(|k| Signal::voltage(&format!("mesh_node_{k}")))
            .collect();
        let mut wr = H5WaveWriter::create(&p).unwrap().with_flush_every(4);
        wr.begin("big", "Transient Analysis", &signals).unwrap();
        let row: Vec<f64> = (0..m).map(|k| k as f64).collect();
        for i in 0..10 {
            wr.push(i as f64 * 1e-6, &row).unwrap();
        }
        wr.finish().unwrap();
        let r = H5Reader::open(&p).unwrap();
        assert_eq!(r.status().unwrap(), "complete");
        let w = r.waveforms().unwrap();
        assert_eq!(w.signals.len(), m);
        assert_eq!(w.signals[m - 1].name, format!("v(mesh_node_{})", m - 1));
        assert_eq!(
            r.column(&format!("mesh_node_{}", m - 1)).unwrap(),
            vec![(m - 1) as f64; 10]
        );
    }

    #[test]
    fn failed_run_and_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.h5");
        let mut wr = H5WaveWriter::create(&p).unwrap();
        wr.begin("t", "Transient Analysis", &[Signal::voltage("a")])
            .unwrap();
        wr.push(0.0, &[1.0]).unwrap();
        assert!(wr
            .push(1.0, &[1.0, 2.0])
            .unwrap_err()
            .to_string()
            .contains("2 values given for 1 signals"));
        wr.set_failed("timestep too small at t = 1e-9");
        wr.finish().unwrap();
        let r = H5Reader::open(&p).unwrap();
        assert_eq!(
            r.status().unwrap(),
            "failed: timestep too small at t = 1e-9"
        );
        assert_eq!(r.waveforms().unwrap().data, vec![vec![1.0]]);

        let p2 = dir.path().join("e.h5");
        write_waveforms(&p2, &Waveforms::new("", "", vec![])).unwrap();
        let w = read_waveforms(&p2).unwrap();
        assert!(w.is_empty() && w.signals.is_empty());
    }

    #[test]
    fn dropped_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.h5");
        {
            let mut wr = H5WaveWriter::create(&p).unwrap();
            wr.begin("t", "x", &[Signal::voltage("a")]).unwrap();
            wr.push(0.0, &[1.0]).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn errors_name_file_and_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.h5");
        let e = read_waveforms(&missing).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", missing.display())), "{e}");
        let txt = dir.path().join("text.h5");
        std::fs::write(&txt, "not hdf5").unwrap();
        let e = read_waveforms(&txt).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: /: not a readable HDF5 file", txt.display())),
            "{e}"
        );
        let other = dir.path().join("other.h5");
        File::create(&other)
            .unwrap()
            .new_dataset::<f64>()
            .shape(3)
            .create("x")
            .unwrap();
        let e = read_waveforms(&other).unwrap_err().to_string();
        assert_eq!(e, format!("{}: /signals: missing dataset", other.display()));
        let p = dir.path().join("w.h5");
        write_waveforms(&p, &sample(3)).unwrap();
        let e = H5Reader::open(&p)
            .unwrap()
            .column("nope")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "{}: /signals: no signal `nope` (signals: v(in), v(out), i(v1))",
                p.display()
            )
        );
    }
}

/// One signal's spectral readout, as stored beside the waveforms.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumRecord {
    /// Signal name (`v(out)`).
    pub signal: String,
    /// Frequencies, Hz.
    pub freq: Vec<f64>,
    /// Amplitudes of A·cos(2πft + φ).
    pub amplitude: Vec<f64>,
    /// Phases φ, degrees.
    pub phase_deg: Vec<f64>,
    /// In-phase (cosine) coefficients.
    pub in_phase: Vec<f64>,
    /// Quadrature coefficients.
    pub quadrature: Vec<f64>,
    /// Start and end of the analysis window, seconds.
    pub window: (f64, f64),
}

/// Add spectra to an existing freqprop HDF5 file as `/spectra/<signal>/{freq, amplitude,
/// phase_deg, in_phase, quadrature}` (replacing earlier ones of the same signal), without
/// risking the file: the change is made on a copy that then replaces it.
pub fn write_spectra(path: impl AsRef<Path>, records: &[SpectrumRecord]) -> Result<()> {
    let path = path.as_ref();
    // must be a readable freqprop file first
    H5Reader::open(path)?;
    crate::atomic::write_atomic(path, |tmp| {
        std::fs::copy(path, tmp).map_err(|e| StoreError::io(tmp, e))?;
        let file = hdf5::File::open_rw(tmp).map_err(|e| StoreError::h5(tmp, "/", e))?;
        let top = if file.link_exists("spectra") {
            file.group("spectra")
        } else {
            file.create_group("spectra")
        }
        .map_err(|e| StoreError::h5(tmp, "/spectra", e))?;
        for r in records {
            let name = r.signal.replace('/', "_");
            let obj = format!("/spectra/{name}");
            if top.link_exists(&name) {
                top.unlink(&name)
                    .map_err(|e| StoreError::h5(tmp, &obj, e))?;
            }
            let g = top
                .create_group(&name)
                .map_err(|e| StoreError::h5(tmp, &obj, e))?;
            for (ds, data) in [
                ("freq", &r.freq),
                ("amplitude", &r.amplitude),
                ("phase_deg", &r.phase_deg),
                ("in_phase", &r.in_phase),
                ("quadrature", &r.quadrature),
            ] {
                g.new_dataset_builder()
                    .with_data(data.as_slice())
                    .create(ds)
                    .map_err(|e| StoreError::h5(tmp, format!("{obj}/{ds}"), e))?;
            }
            write_str_attr(
                &g,
                tmp,
                "window",
                &format!("{:e} {:e}", r.window.0, r.window.1),
            )?;
            write_str_attr(
                &g,
                tmp,
                "convention",
                "x(t) = in_phase*cos(2*pi*f*t) - quadrature*sin(2*pi*f*t), t absolute",
            )?;
        }
        file.flush().map_err(|e| StoreError::h5(tmp, "/", e))?;
        Ok(())
    })
}

/// Read the spectra stored by [`write_spectra`].
pub fn read_spectra(path: impl AsRef<Path>) -> Result<Vec<SpectrumRecord>> {
    let path = path.as_ref();
    let file = hdf5::File::open(path).map_err(|e| StoreError::h5(path, "/", e))?;
    if !file.link_exists("spectra") {
        return Ok(Vec::new());
    }
    let top = file
        .group("spectra")
        .map_err(|e| StoreError::h5(path, "/spectra", e))?;
    let mut out = Vec::new();
    for name in top
        .member_names()
        .map_err(|e| StoreError::h5(path, "/spectra", e))?
    {
        let obj = format!("/spectra/{name}");
        let g = top
            .group(&name)
            .map_err(|e| StoreError::h5(path, &obj, e))?;
        let read = |ds: &str| -> Result<Vec<f64>> {
            g.dataset(ds)
                .and_then(|d| d.read_raw::<f64>())
                .map_err(|e| StoreError::h5(path, format!("{obj}/{ds}"), e))
        };
        let window = g
            .attr("window")
            .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
            .map(|s| {
                let v: Vec<f64> = s
                    .as_str()
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                (
                    v.first().copied().unwrap_or(f64::NAN),
                    v.get(1).copied().unwrap_or(f64::NAN),
                )
            })
            .unwrap_or((f64::NAN, f64::NAN));
        out.push(SpectrumRecord {
            signal: name.clone(),
            freq: read("freq")?,
            amplitude: read("amplitude")?,
            phase_deg: read("phase_deg")?,
            in_phase: read("in_phase")?,
            quadrature: read("quadrature")?,
            window,
        });
    }
    Ok(out)
}
