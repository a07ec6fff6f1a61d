//! The MNA system: a sparsity pattern fixed once per circuit (the stamp map), values written
//! in place every Newton iteration, and faer's sparse LU with the symbolic analysis done once.

// numeric kernels index several parallel arrays with one loop variable
#![allow(clippy::needless_range_loop)]

use crate::halves::Halves;
use crate::order::Ordering;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::factor::PartialPivLuParams;
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuSymbolicParams, NumericLu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Spec};

/// Slot of entry `(r, c)` (0-based) in compressed sparse columns whose rows ascend within
/// each column: a binary search of column `c`.
pub(crate) fn column_slot(
    col_ptr: &[usize],
    row_idx: &[usize],
    r: usize,
    c: usize,
) -> Option<usize> {
    let (start, end) = (col_ptr[c], col_ptr[c + 1]);
    row_idx[start..end]
        .binary_search(&r)
        .ok()
        .map(|k| start + k)
}

/// Collects the (row, column) entries every device will write, before the pattern is fixed.
///
/// Unknowns are numbered from 1; index 0 is ground, whose row and column are not part of the
/// system: entries there go to a discard slot, so devices stamp without special cases.
#[derive(Debug, Default)]
pub struct PatternBuilder {
    n: usize,
    entries: Vec<(usize, usize)>,
}

impl PatternBuilder {
    /// A builder for an `n × n` system.
    pub fn new(n: usize) -> Self {
        // Every diagonal entry is present so that gmin shunts can always be stamped.
        let entries = (0..n).map(|i| (i, i)).collect();
        PatternBuilder { n, entries }
    }

    /// Declare an entry (ground rows/columns, index 0, are ignored).
    pub fn add(&mut self, row: usize, col: usize) {
        if row != 0 && col != 0 {
            self.entries.push((row - 1, col - 1));
        }
    }

    /// Fix the pattern: the declared entries and their transposes (duplicates merged) in
    /// compressed sparse column form, rows ascending in each column; an entry's slot in the
    /// values vector is its position there.
    ///
    /// A counting sort by column, then each column's few rows sorted and merged: linear in
    /// the entries (on the 100k mesh of examples/scale, 0.02 s against 0.23 s for sprs's
    /// assembly from triplets, which sorts them all). sprs checks the result's structure,
    /// which the kernels' unchecked indexing and [`Pattern::slot`]'s binary search rest on.
    pub fn build(self) -> Pattern {
        let n = self.n;
        // the transpose of every entry too: a structurally symmetric pattern lets the
        // static-pivot LU share one index structure between L and U
        let mut start = vec![0usize; n + 1];
        for &(r, c) in &self.entries {
            start[c + 1] += 1;
            start[r + 1] += 1;
        }
        for c in 0..n {
            start[c + 1] += start[c];
        }
        let mut row_idx = vec![0usize; start[n]];
        let mut fill = start.clone();
        for &(r, c) in &self.entries {
            row_idx[fill[c]] = r;
            fill[c] += 1;
            row_idx[fill[r]] = c;
            fill[r] += 1;
        }
        drop(fill);
        // each column sorted, duplicates merged, compacted towards the front (a column's
        // merged rows never overtake its unmerged ones)
        let mut col_ptr = Vec::with_capacity(n + 1);
        col_ptr.push(0);
        let mut kept = 0;
        for c in 0..n {
            let column = start[c]..start[c + 1];
            row_idx[column.clone()].sort_unstable();
            for k in column {
                let r = row_idx[k];
                if kept == col_ptr[c] || row_idx[kept - 1] != r {
                    row_idx[kept] = r;
                    kept += 1;
                }
            }
            col_ptr.push(kept);
        }
        row_idx.truncate(kept);
        row_idx.shrink_to_fit();
        let nnz = row_idx.len();
        // what the kernels' unchecked indexing and `slot`'s binary search rest on: column
        // pointers ascending from 0 to nnz, rows strictly ascending within each column and
        // below n
        let units = vec![(); nnz];
        let checked = sprs::CsMatBase::<(), usize, &[usize], &[usize], &[()], usize>::try_new_csc(
            (n, n),
            &col_ptr[..],
            &row_idx[..],
            &units[..],
        );
        assert!(checked.is_ok(), "malformed CSC pattern");
        let mut pattern = Pattern {
            n,
            col_ptr,
            row_idx,
            diag: Vec::new(),
            nnz,
        };
        pattern.diag = (1..=n).map(|i| pattern.slot(i, i)).collect();
        pattern
    }
}

/// The fixed sparsity pattern in compressed sparse column form.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Number of unknowns.
    pub n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    diag: Vec<usize>,
    /// Stored entries; the values vector has one more, the discard slot at index `nnz`.
    pub nnz: usize,
}

impl Pattern {
    /// Slot of an entry in the values vector; ground rows/columns map to the discard slot.
    /// A binary search of the entry's column (devices look their slots up once, when bound).
    pub fn slot(&self, row: usize, col: usize) -> usize {
        if row == 0 || col == 0 {
            return self.nnz;
        }
        column_slot(&self.col_ptr, &self.row_idx, row - 1, col - 1)
            .unwrap_or_else(|| panic!("entry ({row}, {col}) was not declared during setup"))
    }

    /// Column pointers of the CSC pattern (0-based unknowns).
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }

    /// Row indices of the CSC pattern (0-based unknowns).
    pub fn row_idx(&self) -> &[usize] {
        &self.row_idx
    }

    /// Slots of the diagonal entries, unknown `i` (1-based) at index `i − 1`.
    pub fn diag_slots(&self) -> &[usize] {
        &self.diag
    }

    /// Slot of diagonal entry of unknown `i` (1-based).
    pub fn diag(&self, i: usize) -> usize {
        self.diag[i - 1]
    }

    /// The pattern as faer's symbolic matrix.
    fn symbolic(&self) -> SymbolicSparseColMatRef<'_, usize> {
        SymbolicSparseColMatRef::new_checked(self.n, self.n, &self.col_ptr, None, &self.row_idx)
    }

    /// `r −= A·x` by [`Pattern::sub_product_symmetric`] when the values are known to be
    /// numerically symmetric, else by [`Pattern::sub_product`].
    pub fn sub_product_as(&self, symmetric: bool, values: &[f64], x: &[f64], r: &mut [f64]) {
        if symmetric {
            self.sub_product_symmetric(values, x, r);
        } else {
            self.sub_product(values, x, r);
        }
    }

    /// `r −= A·x` for matrix values `values` (slots of this pattern), with `x` and `r`
    /// indexed by 0-based unknown (length n). Columns where `x` is zero are skipped: for
    /// finite values they would subtract only zeros.
    pub fn sub_product(&self, values: &[f64], x: &[f64], r: &mut [f64]) {
        let (cp, ri) = (&self.col_ptr, &self.row_idx);
        for (c, &xc) in x[..self.n].iter().enumerate() {
            if xc != 0.0 {
                let (k0, k1) = (cp[c], cp[c + 1]);
                for (&row, &a) in ri[k0..k1].iter().zip(&values[k0..k1]) {
                    r[row] -= a * xc;
                }
            }
        }
    }

    /// `r −= A·x` for values that are numerically symmetric (`A = Aᵀ`, every entry equal to its
    /// transpose, bit for bit): row `i` of A is then its column `i`, so each `r[i]` is one dot
    /// product of a column with `x`, in four partial sums, with no scatter of updates into `r`.
    /// Measured against [`Pattern::sub_product`] (`freqprop simulate`, medians of 10 runs in
    /// turn, whole command): layered_network 80 → 72 ms, random_network 181 → 173 ms, mesh30
    /// 314 → 305 ms; the same iterations, waveforms within 1e-13 of the swing.
    pub fn sub_product_symmetric(&self, values: &[f64], x: &[f64], r: &mut [f64]) {
        let n = self.n;
        assert!(values.len() >= self.nnz && x.len() >= n && r.len() >= n);
        let (cp, ri) = (&self.col_ptr, &self.row_idx);
        // SAFETY: `build` checked the CSC structure (col_ptr ascending from 0 to nnz, every
        // row below n); the lengths are asserted above
        let g = |i: usize| unsafe { *x.get_unchecked(i) };
        for (i, ri_out) in r[..n].iter_mut().enumerate() {
            let (rows, vals) = unsafe {
                let (k0, k1) = (*cp.get_unchecked(i), *cp.get_unchecked(i + 1));
                (ri.get_unchecked(k0..k1), values.get_unchecked(k0..k1))
            };
            let mut s = [0.0f64; 4];
            let (rc, rr) = (rows.chunks_exact(4), rows.chunks_exact(4).remainder());
            let (vc, vr) = (vals.chunks_exact(4), vals.chunks_exact(4).remainder());
            for (r4, v4) in rc.zip(vc) {
                s[0] += v4[0] * g(r4[0]);
                s[1] += v4[1] * g(r4[1]);
                s[2] += v4[2] * g(r4[2]);
                s[3] += v4[3] * g(r4[3]);
            }
            let mut t = (s[0] + s[1]) + (s[2] + s[3]);
            for (&row, &v) in rr.iter().zip(vr) {
                t += v * g(row);
            }
            *ri_out -= t;
        }
    }

    /// Iterate over (row, col, slot), rows and columns 1-based.
    pub fn entries(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        (0..self.n).flat_map(move |c| {
            (self.col_ptr[c]..self.col_ptr[c + 1]).map(move |k| (self.row_idx[k] + 1, c + 1, k))
        })
    }
}

/// Reasons a factorization fails.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SolveError {
    /// faer could not factor the matrix (structurally or numerically singular).
    #[error("the circuit matrix is singular")]
    Singular,
    /// Out of memory for the factorization.
    #[error("out of memory in the sparse factorization")]
    OutOfMemory,
}

/// The values (the first `row_idx.len()` of `values`) on a CSC pattern, as faer's matrix.
fn csc<'a>(
    n: usize,
    col_ptr: &'a [usize],
    row_idx: &'a [usize],
    values: &'a [f64],
) -> SparseColMatRef<'a, usize, f64> {
    let sym = SymbolicSparseColMatRef::new_checked(n, n, col_ptr, None, row_idx);
    SparseColMatRef::new(sym, &values[..row_idx.len()])
}

/// faer's sparse LU with partial pivoting: symbolic analysis once, numeric factorization on
/// demand, scratch memory allocated up front. The fallback when the static pivot order fails.
pub struct FaerLu {
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
    mem: MemBuffer,
    pattern_col_ptr: Vec<usize>,
    pattern_row_idx: Vec<usize>,
    n: usize,
    factored: bool,
}

impl std::fmt::Debug for FaerLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaerLu")
            .field("n", &self.n)
            .field("factored", &self.factored)
            .finish()
    }
}

impl FaerLu {
    /// Symbolic analysis (column ordering and elimination structure) of a pattern.
    pub fn new(pattern: &Pattern) -> Result<FaerLu, SolveError> {
        // Measured on the ngspice corpus (release build): the supernodal variant factors the
        // 900-node mesh and the 400-unknown random network about 2x faster than the
        // simplicial one faer picks by default; below ~100 unknowns the simplicial one is
        // slightly faster. FREQPROP_LU=simplicial|supernodal forces this solver and a variant
        // (for measurements; the default is the static-pivot LU, see `Solver`).
        use faer::sparse::linalg::SupernodalThreshold;
        let params = LuSymbolicParams {
            supernodal_flop_ratio_threshold: match std::env::var("FREQPROP_LU").as_deref() {
                Ok("simplicial") => SupernodalThreshold::FORCE_SIMPLICIAL,
                Ok("supernodal") => SupernodalThreshold::FORCE_SUPERNODAL,
                _ if pattern.n >= 100 => SupernodalThreshold::FORCE_SUPERNODAL,
                _ => SupernodalThreshold::FORCE_SIMPLICIAL,
            },
            ..Default::default()
        };
        let symbolic = factorize_symbolic_lu(pattern.symbolic(), params)
            .map_err(|_| SolveError::OutOfMemory)?;
        let par = Par::Seq;
        let req = symbolic
            .factorize_numeric_lu_scratch::<f64>(par, Spec::<PartialPivLuParams, f64>::default())
            .or(symbolic.solve_in_place_scratch::<f64>(1, par))
            .or(symbolic.solve_transpose_in_place_scratch::<f64>(1, par));
        let mem = MemBuffer::try_new(req).map_err(|_| SolveError::OutOfMemory)?;
        // keep the symbolic matrix alive: faer's SymbolicLu does not borrow it
        let sym = SymbolicSparseColMat::<usize>::new_checked(
            pattern.n,
            pattern.n,
            pattern.col_ptr.clone(),
            None,
            pattern.row_idx.clone(),
        );
        let (_, _, col_ptr, _, row_idx) = sym.into_parts();
        Ok(FaerLu {
            symbolic,
            numeric: NumericLu::new(),
            mem,
            pattern_col_ptr: col_ptr,
            pattern_row_idx: row_idx,
            n: pattern.n,
            factored: false,
        })
    }

    /// Numeric factorization of the values (the first `nnz` entries of `values`).
    pub fn factor(&mut self, values: &[f64]) -> Result<(), SolveError> {
        let a = csc(self.n, &self.pattern_col_ptr, &self.pattern_row_idx, values);
        let stack = MemStack::new(&mut self.mem);
        self.factored = false;
        self.symbolic
            .factorize_numeric_lu(
                &mut self.numeric,
                a,
                Par::Seq,
                stack,
                Spec::<PartialPivLuParams, f64>::default(),
            )
            .map_err(|_| SolveError::Singular)?;
        self.factored = true;
        Ok(())
    }

    /// Solve A·x = b in place (0-based, length n).
    pub fn solve(&mut self, b: &mut [f64]) {
        debug_assert!(self.factored);
        let n = self.n;
        let lu = faer::sparse::linalg::lu::LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let rhs = MatMut::from_column_major_slice_mut(&mut b[..n], n, 1);
        let stack = MemStack::new(&mut self.mem);
        lu.solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
    }

    /// Solve Aᵀ·x = b in place (0-based, length n).
    pub fn solve_transpose(&mut self, b: &mut [f64]) {
        debug_assert!(self.factored);
        let n = self.n;
        let lu = faer::sparse::linalg::lu::LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let rhs = MatMut::from_column_major_slice_mut(&mut b[..n], n, 1);
        let stack = MemStack::new(&mut self.mem);
        lu.solve_transpose_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
    }
}

/// faer's supernodal sparse Cholesky (LLᵀ) with its own AMD ordering: symbolic analysis once,
/// numeric factorization on demand, scratch allocated up front. For large circuits whose matrix
/// is symmetric positive definite (resistors, capacitors, diodes and current sources only),
/// where dense supernodal kernels beat the scalar up-looking LU.
pub struct FaerLlt {
    /// The fill-reducing ordering the symbolic analysis kept.
    ordering: Ordering,
    symbolic: faer::sparse::linalg::cholesky::SymbolicCholesky<usize>,
    l_values: Vec<f64>,
    mem: MemBuffer,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    n: usize,
    /// The triangular solves over faer's supernodes, with this crate's loops.
    solve: Option<SupernodalSolve>,
    /// The factorization split by the top separator, in place of the whole one.
    halves: Option<Halves>,
    /// L rounded to single precision by each factorization while rounded solves are on, for
    /// [`FaerLlt::solve_rounded`]; empty when no factorization made it since they were
    /// switched (the rounded copy of another factor must never be read).
    l_rounded: Vec<f32>,
    rounded: bool,
}

/// From this many factor entries (nested dissection kept, and a top separator of s unknowns
/// with 5·s² at most the factor's entries: its dense buffers), the Cholesky factorization is
/// split by the top separator into [`Halves`] on two threads.
pub const HALVES_MIN_ENTRIES: usize = SPLIT_MIN_ENTRIES;

/// Forward and back substitution with a supernodal Cholesky factor as faer stores it: for each
/// supernode (columns `begin..end` of L, in faer's fill-reducing order), its dense block of
/// `(c + r) × c` values by columns, the c × c lower triangle on top of the r rows of its
/// pattern. faer's own solve calls a general dense triangular solve and matrix product per
/// supernode, whose set-up outweighs the arithmetic on the one- to few-column supernodes that
/// make up most of a circuit's factor. Here each column is a loop: an axpy into a contiguous
/// buffer then one scatter (forward), a gather then contiguous dot products (back), with the
/// reciprocal pivots computed once per factorization. On large factors the two halves of the
/// elimination tree below the top separator are solved on two threads ([`Split`]).
#[derive(Debug)]
struct SupernodalSolve {
    sn: Supernodes,
    /// fwd[i]: the original unknown at position i of faer's order.
    fwd: Vec<usize>,
    /// 1 / L[j, j].
    dinv: Vec<f64>,
    x: Vec<f64>,
    /// Work buffers of the two halves (the second used only with a split).
    tmp: [Vec<f64>; 2],
    split: Option<Split>,
    /// The two halves' updates of the top columns (forward substitution with a split).
    acc: [Vec<f64>; 2],
}

/// The supernodes of a factor: where each one's columns, pattern and values are.
#[derive(Debug)]
pub(crate) struct Supernodes {
    /// Supernode s covers columns begin[s]..begin[s + 1].
    pub(crate) begin: Vec<usize>,
    /// Supernode s's pattern (rows below its diagonal block) is rows[rp[s]..rp[s + 1]].
    pub(crate) rp: Vec<usize>,
    pub(crate) rows: Vec<u32>,
    /// Supernode s's values are l_values[vp[s]..vp[s + 1]].
    pub(crate) vp: Vec<usize>,
}

impl Supernodes {
    /// The supernodes of faer's analysis, or `None` for a simplicial one or more than
    /// `u32::MAX` unknowns.
    pub(crate) fn of(
        symbolic: &faer::sparse::linalg::cholesky::SymbolicCholesky<usize>,
    ) -> Option<Supernodes> {
        use faer::sparse::linalg::cholesky::SymbolicCholeskyRaw;
        let SymbolicCholeskyRaw::Supernodal(sn) = symbolic.raw() else {
            return None;
        };
        if symbolic.nrows() > u32::MAX as usize {
            return None;
        }
        let ns = sn.n_supernodes();
        let mut begin = sn.supernode_begin().to_vec();
        begin.push(*sn.supernode_end().last().unwrap_or(&0));
        Some(Supernodes {
            begin,
            rp: sn.col_ptr_for_row_idx()[..=ns].to_vec(),
            rows: sn.row_idx().iter().map(|&r| r as u32).collect(),
            vp: sn.col_ptr_for_val()[..=ns].to_vec(),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.begin.len() - 1
    }

    /// The longest pattern (rows below a diagonal block): the work buffer's length.
    pub(crate) fn widest(&self) -> usize {
        (0..self.len())
            .map(|s| self.rp[s + 1] - self.rp[s])
            .max()
            .unwrap_or(0)
    }

    /// After a numeric factorization `l`: `dinv[j] = 1 / L[j, j]` for the columns j < `end`.
    pub(crate) fn reciprocal_pivots(&self, l: &[f64], end: usize, dinv: &mut [f64]) {
        for s in 0..self.len() {
            let (c0, c, pat, block) = self.get(s, l);
            if c0 >= end {
                break;
            }
            let ld = c + pat.len();
            for j in 0..c.min(end - c0) {
                dinv[c0 + j] = 1.0 / block[j * ld + j];
            }
        }
    }

    /// Supernode `s` of the factor values `l`: its first column, its number of columns, its
    /// pattern, and its `(c + r) × c` block by columns.
    #[inline]
    pub(crate) fn get<'a, T>(&'a self, s: usize, l: &'a [T]) -> (usize, usize, &'a [u32], &'a [T]) {
        let c0 = self.begin[s];
        (
            c0,
            self.begin[s + 1] - c0,
            &self.rows[self.rp[s]..self.rp[s + 1]],
            &l[self.vp[s]..self.vp[s + 1]],
        )
    }
}

/// Two independent halves of the supernodal elimination tree, for two threads: supernodes
/// `0..mid` and `mid..top` (columns `0..col_mid` and `col_mid..col_top`) touch only their own
/// columns and the top ones; supernodes `top..` (columns `col_top..n`, the path to the root)
/// depend on both. Nested dissection puts the top separator there.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    mid: usize,
    top: usize,
    col_mid: usize,
    col_top: usize,
}

/// Factors with fewer entries are solved on one thread (a solve there takes under about a
/// millisecond, against microseconds to hand half of it over; not tuned further). The
/// Cholesky path starts at 20,000 unknowns, about 700,000 entries on a mesh.
const SPLIT_MIN_ENTRIES: usize = 500_000;

/// One part of the unknowns: `own` is x at positions `off..off + own.len()`, where this part's
/// supernodes have their columns; rows past it are top columns, at `top_off` on.
pub(crate) struct Part<'a> {
    pub(crate) own: &'a mut [f64],
    pub(crate) off: usize,
    pub(crate) top_off: usize,
}

impl Supernodes {
    /// Supernode s's parent in the elimination tree: the one holding the first row of its
    /// pattern.
    fn parents(&self) -> Vec<Option<usize>> {
        (0..self.len())
            .map(|s| {
                let pat = &self.rows[self.rp[s]..self.rp[s + 1]];
                pat.first()
                    .map(|&r| self.begin.partition_point(|&b| b <= r as usize) - 1)
            })
            .collect()
    }

    /// The split of [`Split`], if the tree has one with each half at least a quarter of the
    /// entries below the top: from the root down the path of single children to the first
    /// supernode with several, whose children (each a contiguous range of supernodes, in the
    /// postorder faer keeps) are grouped into two halves by entries. Checked against every
    /// pattern before use.
    fn split(&self, n: usize) -> Option<Split> {
        let ns = self.len();
        let parent = self.parents();
        let mut children = vec![Vec::new(); ns];
        let mut roots = Vec::new();
        for (s, p) in parent.iter().enumerate() {
            match p {
                Some(p) if *p > s => children[*p].push(s),
                Some(_) => return None,
                None => roots.push(s),
            }
        }
        // descend from the root while there is one child
        let (mut kids, mut top) = (roots, ns);
        while kids.len() == 1 {
            top = kids[0];
            kids = std::mem::take(&mut children[top]);
        }
        if kids.len() < 2 {
            return None;
        }
        // a subtree's supernodes: from its first descendant to itself
        let mut first: Vec<usize> = (0..ns).collect();
        for s in 0..ns {
            if let Some(p) = parent[s] {
                first[p] = first[p].min(first[s]);
            }
        }
        let entries = |a: usize, b: usize| self.vp[b] - self.vp[a];
        let below = entries(0, top);
        // the boundary between children that halves the entries best
        let mid = kids
            .iter()
            .map(|&k| k + 1)
            .min_by_key(|&m| (2 * entries(0, m)).abs_diff(below))
            .unwrap_or(0);
        if first[kids[0]] != 0 || kids.iter().any(|&k| k >= top) {
            return None;
        }
        let (ea, eb) = (entries(0, mid), entries(mid, top));
        if ea * 4 < below || eb * 4 < below {
            return None;
        }
        let split = Split {
            mid,
            top,
            col_mid: self.begin[mid],
            col_top: self.begin[top],
        };
        // the first half writes and reads only its own and the top columns
        let ok = (0..mid).all(|s| {
            self.rows[self.rp[s]..self.rp[s + 1]]
                .iter()
                .all(|&r| (r as usize) < split.col_mid || (r as usize) >= split.col_top)
        });
        (ok && split.col_top <= n).then_some(split)
    }
}

impl SupernodalSolve {
    fn new(symbolic: &faer::sparse::linalg::cholesky::SymbolicCholesky<usize>) -> Option<Self> {
        let sn = Supernodes::of(symbolic)?;
        let n = symbolic.nrows();
        let fwd = positions(symbolic);
        let widest = sn.widest();
        let split = if symbolic.len_val() >= SPLIT_MIN_ENTRIES {
            sn.split(n)
        } else {
            None
        };
        let mut sv = SupernodalSolve {
            sn,
            fwd,
            dinv: vec![0.0; n],
            x: vec![0.0; n],
            tmp: [vec![0.0; widest], Vec::new()],
            split: None,
            acc: [Vec::new(), Vec::new()],
        };
        sv.set_split(split);
        Some(sv)
    }

    /// Solve with this split (or none), with work buffers to match.
    fn set_split(&mut self, split: Option<Split>) {
        let top_cols = split.map_or(0, |s| self.x.len() - s.col_top);
        let second = if split.is_some() {
            self.tmp[0].len()
        } else {
            0
        };
        self.tmp[1] = vec![0.0; second];
        self.acc = [vec![0.0; top_cols], vec![0.0; top_cols]];
        self.split = split;
    }

    /// After a numeric factorization: the pivots' reciprocals.
    fn refresh(&mut self, l: &[f64]) {
        self.sn.reciprocal_pivots(l, self.x.len(), &mut self.dinv);
    }

    /// Solve L·Lᵀ·x = b in place (0-based, length n). With a [`Split`], the two halves of the
    /// tree run through [`both`]: on a worker of rayon's pool the other worker takes one half
    /// if it is free, and this thread does both otherwise, never waiting; outside the pool
    /// they run in turn. The arithmetic is the same either way, so results do not depend on
    /// the pool or the calling thread.
    fn solve<T: FactorValue>(&mut self, l: &[T], b: &mut [f64]) {
        let n = self.x.len();
        for (xi, &f) in self.x.iter_mut().zip(&self.fwd) {
            *xi = b[f];
        }
        let (sn, dinv) = (&self.sn, &self.dinv[..]);
        match self.split {
            None => {
                let mut all = Part {
                    own: &mut self.x[..],
                    off: 0,
                    top_off: n,
                };
                forward(
                    sn,
                    l,
                    dinv,
                    0..sn.len(),
                    &mut all,
                    &mut [],
                    &mut self.tmp[0],
                );
                back(sn, l, dinv, 0..sn.len(), &mut all, &[], &mut self.tmp[0]);
            }
            Some(sp) => {
                let (xa, rest) = self.x.split_at_mut(sp.col_mid);
                let (xb, xt) = rest.split_at_mut(sp.col_top - sp.col_mid);
                let mut a = Part {
                    own: xa,
                    off: 0,
                    top_off: sp.col_top,
                };
                let mut b = Part {
                    own: xb,
                    off: sp.col_mid,
                    top_off: sp.col_top,
                };
                let mut t = Part {
                    own: xt,
                    off: sp.col_top,
                    top_off: n,
                };
                let [acc_a, acc_b] = &mut self.acc;
                let [tmp_a, tmp_b] = &mut self.tmp;
                acc_a.iter_mut().for_each(|v| *v = 0.0);
                acc_b.iter_mut().for_each(|v| *v = 0.0);
                both(
                    || forward(sn, l, dinv, 0..sp.mid, &mut a, acc_a, tmp_a),
                    || forward(sn, l, dinv, sp.mid..sp.top, &mut b, acc_b, tmp_b),
                );
                for ((x, &ua), &ub) in t.own.iter_mut().zip(acc_a.iter()).zip(acc_b.iter()) {
                    *x -= ua + ub;
                }
                forward(sn, l, dinv, sp.top..sn.len(), &mut t, &mut [], tmp_a);
                back(sn, l, dinv, sp.top..sn.len(), &mut t, &[], tmp_a);
                let top = &*t.own;
                both(
                    || back(sn, l, dinv, 0..sp.mid, &mut a, top, tmp_a),
                    || back(sn, l, dinv, sp.mid..sp.top, &mut b, top, tmp_b),
                );
            }
        }
        for (xi, &f) in self.x.iter().zip(&self.fwd) {
            b[f] = *xi;
        }
    }
}

/// Forward substitution L·y = b over supernodes `range`, whose columns lie in `part`; updates
/// of rows past the part (top columns) are added to `acc` (indexed from `part.top_off`). The
/// last supernode may reach past the part: only its columns inside are substituted, and the
/// rows of its diagonal block past the part are top rows too.
pub(crate) fn forward<T: FactorValue>(
    sn: &Supernodes,
    l: &[T],
    dinv: &[f64],
    range: std::ops::Range<usize>,
    part: &mut Part<'_>,
    acc: &mut [f64],
    tmp: &mut [f64],
) {
    let (x, off) = (&mut *part.own, part.off);
    let end = off + x.len();
    for s in range {
        let (c0, c, pat, block) = sn.get(s, l);
        // this supernode's columns inside the part
        let (cw, ld) = (c.min(end - c0), c + pat.len());
        let tmp = &mut tmp[..pat.len()];
        tmp.iter_mut().for_each(|t| *t = 0.0);
        for j in 0..cw {
            let col = &block[j * ld..(j + 1) * ld];
            let xj = x[c0 + j - off] * dinv[c0 + j];
            x[c0 + j - off] = xj;
            for (xi, &lij) in x[c0 + j + 1 - off..c0 + cw - off]
                .iter_mut()
                .zip(&col[j + 1..cw])
            {
                *xi -= lij.wide() * xj;
            }
            for (i, &lij) in (c0 + cw..c0 + c).zip(&col[cw..c]) {
                acc[i - part.top_off] += lij.wide() * xj;
            }
            for (t, &lij) in tmp.iter_mut().zip(&col[c..]) {
                *t += lij.wide() * xj;
            }
        }
        // rows are ascending: this part's first, then the top columns
        let k = pat.partition_point(|&i| (i as usize) < end);
        for (&i, &t) in pat[..k].iter().zip(tmp.iter()) {
            x[i as usize - off] -= t;
        }
        for (&i, &t) in pat[k..].iter().zip(&tmp[k..]) {
            acc[i as usize - part.top_off] += t;
        }
    }
}

/// Back substitution Lᵀ·z = y over supernodes `range` in reverse, columns in `part`; rows
/// past it are read from `top` (indexed from `part.top_off`), already solved. As in
/// [`forward`], the last supernode may reach past the part.
pub(crate) fn back<T: FactorValue>(
    sn: &Supernodes,
    l: &[T],
    dinv: &[f64],
    range: std::ops::Range<usize>,
    part: &mut Part<'_>,
    top: &[f64],
    tmp: &mut [f64],
) {
    let (x, off) = (&mut *part.own, part.off);
    let end = off + x.len();
    for s in range.rev() {
        let (c0, c, pat, block) = sn.get(s, l);
        let (cw, ld) = (c.min(end - c0), c + pat.len());
        let tmp = &mut tmp[..pat.len()];
        let k = pat.partition_point(|&i| (i as usize) < end);
        for (t, &i) in tmp[..k].iter_mut().zip(&pat[..k]) {
            *t = x[i as usize - off];
        }
        for (t, &i) in tmp[k..].iter_mut().zip(&pat[k..]) {
            *t = top[i as usize - part.top_off];
        }
        for j in (0..cw).rev() {
            let col = &block[j * ld..(j + 1) * ld];
            let below = dot4(&col[c..], tmp);
            let mut v = x[c0 + j - off] - below;
            for (&lij, &xi) in col[j + 1..cw]
                .iter()
                .zip(&x[c0 + j + 1 - off..c0 + cw - off])
            {
                v -= lij.wide() * xi;
            }
            for (i, &lij) in (c0 + cw..c0 + c).zip(&col[cw..c]) {
                v -= lij.wide() * top[i - part.top_off];
            }
            x[c0 + j - off] = v * dinv[c0 + j];
        }
    }
}

/// Run two closures as a `rayon::join` on a worker of the pool, one after the other outside it
/// (a join from outside would put the caller to sleep and wake a worker twice: measured on the
/// 100k mesh's solves, that kept only 15–20% of the gain). The same arithmetic either way.
pub(crate) fn both<RA: Send, RB: Send>(
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    if rayon::current_thread_index().is_some() {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// `p[k]`: the unknown (as faer's analysis was given them) at position k of faer's order.
pub(crate) fn positions(
    symbolic: &faer::sparse::linalg::cholesky::SymbolicCholesky<usize>,
) -> Vec<usize> {
    match symbolic.perm() {
        Some(p) => p.arrays().0.to_vec(),
        None => (0..symbolic.nrows()).collect(),
    }
}

/// `Σ a[k]·b[k]` in four interleaved partial sums (independent multiply-adds).
fn dot4<T: FactorValue>(a: &[T], b: &[f64]) -> f64 {
    let mut s = [0.0f64; 4];
    let (ac, bc) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (a4, b4) in ac.zip(bc) {
        s[0] += a4[0].wide() * b4[0];
        s[1] += a4[1].wide() * b4[1];
        s[2] += a4[2].wide() * b4[2];
        s[3] += a4[3].wide() * b4[3];
    }
    let mut t = (s[0] + s[1]) + (s[2] + s[3]);
    for (&x, &y) in ar.iter().zip(br) {
        t += x.wide() * y;
    }
    t
}

/// How the triangular solves read a factor's values: as computed (`f64`), or rounded to
/// single precision (`f32`), half the memory traffic of a solve, which on large factors is
/// bound by it. The arithmetic is in double precision either way.
pub(crate) trait FactorValue: Copy + Send + Sync {
    fn wide(self) -> f64;
}

impl FactorValue for f64 {
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
}

impl FactorValue for f32 {
    #[inline(always)]
    fn wide(self) -> f64 {
        f64::from(self)
    }
}

/// `narrow[i] = wide[i]` rounded to single precision.
pub(crate) fn round_to_f32(wide: &[f64], narrow: &mut Vec<f32>) {
    narrow.clear();
    narrow.extend(wide.iter().map(|&v| v as f32));
}

/// faer's numeric supernodal Cholesky of `a` (its lower triangle) into `l`, with the scratch
/// in `mem`; a matrix that is not numerically positive definite is `Singular`.
pub(crate) fn factor_llt(
    symbolic: &faer::sparse::linalg::cholesky::SymbolicCholesky<usize>,
    l: &mut [f64],
    a: SparseColMatRef<'_, usize, f64>,
    mem: &mut MemBuffer,
) -> Result<(), SolveError> {
    use faer::linalg::cholesky::llt::factor::{LltParams, LltRegularization};
    symbolic
        .factorize_numeric_llt(
            l,
            a,
            faer::Side::Lower,
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(mem),
            Spec::<LltParams, f64>::default(),
        )
        .map_err(|_| SolveError::Singular)?;
    Ok(())
}

/// What a symbolic Cholesky analysis will cost per factorization and its solves, in
/// multiply-adds: the numeric factorization ([`factor_ops`]), ten solves at two per factor
/// entry (large circuits take about ten chord solves per factorization), and 1,000 per
/// supernode for its set-up. Measured on a 100 × 100 grid: AMD's 4,892 supernodes and
/// nested dissection's 1,808, with the same 14.0 million multiply-adds, factor in 6.2 and
/// 3.9 ms. Used to choose between orderings once.
fn cost(s: &faer::sparse::linalg::cholesky::SymbolicCholesky<usize>) -> f64 {
    let (ops, supernodes) = factor_ops(s);
    ops + 20.0 * s.len_val() as f64 + 1e3 * supernodes as f64
}

/// Multiply-adds of one numeric factorization (Σ over L's columns of the squared column
/// count) and the number of supernodes (columns, for a simplicial factor).
fn factor_ops(s: &faer::sparse::linalg::cholesky::SymbolicCholesky<usize>) -> (f64, usize) {
    use faer::sparse::linalg::cholesky::SymbolicCholeskyRaw;
    match s.raw() {
        SymbolicCholeskyRaw::Supernodal(sn) => {
            let (b, e, rp) = (
                sn.supernode_begin(),
                sn.supernode_end(),
                sn.col_ptr_for_row_idx(),
            );
            let mut f = 0.0;
            for k in 0..sn.n_supernodes() {
                let (c, r) = (e[k] - b[k], rp[k + 1] - rp[k]);
                for j in 0..c {
                    let count = (c - j + r) as f64;
                    f += count * count;
                }
            }
            (f, sn.n_supernodes())
        }
        SymbolicCholeskyRaw::Simplicial(sm) => {
            let cp = sm.col_ptr();
            let f = (0..sm.ncols())
                .map(|j| ((cp[j + 1] - cp[j]) as f64).powi(2))
                .sum();
            (f, sm.ncols())
        }
    }
}

impl std::fmt::Debug for FaerLlt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaerLlt")
            .field("n", &self.n)
            .field("factor_nnz", &self.l_values.len())
            .finish()
    }
}

impl FaerLlt {
    /// Symbolic analysis of a (structurally symmetric) pattern, in the cheaper (by [`cost`])
    /// of two fill-reducing orderings: faer's AMD and this crate's
    /// [`crate::order::nested_dissection`].
    pub fn new(pattern: &Pattern) -> Result<FaerLlt, SolveError> {
        Self::analyse(pattern, None)
    }

    /// Symbolic analysis in a given ordering, or (`None`) the cheaper one.
    fn analyse(pattern: &Pattern, only: Option<Ordering>) -> Result<FaerLlt, SolveError> {
        Self::analyse_with(pattern, only, None)
    }

    /// [`FaerLlt::analyse`], with the split into [`Halves`] taken when nested dissection is
    /// kept and its factor has [`HALVES_MIN_ENTRIES`] entries (`halves: None`), or forced on
    /// or off (where there is a split).
    fn analyse_with(
        pattern: &Pattern,
        only: Option<Ordering>,
        halves: Option<bool>,
    ) -> Result<FaerLlt, SolveError> {
        use faer::linalg::cholesky::llt::factor::LltParams;
        use faer::sparse::linalg::cholesky::{
            factorize_symbolic_cholesky, CholeskySymbolicParams, SymmetricOrdering,
        };
        use faer::sparse::linalg::SupernodalThreshold;
        let params = CholeskySymbolicParams {
            supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SUPERNODAL,
            ..Default::default()
        };
        let symbolic = |ordering| {
            factorize_symbolic_cholesky(pattern.symbolic(), faer::Side::Lower, ordering, params)
                .map_err(|_| SolveError::OutOfMemory)
        };
        let amd = match only {
            Some(Ordering::NestedDissection) => None,
            _ => Some(symbolic(SymmetricOrdering::Amd)?),
        };
        let dissection = match only {
            Some(Ordering::Amd) => None,
            _ => crate::order::nested_dissection_of(pattern),
        };
        let nd = match &dissection {
            None => None,
            Some(d) => {
                let n = pattern.n;
                let mut inv = vec![0usize; n];
                for (k, &v) in d.perm.iter().enumerate() {
                    inv[v] = k;
                }
                let perm = faer::perm::PermRef::new_checked(&d.perm, &inv, n);
                Some(symbolic(SymmetricOrdering::Custom(perm))?)
            }
        };
        let (symbolic, ordering) = match (amd, nd) {
            (Some(a), Some(d)) if cost(&d) < cost(&a) => (d, Ordering::NestedDissection),
            (Some(a), _) => (a, Ordering::Amd),
            (None, Some(d)) => (d, Ordering::NestedDissection),
            (None, None) => return Err(SolveError::OutOfMemory),
        };
        let split = match (&dissection, ordering) {
            (Some(d), Ordering::NestedDissection) => {
                match d.halves {
                    Some((a, b)) => {
                        // the dense buffers of the separator (five of s² values) stay within
                        // the factor's own size
                        let s = pattern.n - a - b;
                        let wanted = halves.unwrap_or(
                            symbolic.len_val() >= HALVES_MIN_ENTRIES
                                && 5 * s * s <= symbolic.len_val(),
                        );
                        if wanted {
                            Halves::new(pattern, &d.perm, a, b)
                        } else {
                            None
                        }
                    }
                    None => None,
                }
            }
            _ => None,
        };
        if split.is_some() {
            return Ok(FaerLlt {
                ordering,
                l_values: Vec::new(),
                solve: None,
                symbolic,
                mem: MemBuffer::new(faer::dyn_stack::StackReq::EMPTY),
                col_ptr: Vec::new(),
                row_idx: Vec::new(),
                n: pattern.n,
                halves: split,
                l_rounded: Vec::new(),
                rounded: false,
            });
        }
        let par = Par::Seq;
        let req = symbolic
            .factorize_numeric_llt_scratch::<f64>(par, Spec::<LltParams, f64>::default())
            .or(symbolic.solve_in_place_scratch::<f64>(1, par));
        let mem = MemBuffer::try_new(req).map_err(|_| SolveError::OutOfMemory)?;
        Ok(FaerLlt {
            ordering,
            l_values: vec![0.0; symbolic.len_val()],
            solve: SupernodalSolve::new(&symbolic),
            symbolic,
            mem,
            col_ptr: pattern.col_ptr.clone(),
            row_idx: pattern.row_idx.clone(),
            n: pattern.n,
            halves: None,
            l_rounded: Vec::new(),
            rounded: false,
        })
    }

    /// Keep a copy of L rounded to single precision after each factorization, for
    /// [`FaerLlt::solve_rounded`] (off by default).
    pub fn set_rounded_solves(&mut self, on: bool) {
        if on != self.rounded {
            self.l_rounded = Vec::new();
            if let Some(h) = &mut self.halves {
                h.drop_rounded();
            }
        }
        self.rounded = on;
    }

    /// Stored entries of L.
    pub fn factor_nnz(&self) -> usize {
        match &self.halves {
            Some(h) => h.entries(),
            None => self.l_values.len(),
        }
    }

    /// The fill-reducing ordering in use.
    pub fn ordering(&self) -> Ordering {
        self.ordering
    }

    /// Numeric factorization (the lower triangle of `values` is read); fails when the matrix
    /// is not numerically positive definite.
    pub fn factor(&mut self, values: &[f64]) -> Result<(), SolveError> {
        if let Some(h) = &mut self.halves {
            return h.factor(values, self.rounded);
        }
        let a = csc(self.n, &self.col_ptr, &self.row_idx, values);
        factor_llt(&self.symbolic, &mut self.l_values, a, &mut self.mem)?;
        if let Some(sv) = &mut self.solve {
            sv.refresh(&self.l_values);
            if self.rounded {
                round_to_f32(&self.l_values, &mut self.l_rounded);
            }
        }
        Ok(())
    }

    /// Solve A·x = b in place (0-based, length n) with L rounded to single precision, when
    /// rounded solves are on ([`FaerLlt::set_rounded_solves`]): the solution of a matrix within
    /// a few single-precision roundings of A (relative to L's entries), computed in double
    /// precision. For Newton's method in residual form, where the step's matrix only sets how
    /// fast the iterates contract, not where they go. Otherwise (off, or no factorization
    /// since they were switched on) the same as [`FaerLlt::solve`].
    pub fn solve_rounded(&mut self, b: &mut [f64]) {
        let n = self.n;
        if !self.rounded {
            return self.solve(b);
        }
        if let Some(h) = &mut self.halves {
            return h.solve(&mut b[..n], true);
        }
        match &mut self.solve {
            Some(sv) if !self.l_rounded.is_empty() => sv.solve(&self.l_rounded, &mut b[..n]),
            _ => self.solve(b),
        }
    }

    /// Solve A·x = b in place (0-based, length n).
    pub fn solve(&mut self, b: &mut [f64]) {
        let n = self.n;
        if let Some(h) = &mut self.halves {
            return h.solve(&mut b[..n], false);
        }
        if let Some(sv) = &mut self.solve {
            return sv.solve(&self.l_values, &mut b[..n]);
        }
        let llt = faer::sparse::linalg::cholesky::LltRef::new(&self.symbolic, &self.l_values);
        let rhs = MatMut::from_column_major_slice_mut(&mut b[..n], n, 1);
        let stack = MemStack::new(&mut self.mem);
        llt.solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
    }
}

/// Circuits with at least this many unknowns and a symmetric positive definite matrix are
/// factored by faer's supernodal Cholesky rather than the static-pivot LU. Measured (release,
/// `cargo bench --bench simulate`, grid Laplacians): the scalar up-looking LU wins on small
/// circuits, the supernodal kernels on large ones.
pub const CHOLESKY_MIN_UNKNOWNS: usize = 20_000;

/// Slot pairs of the entries `(r, c)` and `(c, r)`, `r < c`, of a structurally symmetric
/// pattern (every pattern [`PatternBuilder::build`] makes): upper slot first.
fn mirror_pairs(p: &Pattern) -> Vec<(usize, usize)> {
    let mut pairs = Vec::with_capacity((p.nnz - p.n) / 2);
    for c in 0..p.n {
        for k in p.col_ptr[c]..p.col_ptr[c + 1] {
            let r = p.row_idx[k];
            if r < c {
                pairs.push((k, p.slot(c + 1, r + 1)));
            }
        }
    }
    pairs
}

/// What the static LU's deferred analysis needs, and what stands in for it meanwhile.
#[derive(Debug)]
struct DeferredLu {
    /// Branch-current flags, for [`crate::lu::StaticLu::new`].
    late: Vec<bool>,
    /// Slot pairs `(r, c)` and `(c, r)`, `r < c`, of the pattern: what numerical symmetry
    /// compares (the static LU holds the same map).
    mirror: Vec<(usize, usize)>,
}

/// The circuit solver: the static-pivot LU ([`crate::lu::StaticLu`]) while its pivots hold,
/// faer's partial-pivoting LU from the first factorization where one does not. Large SPD
/// candidates try faer's supernodal Cholesky first; their static LU is analysed only if a
/// Cholesky factorization fails.
#[derive(Debug)]
pub struct Solver {
    /// Supernodal Cholesky for large SPD circuits, while factorizations succeed.
    cholesky: Option<FaerLlt>,
    use_cholesky: bool,
    fast: Option<crate::lu::StaticLu>,
    /// The static LU not analysed yet (the Cholesky path is tried first).
    deferred: Option<DeferredLu>,
    /// Copy of the factored values and work vectors, for iterative refinement.
    values: Vec<f64>,
    rhs: Vec<f64>,
    res: Vec<f64>,
    pivoting: Option<FaerLu>,
    pattern: Pattern,
    factored: bool,
    /// The held factorization is of numerically symmetric values (the Cholesky path, or the
    /// static LU's LDLᵀ path).
    symmetric: bool,
    use_pivoting: bool,
}

impl Solver {
    /// Symbolic analysis of a pattern; `late[i]` (0-based) marks branch-current unknowns,
    /// ordered after the node voltages.
    ///
    /// A Cholesky candidate (from [`CHOLESKY_MIN_UNKNOWNS`] unknowns, no branch currents)
    /// defers the static LU's analysis to the first factorization the Cholesky fails, if any:
    /// on the 100k mesh of examples/scale that analysis took about 0.15 s, and its structure
    /// 68 MB that the Cholesky path never reads.
    pub fn new(pattern: &Pattern, late: &[bool]) -> Result<Solver, SolveError> {
        let forced = std::env::var("FREQPROP_LU").ok();
        let n = pattern.n;
        let want_fast = matches!(forced.as_deref(), None | Some("static") | Some("cholesky"));
        // Cholesky candidates: no branch currents (no voltage sources or inductors), large
        // (FREQPROP_LU=cholesky forces it at any size, FREQPROP_LU=static never)
        let spd_candidate = !late.iter().any(|&l| l)
            && match forced.as_deref() {
                None => n >= CHOLESKY_MIN_UNKNOWNS,
                Some(f) => f == "cholesky",
            };
        let cholesky = if spd_candidate {
            Some(FaerLlt::new(pattern)?)
        } else {
            None
        };
        let (fast, deferred) = match (want_fast, spd_candidate) {
            (true, true) => (
                None,
                Some(DeferredLu {
                    late: late.to_vec(),
                    mirror: mirror_pairs(pattern),
                }),
            ),
            (true, false) => (
                crate::lu::StaticLu::new(n, &pattern.col_ptr, &pattern.row_idx, late),
                None,
            ),
            (false, _) => (None, None),
        };
        let use_pivoting = fast.is_none() && deferred.is_none();
        let pivoting = if use_pivoting {
            Some(FaerLu::new(pattern)?)
        } else {
            None
        };
        Ok(Solver {
            use_cholesky: cholesky.is_some(),
            cholesky,
            use_pivoting,
            fast,
            deferred,
            values: vec![0.0; pattern.nnz],
            rhs: vec![0.0; n],
            res: vec![0.0; n],
            pivoting,
            pattern: pattern.clone(),
            factored: false,
            symmetric: false,
        })
    }

    /// The static LU's analysis, when it was deferred (see [`Solver::new`]); the pivoting LU
    /// from then on if the static LU cannot be made.
    fn analyse_deferred(&mut self) {
        if let Some(d) = self.deferred.take() {
            let p = &self.pattern;
            self.fast = crate::lu::StaticLu::new(p.n, &p.col_ptr, &p.row_idx, &d.late);
            if self.fast.is_none() {
                self.use_pivoting = true;
            }
        }
    }

    /// Whether the static LU's analysis is still deferred (tests).
    #[cfg(test)]
    fn static_lu_deferred(&self) -> bool {
        self.deferred.is_some()
    }

    /// Numeric factorization of the values (the first `nnz` entries of `values`).
    pub fn factor(&mut self, values: &[f64]) -> Result<(), SolveError> {
        self.factored = false;
        if self.use_cholesky {
            let symmetric = self.values_symmetric(values);
            if let (true, Some(c)) = (symmetric, &mut self.cholesky) {
                if c.factor(values).is_ok() {
                    self.values.copy_from_slice(&values[..self.pattern.nnz]);
                    self.factored = true;
                    self.symmetric = true;
                    return Ok(());
                }
            }
            // not symmetric positive definite after all: LU from now on
            self.use_cholesky = false;
            self.analyse_deferred();
        }
        if !self.use_pivoting {
            if let Some(f) = &mut self.fast {
                if f.factor(values).is_ok() {
                    self.values.copy_from_slice(&values[..self.pattern.nnz]);
                    self.factored = true;
                    self.symmetric = f.last_symmetric();
                    return Ok(());
                }
            }
            // the static order met a small pivot: pivot dynamically from now on
            self.use_pivoting = true;
        }
        if self.pivoting.is_none() {
            self.pivoting = Some(FaerLu::new(&self.pattern)?);
        }
        self.pivoting
            .as_mut()
            .expect("pivoting LU")
            .factor(values)?;
        self.values.copy_from_slice(&values[..self.pattern.nnz]);
        self.factored = true;
        self.symmetric = false;
        Ok(())
    }

    /// Whether the held factorization is of exactly these values (then a solve with it is an
    /// exact Newton step, and nothing needs refactoring: linear circuits at a fixed step).
    pub fn matches(&self, values: &[f64]) -> bool {
        self.factored && self.values[..] == values[..self.pattern.nnz]
    }

    /// Solve with the held factorization, no refinement: for the residual form of Newton's
    /// method, whose iterations refine by themselves. Same indexing as [`Solver::solve`].
    /// With rounded solves on ([`Solver::set_rounded_solves`]), the Cholesky factor is read
    /// in single precision.
    pub fn solve_plain(&mut self, b: &mut [f64]) {
        debug_assert!(self.factored);
        let b = &mut b[1..=self.pattern.n];
        if self.use_cholesky {
            if let Some(c) = &mut self.cholesky {
                return c.solve_rounded(b);
            }
        }
        match (self.use_pivoting, &mut self.fast, &mut self.pivoting) {
            (false, Some(f), _) => f.solve(b),
            (_, _, Some(p)) => p.solve(b),
            _ => unreachable!("no factorization"),
        }
    }

    /// Let [`Solver::solve_plain`] read the Cholesky factor rounded to single precision
    /// (half a large solve's memory traffic): for Newton iterations that only need a matrix
    /// close to the Jacobian, not the Jacobian itself (chord steps). Off by default; other
    /// solves always use the factor as computed.
    pub fn set_rounded_solves(&mut self, on: bool) {
        if let Some(c) = &mut self.cholesky {
            c.set_rounded_solves(on);
        }
    }

    /// Solve A·x = b in place; `b[0]` (ground) is ignored and `b[1..=n]` are the unknowns.
    pub fn solve(&mut self, b: &mut [f64]) {
        if self.use_cholesky {
            if let Some(c) = &mut self.cholesky {
                return c.solve(&mut b[1..=self.pattern.n]);
            }
        }
        let static_pivots = !self.use_pivoting && self.fast.is_some();
        if !static_pivots {
            return self.solve_plain(b);
        }
        // without pivoting, one step of iterative refinement recovers the accuracy a
        // partial-pivoting LU would give: x += A⁻¹(b − A·x)
        let n = self.pattern.n;
        self.rhs.copy_from_slice(&b[1..=n]);
        self.solve_plain(b);
        let x = &mut b[1..=n];
        self.res.copy_from_slice(&self.rhs);
        self.pattern.sub_product(&self.values, x, &mut self.res);
        self.fast
            .as_mut()
            .expect("static-pivot LU")
            .solve(&mut self.res);
        for (xi, d) in x.iter_mut().zip(&self.res) {
            *xi += d;
        }
    }

    /// Solve Aᵀ·x = b in place (adjoint systems), same indexing as [`Solver::solve`].
    pub fn solve_transpose(&mut self, b: &mut [f64]) {
        debug_assert!(self.factored);
        let b = &mut b[1..=self.pattern.n];
        if self.use_cholesky {
            if let Some(c) = &mut self.cholesky {
                return c.solve(b); // symmetric
            }
        }
        match (self.use_pivoting, &mut self.fast, &mut self.pivoting) {
            (false, Some(f), _) => f.solve_transpose(b),
            (_, _, Some(p)) => p.solve_transpose(b),
            _ => unreachable!("no factorization"),
        }
    }

    /// Stored entries of the factors (L and U, diagonal included) of the static-pivot LU, or
    /// an upper bound (the dense size of the pattern's columns' fill is unknown before faer's
    /// numeric phase) when the pivoting LU is in use: for memory estimates.
    pub fn factor_nnz(&self) -> usize {
        if let (true, Some(c)) = (self.use_cholesky, &self.cholesky) {
            return c.factor_nnz();
        }
        match &self.fast {
            Some(f) => 2 * f.factor_nnz() + self.pattern.n,
            None => 4 * self.pattern.nnz + self.pattern.n,
        }
    }

    /// The fill-reducing ordering of the factorization in use: the Cholesky path keeps the
    /// cheaper of AMD and nested dissection; the LUs order by minimum degree.
    pub fn ordering(&self) -> Ordering {
        match (self.use_cholesky, &self.cholesky) {
            (true, Some(c)) => c.ordering(),
            _ => Ordering::Amd,
        }
    }

    /// Whether a valid factorization is held.
    pub fn is_factored(&self) -> bool {
        self.factored
    }

    /// Whether the held factorization is of numerically symmetric values.
    pub fn factored_symmetric(&self) -> bool {
        self.factored && self.symmetric
    }

    /// Whether `values` are numerically symmetric, by the static LU's transpose map or, while
    /// its analysis is deferred, the same pairs of slots (false with neither: then no
    /// factorization is ever [`Solver::factored_symmetric`] either).
    pub fn values_symmetric(&self, values: &[f64]) -> bool {
        match (&self.fast, &self.deferred) {
            (Some(f), _) => f.is_symmetric(values),
            (None, Some(d)) => d.mirror.iter().all(|&(u, l)| values[u] == values[l]),
            (None, None) => false,
        }
    }

    /// Whether factorizations and solves can use two threads (the Cholesky path split into
    /// [`Halves`], or its solve split in two), when run on a worker of rayon's pool.
    pub fn can_use_two_threads(&self) -> bool {
        match (self.use_cholesky, &self.cholesky) {
            (true, Some(c)) => {
                c.halves.is_some() || c.solve.as_ref().is_some_and(|s| s.split.is_some())
            }
            _ => false,
        }
    }

    /// Which factorization is in use: `static` (fixed pivot order) or `pivoting` (faer).
    pub fn kind(&self) -> &'static str {
        if self.use_cholesky {
            "cholesky"
        } else if self.use_pivoting {
            "pivoting"
        } else {
            "static"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pools of one and of two threads.
    fn pools() -> [rayon::ThreadPool; 2] {
        [1, 2].map(|t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        })
    }

    /// Equal bit for bit, element by element.
    fn same_bits(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// A grid of conductances with a shunt at every node (an RC mesh at one time step):
    /// symmetric positive definite, the kind of matrix the Cholesky path takes.
    fn grid(side: usize, seed: &mut u64) -> (Pattern, Vec<f64>) {
        let mut rnd = || {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((*seed >> 11) as f64) / ((1u64 << 53) as f64)
        };
        let n = side * side;
        let id = |r: usize, c: usize| 1 + r * side + c;
        let mut pb = PatternBuilder::new(n);
        let mut links = Vec::new();
        for r in 0..side {
            for c in 0..side {
                if c + 1 < side {
                    links.push((id(r, c), id(r, c + 1), 1e-3 * (1.0 + rnd())));
                }
                if r + 1 < side {
                    links.push((id(r, c), id(r + 1, c), 1e-3 * (1.0 + rnd())));
                }
            }
        }
        for &(a, b, _) in &links {
            pb.add(a, b);
            pb.add(b, a);
        }
        let p = pb.build();
        let mut v = vec![0.0; p.nnz + 1];
        for &(a, b, g) in &links {
            v[p.slot(a, a)] += g;
            v[p.slot(b, b)] += g;
            v[p.slot(a, b)] -= g;
            v[p.slot(b, a)] -= g;
        }
        for i in 1..=n {
            v[p.diag(i)] += 1e-6 * (1.0 + rnd());
        }
        (p, v)
    }

    /// faer's supernodal Cholesky and the static-pivot LU (LDLᵀ path) give the same solution
    /// of an SPD grid system, to rounding; the residual of each is at rounding level.
    #[test]
    fn cholesky_matches_static_lu_on_spd_grid() {
        let mut seed = 11u64;
        let orderings = [Ordering::Amd, Ordering::NestedDissection];
        for (side, ordering) in [3usize, 10, 40]
            .into_iter()
            .flat_map(|s| orderings.map(|o| (s, o)))
        {
            let (p, v) = grid(side, &mut seed);
            let n = p.n;
            let mut llt = FaerLlt::analyse(&p, Some(ordering)).unwrap();
            assert_eq!(llt.ordering(), ordering);
            llt.factor(&v).unwrap();
            let mut lu =
                crate::lu::StaticLu::new(n, p.col_ptr(), p.row_idx(), &vec![false; n]).unwrap();
            assert!(lu.is_symmetric(&v));
            lu.factor(&v).unwrap();
            let b: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
            let mut x1 = b.clone();
            llt.solve(&mut x1);
            let mut x2 = b.clone();
            lu.solve(&mut x2);
            let scale = x2.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for i in 0..n {
                assert!(
                    (x1[i] - x2[i]).abs() <= 1e-9 * scale,
                    "side {side}, {ordering:?}: x[{i}] {} vs {}",
                    x1[i],
                    x2[i]
                );
            }
            // residual of the Cholesky solution
            let mut r = b.clone();
            for (row, col, slot) in p.entries() {
                r[row - 1] -= v[slot] * x1[col - 1];
            }
            let bmax = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(r.iter().all(|ri| ri.abs() <= 1e-12 * bmax), "side {side}");
        }
    }

    /// The supernodal substitutions of [`SupernodalSolve`] give faer's own solve to rounding,
    /// on grids whose factors have supernodes from one column to the top separators'
    /// dozens, for several right-hand sides in a row (the work vectors are reused).
    #[test]
    fn supernodal_solve_matches_faer() {
        let mut seed = 3u64;
        let pools = pools();
        let orderings = [Ordering::Amd, Ordering::NestedDissection];
        for (side, ordering) in [2usize, 25, 120]
            .into_iter()
            .flat_map(|s| orderings.map(|o| (s, o)))
        {
            let (p, v) = grid(side, &mut seed);
            let n = p.n;
            let mut llt = FaerLlt::analyse(&p, Some(ordering)).unwrap();
            assert!(llt.solve.is_some(), "side {side}: not supernodal");
            llt.factor(&v).unwrap();
            // the two-thread split of the tree, forced on these small factors where nested
            // dissection gives one (a grid of side 2 has no two halves)
            let sv = llt.solve.as_mut().unwrap();
            let split = sv.sn.split(n);
            if ordering == Ordering::NestedDissection && side > 2 {
                let sp = split.expect("nested dissection of a grid splits in two");
                assert!(0 < sp.mid && sp.mid < sp.top && sp.top < sv.sn.len());
            }
            for (k, split) in [(0, None), (1, split), (2, split)] {
                llt.solve.as_mut().unwrap().set_split(split);
                let b: Vec<f64> = (0..n)
                    .map(|i| ((i * 7919 + k * 104729) % 17) as f64 - 8.0)
                    .collect();
                let mut ours = b.clone();
                if split.is_some() {
                    // on a pool of one thread and of two (the split runs only on a worker):
                    // bit for bit the same
                    let mut one = b.clone();
                    pools[0].install(|| llt.solve(&mut one));
                    pools[1].install(|| llt.solve(&mut ours));
                    assert!(same_bits(&one, &ours));
                } else {
                    llt.solve(&mut ours);
                }
                let mut theirs = b.clone();
                {
                    let r =
                        faer::sparse::linalg::cholesky::LltRef::new(&llt.symbolic, &llt.l_values);
                    let rhs = MatMut::from_column_major_slice_mut(&mut theirs[..], n, 1);
                    r.solve_in_place_with_conj(
                        Conj::No,
                        rhs,
                        Par::Seq,
                        MemStack::new(&mut llt.mem),
                    );
                }
                let scale = theirs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                for i in 0..n {
                    assert!(
                        (ours[i] - theirs[i]).abs() <= 1e-11 * scale,
                        "side {side}, {ordering:?}, rhs {k}: x[{i}] {} vs {}",
                        ours[i],
                        theirs[i]
                    );
                }
            }
        }
    }

    /// On a large grid, nested dissection needs fewer operations than AMD (measured: 0.88 of
    /// the multiply-adds at 200 × 200, 1.07 of the entries), and `FaerLlt::new` keeps it.
    #[test]
    fn nested_dissection_kept_on_large_grid() {
        let mut seed = 7u64;
        let (p, _) = grid(200, &mut seed);
        let amd = FaerLlt::analyse(&p, Some(Ordering::Amd)).unwrap();
        let nd = FaerLlt::analyse(&p, Some(Ordering::NestedDissection)).unwrap();
        let (a_ops, a_sn) = factor_ops(&amd.symbolic);
        let (d_ops, d_sn) = factor_ops(&nd.symbolic);
        let ratio = d_ops / a_ops;
        assert!(
            ratio < 0.9,
            "multiply-adds: nested dissection {d_ops:e}, AMD {a_ops:e}"
        );
        let fill = nd.factor_nnz() as f64 / amd.factor_nnz() as f64;
        assert!(
            fill < 1.1,
            "entries: {} against {}",
            nd.factor_nnz(),
            amd.factor_nnz()
        );
        assert!(d_sn < a_sn, "supernodes: {d_sn} against {a_sn}");
        assert_eq!(
            FaerLlt::new(&p).unwrap().ordering(),
            Ordering::NestedDissection
        );
    }

    /// A matrix that is symmetric but indefinite is refused by the Cholesky factorization (the
    /// solver then falls back to LU).
    #[test]
    fn cholesky_refuses_indefinite() {
        let mut seed = 5u64;
        let (p, mut v) = grid(4, &mut seed);
        let s = p.diag(5);
        v[s] = -1.0;
        let mut llt = FaerLlt::new(&p).unwrap();
        assert!(llt.factor(&v).is_err());
    }

    /// The factorization split by the top separator ([`Halves`]) solves as the whole one does,
    /// to rounding, with a residual at rounding level; on pools of one and two threads bit for
    /// bit the same; an indefinite matrix is refused, in a half (a negative pivot of a part)
    /// or in the separator's dense block.
    /// Rounded solves (the factor read in single precision) give the solution of a nearby
    /// matrix: not the exact one, within single-precision rounding times the grid's
    /// condition of it; iterated in residual form (as Newton's method does) they converge to
    /// the solution of the double-precision system; the exact `solve` is not affected, and
    /// switched off they are the exact solve bit for bit. Whole supernodal factors in both
    /// orderings, and the halves split.
    #[test]
    fn rounded_solves_refine_to_the_solution() {
        let mut seed = 29u64;
        let cases = [
            (25usize, Ordering::Amd, Some(false)),
            (120, Ordering::NestedDissection, Some(false)),
            (120, Ordering::NestedDissection, Some(true)),
        ];
        for (side, ordering, halves) in cases {
            let (p, v) = grid(side, &mut seed);
            let n = p.n;
            let mut llt = FaerLlt::analyse_with(&p, Some(ordering), halves).unwrap();
            assert_eq!(llt.halves.is_some(), halves == Some(true));
            llt.set_rounded_solves(true);
            llt.factor(&v).unwrap();
            let b: Vec<f64> = (0..n).map(|i| ((i * 7919) % 17) as f64 - 8.0).collect();
            let mut exact = b.clone();
            llt.solve(&mut exact);
            let mut whole = FaerLlt::analyse_with(&p, Some(ordering), halves).unwrap();
            whole.factor(&v).unwrap();
            let mut want = b.clone();
            whole.solve(&mut want);
            assert!(same_bits(&exact, &want));
            let scale = exact.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let mut once = b.clone();
            llt.solve_rounded(&mut once);
            let worst = (0..n).fold(0.0f64, |m, i| m.max((once[i] - exact[i]).abs())) / scale;
            assert!(
                worst > 1e-12,
                "{side} {ordering:?} {halves:?}: not rounded ({worst:e})"
            );
            assert!(worst < 1e-5, "{side} {ordering:?} {halves:?}: {worst:e}");
            // residual form: x += F̃⁻¹(b − A·x), the residual in double precision
            let mut x = vec![0.0; n];
            for _ in 0..4 {
                let mut r = b.clone();
                p.sub_product(&v, &x, &mut r);
                llt.solve_rounded(&mut r);
                for (xi, d) in x.iter_mut().zip(&r) {
                    *xi += d;
                }
            }
            for i in 0..n {
                assert!(
                    (x[i] - exact[i]).abs() <= 1e-12 * scale,
                    "{side} {ordering:?} {halves:?}: x[{i}] {} vs {}",
                    x[i],
                    exact[i]
                );
            }
            llt.set_rounded_solves(false);
            llt.factor(&v).unwrap();
            let mut off = b.clone();
            llt.solve_rounded(&mut off);
            assert!(same_bits(&off, &exact));
            // switched on again, before the next factorization there is no rounded copy of
            // the held factor: the exact solve, until a factorization makes one
            llt.set_rounded_solves(true);
            let mut again = b.clone();
            llt.solve_rounded(&mut again);
            assert!(same_bits(&again, &exact));
            llt.factor(&v).unwrap();
            let mut after = b.clone();
            llt.solve_rounded(&mut after);
            assert!(same_bits(&after, &once));
        }
    }

    #[test]
    fn halves_match_the_whole_factorization() {
        let pools = pools();
        let mut seed = 13u64;
        for side in [25usize, 60, 120] {
            let (p, v) = grid(side, &mut seed);
            let n = p.n;
            let nd = Some(Ordering::NestedDissection);
            let mut whole = FaerLlt::analyse_with(&p, nd, Some(false)).unwrap();
            assert!(whole.halves.is_none());
            let mut split = FaerLlt::analyse_with(&p, nd, Some(true)).unwrap();
            assert!(split.halves.is_some(), "side {side}: no split");
            whole.factor(&v).unwrap();
            for k in 0..2 {
                let b: Vec<f64> = (0..n)
                    .map(|i| ((i * 7919 + k * 104729) % 17) as f64 - 8.0)
                    .collect();
                let mut want = b.clone();
                whole.solve(&mut want);
                let mut got = [b.clone(), b.clone()];
                for (pool, x) in pools.iter().zip(got.iter_mut()) {
                    pool.install(|| {
                        split.factor(&v).unwrap();
                        split.solve(x);
                    });
                }
                assert!(same_bits(&got[0], &got[1]));
                let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                for i in 0..n {
                    assert!(
                        (got[1][i] - want[i]).abs() <= 1e-11 * scale,
                        "side {side}, rhs {k}: x[{i}] {} vs {}",
                        got[1][i],
                        want[i]
                    );
                }
                let mut r = b.clone();
                for (row, col, slot) in p.entries() {
                    r[row - 1] -= v[slot] * got[1][col - 1];
                }
                let bmax = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                assert!(r.iter().all(|ri| ri.abs() <= 1e-12 * bmax), "side {side}");
            }
            // a negative pivot in the first half, then one on the separator
            let Some(h) = &split.halves else {
                unreachable!()
            };
            for u in [h.first_own_unknown(), h.first_separator_unknown()] {
                let mut bad = v.clone();
                bad[p.diag(u + 1)] = -1.0;
                assert!(split.factor(&bad).is_err(), "side {side}: unknown {u}");
            }
        }
    }

    /// The residual by rows of a symmetric matrix equals the one by columns (to rounding: the
    /// sums run in another order), and the static LU's symmetry test, which guards it, sees a
    /// single asymmetric entry.
    #[test]
    fn symmetric_residual_matches_the_column_product() {
        let mut seed = 11;
        let (p, mut v) = grid(23, &mut seed);
        let n = p.n;
        let lu = crate::lu::StaticLu::new(n, p.col_ptr(), p.row_idx(), &vec![false; n]).unwrap();
        assert!(lu.is_symmetric(&v));
        let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 29) as f64 - 14.0).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 7919) % 17) as f64 - 8.0).collect();
        let (mut by_col, mut by_row) = (b.clone(), b.clone());
        p.sub_product(&v, &x, &mut by_col);
        p.sub_product_symmetric(&v, &x, &mut by_row);
        let scale = by_col.iter().fold(0.0f64, |m, r| m.max(r.abs()));
        for i in 0..n {
            assert!(
                (by_col[i] - by_row[i]).abs() <= 1e-14 * scale,
                "row {i}: {} vs {}",
                by_col[i],
                by_row[i]
            );
        }
        assert!(by_col != b, "the product changed the residual");
        // one off-diagonal entry nudged: no longer symmetric
        let k = p.slot(5, 6);
        v[k] *= 1.0 + f64::EPSILON;
        assert!(!lu.is_symmetric(&v));
    }

    /// sprs's assembly from triplets (every entry and its transpose, duplicates merged) as the
    /// reference for [`PatternBuilder::build`].
    fn sprs_pattern(n: usize, entries: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
        let mut tri = sprs::TriMat::<f64>::new((n, n));
        for i in 0..n {
            tri.add_triplet(i, i, 1.0);
        }
        for &(r, c) in entries {
            if r != 0 && c != 0 {
                tri.add_triplet(r - 1, c - 1, 1.0);
                tri.add_triplet(c - 1, r - 1, 1.0);
            }
        }
        let csc: sprs::CsMat<f64> = tri.to_csc();
        (csc.indptr().raw_storage().to_vec(), csc.indices().to_vec())
    }

    proptest::proptest! {
        /// Any declared entries (repeated, ground among them, some unknowns with none): the
        /// pattern is sprs's, and every entry's slot holds it.
        #[test]
        fn pattern_is_the_triplet_assembly(
            n in 1usize..60,
            raw in proptest::collection::vec((0usize..61, 0usize..61), 0..400),
        ) {
            let entries: Vec<_> = raw.into_iter().map(|(r, c)| (r % (n + 1), c % (n + 1))).collect();
            let mut pb = PatternBuilder::new(n);
            for &(r, c) in &entries {
                pb.add(r, c);
            }
            let p = pb.build();
            let (col_ptr, row_idx) = sprs_pattern(n, &entries);
            proptest::prop_assert_eq!(p.col_ptr(), &col_ptr[..]);
            proptest::prop_assert_eq!(p.row_idx(), &row_idx[..]);
            proptest::prop_assert_eq!(p.nnz, row_idx.len());
            for c in 0..n {
                for k in col_ptr[c]..col_ptr[c + 1] {
                    proptest::prop_assert_eq!(p.slot(row_idx[k] + 1, c + 1), k);
                }
                proptest::prop_assert_eq!(p.diag(c + 1), p.slot(c + 1, c + 1));
            }
            proptest::prop_assert_eq!(p.slot(0, 1), p.nnz);
        }
    }

    /// Looking up an entry that was never declared is a bug in a device's `declare`: it
    /// panics with the entry's position.
    #[test]
    #[should_panic(expected = "entry (1, 2) was not declared during setup")]
    fn undeclared_entry_panics() {
        PatternBuilder::new(3).build().slot(1, 2);
    }

    /// A large SPD candidate starts on the Cholesky path with its static LU not analysed;
    /// values the Cholesky cannot factor (symmetric but indefinite, then not symmetric)
    /// analyse it there and then, and the solves that follow are those of the LU: each
    /// solution leaves a residual at rounding level.
    #[test]
    fn static_lu_analysed_when_the_cholesky_fails() {
        let mut seed = 5;
        let side = 150; // 22,500 unknowns: over CHOLESKY_MIN_UNKNOWNS
        let (p, v) = grid(side, &mut seed);
        let n = p.n;
        assert!(n >= CHOLESKY_MIN_UNKNOWNS);
        let mut s = Solver::new(&p, &vec![false; n]).unwrap();
        assert_eq!(s.kind(), "cholesky");
        assert!(s.static_lu_deferred());
        let residual = |s: &mut Solver, v: &[f64]| {
            let b: Vec<f64> = (0..=n).map(|i| ((i * 7919) % 17) as f64 - 8.0).collect();
            let mut x = b.clone();
            s.solve(&mut x);
            let mut r = b[1..].to_vec();
            p.sub_product(v, &x[1..], &mut r);
            let scale = b.iter().fold(0.0f64, |m, y| m.max(y.abs()));
            r.iter().fold(0.0f64, |m, y| m.max(y.abs())) / scale
        };
        s.factor(&v).unwrap();
        assert!(s.values_symmetric(&v) && s.factored_symmetric());
        assert!(residual(&mut s, &v) < 1e-9, "{}", residual(&mut s, &v));
        assert!(
            s.static_lu_deferred(),
            "the Cholesky path does not need the LU"
        );
        // symmetric, indefinite: one node's conductance to ground negative
        let mut indefinite = v.clone();
        indefinite[p.diag(n / 2)] -= 10.0;
        s.factor(&indefinite).unwrap();
        assert!(!s.static_lu_deferred());
        assert_eq!(s.kind(), "static");
        assert!(s.factored_symmetric());
        assert!(residual(&mut s, &indefinite) < 1e-9);
        // not symmetric: the LU's general path
        let mut asymmetric = v.clone();
        asymmetric[p.slot(1, 2)] -= 1e-4;
        assert!(!s.values_symmetric(&asymmetric));
        s.factor(&asymmetric).unwrap();
        assert!(!s.factored_symmetric());
        assert!(residual(&mut s, &asymmetric) < 1e-9);
        // a solver whose first values are asymmetric never factors by Cholesky
        let mut t = Solver::new(&p, &vec![false; n]).unwrap();
        assert!(!t.values_symmetric(&asymmetric));
        t.factor(&asymmetric).unwrap();
        assert_eq!(t.kind(), "static");
        assert!(residual(&mut t, &asymmetric) < 1e-9);
    }
}
