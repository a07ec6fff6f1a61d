//! The Cholesky factorization of a large SPD circuit matrix split by its top separator, for
//! two threads.
//!
//! Nested dissection orders the unknowns as two parts A and B that no entry joins, then their
//! separator S:
//!
//! ```text
//!     [ A    0    X_A ]         [ L_A  0    0   ]
//! M = [ 0    B    X_B ]  = L·Lᵀ, L = [ 0    L_B  0   ]
//!     [ X_Aᵀ X_Bᵀ S   ]         [ W_A  W_B  L_S ]
//! ```
//!
//! with L_S·L_Sᵀ = S − W_A·W_Aᵀ − W_B·W_Bᵀ. Each half `[A X_A; X_Aᵀ S]` (a principal submatrix,
//! so SPD too) is factored on its own by faer's supernodal Cholesky, in parallel: that gives
//! L_A, W_A and a factor T_A of S − W_A·W_Aᵀ. The separator's block is then
//! T_A·T_Aᵀ + T_B·T_Bᵀ − S (dense, a few hundred unknowns), factored densely. Solves run the
//! two halves' substitutions in parallel too, with the dense block between them.

use crate::matrix::{
    back, both, factor_llt, forward, positions, round_to_f32, Part, Pattern, SolveError, Supernodes,
};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{LltParams, LltRegularization};
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, SymbolicCholesky, SymmetricOrdering,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Accum, MatMut, MatRef, Par, Spec};

/// One half, `[D X_D; X_Dᵀ S]` in local numbering: its own unknowns first (nested dissection
/// order), then the separator's (the dense block's order).
struct Half {
    /// Own unknowns.
    own: usize,
    /// Original (0-based) unknown of each local one.
    unknowns: Vec<usize>,
    /// Local pattern (both triangles), and for each entry its slot in the circuit's values.
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    slots: Vec<usize>,
    vals: Vec<f64>,
    symbolic: SymbolicCholesky<usize>,
    l_values: Vec<f64>,
    /// `l_values` rounded to single precision (rounded solves only).
    l_rounded: Vec<f32>,
    mem: MemBuffer,
    sn: Supernodes,
    /// Supernodes `..first_top` hold only own columns; supernode `first_top` holds the own
    /// columns `begin..own` (maybe none: faer may merge the last own columns with the
    /// separator's into one supernode) and separator columns; the rest only separator ones.
    first_top: usize,
    /// fwd[p]: the local unknown at position p of faer's order.
    fwd: Vec<usize>,
    /// sep_of[k]: the separator index (dense order) at faer position `own + k`.
    sep_of: Vec<usize>,
    dinv: Vec<f64>,
    x: Vec<f64>,
    tmp: Vec<f64>,
    /// W·y of the forward substitution, by faer position past `own`.
    acc: Vec<f64>,
    /// The separator's block T of this half's factor and T·Tᵀ (lower), dense by columns in
    /// faer's order.
    t: Vec<f64>,
    ttt: Vec<f64>,
}

/// The split factorization; see the module documentation.
pub(crate) struct Halves {
    halves: [Half; 2],
    /// The separator's unknowns (original, 0-based), in dense order.
    sep: Vec<usize>,
    /// The separator's entries of the circuit matrix: (slot, row, column) in dense order.
    s_entries: Vec<(usize, usize, usize)>,
    /// L_S, dense by columns (lower triangle).
    ls: Vec<f64>,
    ls_mem: MemBuffer,
    ys: Vec<f64>,
    /// Factor entries: both halves' (their separator blocks included) and the dense block's
    /// lower triangle.
    entries: usize,
}

/// Run `$body` with `$l` bound to a half's factor values: its rounded copy when `$rounded`,
/// else L as computed (two element types, so a macro rather than a closure).
macro_rules! with_factor {
    ($half:expr, $rounded:expr, |$l:ident| $body:expr) => {
        if $rounded {
            let $l = &$half.l_rounded[..];
            $body
        } else {
            let $l = &$half.l_values[..];
            $body
        }
    };
}

impl Half {
    /// The half made of `own` (original unknowns, in order) and the separator `sep`, or
    /// `None` when faer's analysis does not keep the separator's columns last and whole.
    fn new(pattern: &Pattern, own: &[usize], sep: &[usize]) -> Option<Half> {
        let n = pattern.n;
        let unknowns: Vec<usize> = own.iter().chain(sep).copied().collect();
        let mut local = vec![usize::MAX; n];
        for (k, &u) in unknowns.iter().enumerate() {
            local[u] = k;
        }
        let (cp, ri) = (pattern.col_ptr(), pattern.row_idx());
        let mut col_ptr = vec![0usize];
        let mut entries: Vec<(usize, usize)> = Vec::new();
        let mut row_idx = Vec::new();
        let mut slots = Vec::new();
        for &u in &unknowns {
            entries.clear();
            for k in cp[u]..cp[u + 1] {
                let r = local[ri[k]];
                if r != usize::MAX {
                    entries.push((r, k));
                }
            }
            entries.sort_unstable();
            for &(r, k) in &entries {
                row_idx.push(r);
                slots.push(k);
            }
            col_ptr.push(row_idx.len());
        }
        let m = unknowns.len();
        let symbolic = factorize_symbolic_cholesky(
            SymbolicSparseColMatRef::new_checked(m, m, &col_ptr, None, &row_idx),
            faer::Side::Lower,
            SymmetricOrdering::Identity,
            CholeskySymbolicParams {
                supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SUPERNODAL,
                ..Default::default()
            },
        )
        .ok()?;
        let sn = Supernodes::of(&symbolic)?;
        // the supernode holding the first separator column
        let first_top = sn.begin.partition_point(|&b| b <= own.len()) - 1;
        if first_top >= sn.len() {
            return None;
        }
        let fwd = positions(&symbolic);
        // the separator's unknowns must stay last
        if fwd[own.len()..].iter().any(|&l| l < own.len()) {
            return None;
        }
        let sep_of = fwd[own.len()..].iter().map(|&l| l - own.len()).collect();
        let widest = sn.widest();
        let req = symbolic.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default());
        let mem = MemBuffer::try_new(req).ok()?;
        let s = sep.len();
        Some(Half {
            own: own.len(),
            vals: vec![0.0; slots.len()],
            unknowns,
            col_ptr,
            row_idx,
            slots,
            l_values: vec![0.0; symbolic.len_val()],
            l_rounded: Vec::new(),
            symbolic,
            mem,
            sn,
            first_top,
            fwd,
            sep_of,
            dinv: vec![0.0; own.len()],
            x: vec![0.0; own.len()],
            tmp: vec![0.0; widest],
            acc: vec![0.0; s],
            t: vec![0.0; s * s],
            ttt: vec![0.0; s * s],
        })
    }

    /// Factor this half and form T·Tᵀ (separator order); with `rounded`, also round L to
    /// single precision for the rounded solves.
    fn factor(&mut self, values: &[f64], rounded: bool) -> Result<(), SolveError> {
        for (v, &k) in self.vals.iter_mut().zip(&self.slots) {
            *v = values[k];
        }
        let m = self.unknowns.len();
        let a = SparseColMatRef::new(
            SymbolicSparseColMatRef::new_checked(m, m, &self.col_ptr, None, &self.row_idx),
            &self.vals[..],
        );
        factor_llt(&self.symbolic, &mut self.l_values, a, &mut self.mem)?;
        let l = &self.l_values;
        self.sn.reciprocal_pivots(l, self.own, &mut self.dinv);
        if rounded {
            round_to_f32(l, &mut self.l_rounded);
        } else {
            self.l_rounded = Vec::new();
        }
        // T: the separator's block of this half's factor (lower triangular in faer's order)
        let ns = self.acc.len();
        self.t.iter_mut().for_each(|v| *v = 0.0);
        for s in self.first_top..self.sn.len() {
            let (c0, c, pat, block) = self.sn.get(s, l);
            let ld = c + pat.len();
            for j in self.own.saturating_sub(c0)..c {
                let col = (c0 + j - self.own) * ns;
                let rows = (c0 + j..c0 + c).chain(pat.iter().map(|&r| r as usize));
                for (p, &v) in rows.zip(&block[j * ld + j..(j + 1) * ld]) {
                    self.t[col + p - self.own] = v;
                }
            }
        }
        // T·Tᵀ, its lower triangle only (a third of the full product's operations)
        use faer::linalg::matmul::triangular::{matmul, BlockStructure};
        let t = MatRef::from_column_major_slice(&self.t, ns, ns);
        matmul(
            MatMut::from_column_major_slice_mut(&mut self.ttt, ns, ns),
            BlockStructure::TriangularLower,
            Accum::Replace,
            t,
            BlockStructure::TriangularLower,
            t.transpose(),
            BlockStructure::TriangularUpper,
            1.0,
            Par::Seq,
        );
        Ok(())
    }

    /// The supernodes holding own columns: those before `first_top`, and `first_top` itself
    /// when it starts with some.
    fn own_supernodes(&self) -> std::ops::Range<usize> {
        0..self.first_top + usize::from(self.sn.begin[self.first_top] < self.own)
    }

    /// Forward substitution of this half's own unknowns from `b` (original numbering); W·y
    /// left in `acc` (by faer position past `own`).
    fn forward(&mut self, b: &[f64], rounded: bool) {
        for (xi, &f) in self.x.iter_mut().zip(&self.fwd) {
            *xi = b[self.unknowns[f]];
        }
        self.acc.iter_mut().for_each(|v| *v = 0.0);
        let (own, range) = (self.own, self.own_supernodes());
        let mut part = Part {
            own: &mut self.x,
            off: 0,
            top_off: own,
        };
        with_factor!(self, rounded, |l| forward(
            &self.sn,
            l,
            &self.dinv,
            range,
            &mut part,
            &mut self.acc,
            &mut self.tmp,
        ));
    }

    /// Back substitution given the separator's solution `xs` (dense order); the own
    /// unknowns' solution is left in `x` (faer's order).
    fn back_into(&mut self, xs: &[f64], rounded: bool) {
        // the separator's values by faer position, in acc
        for (a, &k) in self.acc.iter_mut().zip(&self.sep_of) {
            *a = xs[k];
        }
        let (own, range) = (self.own, self.own_supernodes());
        let mut part = Part {
            own: &mut self.x,
            off: 0,
            top_off: own,
        };
        with_factor!(self, rounded, |l| back(
            &self.sn,
            l,
            &self.dinv,
            range,
            &mut part,
            &self.acc,
            &mut self.tmp,
        ));
    }
}

impl Halves {
    /// The split of a pattern by nested dissection's first split (`perm`, parts of `a` and
    /// `b` unknowns, the separator after them), or `None` when a half's analysis does not
    /// keep the separator last.
    pub(crate) fn new(pattern: &Pattern, perm: &[usize], a: usize, b: usize) -> Option<Halves> {
        let sep = perm[a + b..].to_vec();
        let ns = sep.len();
        let ha = Half::new(pattern, &perm[..a], &sep)?;
        let hb = Half::new(pattern, &perm[a..a + b], &sep)?;
        let mut index = vec![usize::MAX; pattern.n];
        for (k, &u) in sep.iter().enumerate() {
            index[u] = k;
        }
        let mut s_entries = Vec::new();
        for (j, &u) in sep.iter().enumerate() {
            for k in pattern.col_ptr()[u]..pattern.col_ptr()[u + 1] {
                let i = index[pattern.row_idx()[k]];
                if i != usize::MAX && i >= j {
                    s_entries.push((k, i, j));
                }
            }
        }
        let entries = ha.l_values.len() + hb.l_values.len() + ns * (ns + 1) / 2;
        let req = faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
            ns,
            Par::Seq,
            Default::default(),
        );
        Some(Halves {
            halves: [ha, hb],
            sep,
            s_entries,
            ls: vec![0.0; ns * ns],
            ls_mem: MemBuffer::try_new(req).ok()?,
            ys: vec![0.0; ns],
            entries,
        })
    }

    /// Stored factor entries.
    pub(crate) fn entries(&self) -> usize {
        self.entries
    }

    /// An unknown (original, 0-based) of the first half's own part, for tests.
    #[cfg(test)]
    pub(crate) fn first_own_unknown(&self) -> usize {
        self.halves[0].unknowns[0]
    }

    /// An unknown of the separator, for tests.
    #[cfg(test)]
    pub(crate) fn first_separator_unknown(&self) -> usize {
        self.sep[0]
    }

    /// Numeric factorization: the halves (in parallel on a worker of rayon's pool), then the
    /// separator's dense block; with `rounded`, the halves' factors also rounded to single
    /// precision (else any rounded copy is dropped).
    pub(crate) fn factor(&mut self, values: &[f64], rounded: bool) -> Result<(), SolveError> {
        let [ha, hb] = &mut self.halves;
        let (ra, rb) = both(|| ha.factor(values, rounded), || hb.factor(values, rounded));
        ra?;
        rb?;
        // T_A·T_Aᵀ + T_B·T_Bᵀ − S, lower triangle, in the separator's order
        let ns = self.sep.len();
        self.ls.iter_mut().for_each(|v| *v = 0.0);
        for h in [&*ha, &*hb] {
            for q in 0..ns {
                for p in q..ns {
                    let (i, j) = (h.sep_of[p], h.sep_of[q]);
                    let (i, j) = if i >= j { (i, j) } else { (j, i) };
                    self.ls[j * ns + i] += h.ttt[q * ns + p];
                }
            }
        }
        for &(k, i, j) in &self.s_entries {
            self.ls[j * ns + i] -= values[k];
        }
        faer::linalg::cholesky::llt::factor::cholesky_in_place(
            MatMut::from_column_major_slice_mut(&mut self.ls, ns, ns),
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(&mut self.ls_mem),
            Spec::<LltParams, f64>::default(),
        )
        .map_err(|_| SolveError::Singular)?;
        Ok(())
    }

    /// Drop the rounded copies of the halves' factors.
    pub(crate) fn drop_rounded(&mut self) {
        for h in &mut self.halves {
            h.l_rounded = Vec::new();
        }
    }

    /// Solve M·x = b in place (original numbering, length n); with `rounded`, reading the
    /// halves' factors rounded to single precision where the last factorization made them
    /// (the dense block stays in double).
    pub(crate) fn solve(&mut self, b: &mut [f64], rounded: bool) {
        let rounded = rounded && self.halves.iter().all(|h| !h.l_rounded.is_empty());
        let ns = self.sep.len();
        {
            let [ha, hb] = &mut self.halves;
            let bb: &[f64] = b;
            both(|| ha.forward(bb, rounded), || hb.forward(bb, rounded));
        }
        // y_S = L_S⁻¹·(b_S − W_A·y_A − W_B·y_B), then x_S = L_S⁻ᵀ·y_S
        let [ha, hb] = &self.halves;
        let ys = &mut self.ys;
        for (k, &u) in self.sep.iter().enumerate() {
            ys[k] = b[u];
        }
        for h in [ha, hb] {
            for (a, &k) in h.acc.iter().zip(&h.sep_of) {
                ys[k] -= a;
            }
        }
        let ls = &self.ls;
        for j in 0..ns {
            let col = &ls[j * ns..(j + 1) * ns];
            let yj = ys[j] / col[j];
            ys[j] = yj;
            for (y, &l) in ys[j + 1..].iter_mut().zip(&col[j + 1..]) {
                *y -= l * yj;
            }
        }
        for j in (0..ns).rev() {
            let col = &ls[j * ns..(j + 1) * ns];
            let mut v = ys[j];
            for (&l, &y) in col[j + 1..].iter().zip(&ys[j + 1..]) {
                v -= l * y;
            }
            ys[j] = v / col[j];
        }
        for (k, &u) in self.sep.iter().enumerate() {
            b[u] = ys[k];
        }
        let [ha, hb] = &mut self.halves;
        let xs = &self.ys[..];
        // the halves write disjoint unknowns of b: each into its own buffer first
        both(|| ha.back_into(xs, rounded), || hb.back_into(xs, rounded));
        for h in [&*ha, &*hb] {
            for (xi, &f) in h.x.iter().zip(&h.fwd) {
                b[h.unknowns[f]] = *xi;
            }
        }
    }
}
