//! The MNA system: a sparsity pattern fixed once per circuit (the stamp map), values written
//! in place every Newton iteration, and faer's sparse LU with the symbolic analysis done once.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::lu::partial_pivoting::factor::PartialPivLuParams;
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuSymbolicParams, NumericLu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMat, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Spec};
use std::collections::HashMap;

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

    /// Fix the pattern: sprs assembles the declared entries (duplicates merged) into
    /// compressed sparse column form, and each entry gets its slot in the values vector.
    pub fn build(self) -> Pattern {
        let n = self.n;
        let mut tri = sprs::TriMat::<f64>::with_capacity((n, n), self.entries.len());
        // the transpose of every entry too: a structurally symmetric pattern lets the
        // static-pivot LU share one index structure between L and U
        for &(r, c) in &self.entries {
            tri.add_triplet(r, c, 1.0);
            tri.add_triplet(c, r, 1.0);
        }
        let csc: sprs::CsMat<f64> = tri.to_csc();
        let col_ptr: Vec<usize> = csc.indptr().raw_storage().to_vec();
        let row_idx: Vec<usize> = csc.indices().to_vec();
        let mut slots = HashMap::with_capacity(row_idx.len());
        for c in 0..n {
            for k in col_ptr[c]..col_ptr[c + 1] {
                slots.insert((row_idx[k], c), k);
            }
        }
        let nnz = row_idx.len();
        let diag = (0..n).map(|i| slots[&(i, i)]).collect();
        Pattern {
            n,
            col_ptr,
            row_idx,
            slots,
            diag,
            nnz,
        }
    }
}

/// The fixed sparsity pattern in compressed sparse column form.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Number of unknowns.
    pub n: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    slots: HashMap<(usize, usize), usize>,
    diag: Vec<usize>,
    /// Stored entries; the values vector has one more, the discard slot at index `nnz`.
    pub nnz: usize,
}

impl Pattern {
    /// Slot of an entry in the values vector; ground rows/columns map to the discard slot.
    pub fn slot(&self, row: usize, col: usize) -> usize {
        if row == 0 || col == 0 {
            return self.nnz;
        }
        *self
            .slots
            .get(&(row - 1, col - 1))
            .expect("entry declared during setup")
    }

    /// Column pointers of the CSC pattern (0-based unknowns).
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }

    /// Row indices of the CSC pattern (0-based unknowns).
    pub fn row_idx(&self) -> &[usize] {
        &self.row_idx
    }

    /// Slot of diagonal entry of unknown `i` (1-based).
    pub fn diag(&self, i: usize) -> usize {
        self.diag[i - 1]
    }

    /// The pattern as faer's symbolic matrix.
    fn symbolic(&self) -> SymbolicSparseColMatRef<'_, usize> {
        SymbolicSparseColMatRef::new_checked(self.n, self.n, &self.col_ptr, None, &self.row_idx)
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
        let mut params = LuSymbolicParams::default();
        params.supernodal_flop_ratio_threshold = match std::env::var("FREQPROP_LU").as_deref() {
            Ok("simplicial") => SupernodalThreshold::FORCE_SIMPLICIAL,
            Ok("supernodal") => SupernodalThreshold::FORCE_SUPERNODAL,
            _ if pattern.n >= 100 => SupernodalThreshold::FORCE_SUPERNODAL,
            _ => SupernodalThreshold::FORCE_SIMPLICIAL,
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
        let nnz = self.pattern_row_idx.len();
        let sym = SymbolicSparseColMatRef::new_checked(
            self.n,
            self.n,
            &self.pattern_col_ptr,
            None,
            &self.pattern_row_idx,
        );
        let a = SparseColMatRef::new(sym, &values[..nnz]);
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

/// The circuit solver: the static-pivot LU ([`crate::lu::StaticLu`]) while its pivots hold,
/// faer's partial-pivoting LU from the first factorization where one does not.
#[derive(Debug)]
pub struct Solver {
    fast: Option<crate::lu::StaticLu>,
    /// Copy of the factored values and work vectors, for iterative refinement.
    values: Vec<f64>,
    rhs: Vec<f64>,
    res: Vec<f64>,
    pivoting: Option<FaerLu>,
    pattern: Pattern,
    factored: bool,
    use_pivoting: bool,
}

impl Solver {
    /// Symbolic analysis of a pattern; `late[i]` (0-based) marks branch-current unknowns,
    /// ordered after the node voltages.
    pub fn new(pattern: &Pattern, late: &[bool]) -> Result<Solver, SolveError> {
        let forced = std::env::var("FREQPROP_LU").ok();
        let fast = if forced.is_none() || forced.as_deref() == Some("static") {
            crate::lu::StaticLu::new(pattern.n, &pattern.col_ptr, &pattern.row_idx, late)
        } else {
            None
        };
        let pivoting = if fast.is_none() {
            Some(FaerLu::new(pattern)?)
        } else {
            None
        };
        let n = pattern.n;
        Ok(Solver {
            use_pivoting: fast.is_none(),
            fast,
            values: vec![0.0; pattern.nnz],
            rhs: vec![0.0; n],
            res: vec![0.0; n],
            pivoting,
            pattern: pattern.clone(),
            factored: false,
        })
    }

    /// Numeric factorization of the values (the first `nnz` entries of `values`).
    pub fn factor(&mut self, values: &[f64]) -> Result<(), SolveError> {
        self.factored = false;
        if !self.use_pivoting {
            if let Some(f) = &mut self.fast {
                if f.factor(values).is_ok() {
                    self.values.copy_from_slice(&values[..self.pattern.nnz]);
                    self.factored = true;
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
        self.factored = true;
        Ok(())
    }

    /// Solve A·x = b in place; `b[0]` (ground) is ignored and `b[1..=n]` are the unknowns.
    pub fn solve(&mut self, b: &mut [f64]) {
        debug_assert!(self.factored);
        let b = &mut b[1..=self.pattern.n];
        match (self.use_pivoting, &mut self.fast, &mut self.pivoting) {
            (false, Some(f), _) => {
                // without pivoting, one step of iterative refinement recovers the accuracy a
                // partial-pivoting LU would give: x += A⁻¹(b − A·x)
                self.rhs.copy_from_slice(b);
                f.solve(b);
                self.res.copy_from_slice(&self.rhs);
                let p = &self.pattern;
                for c in 0..p.n {
                    let xc = b[c];
                    for k in p.col_ptr[c]..p.col_ptr[c + 1] {
                        self.res[p.row_idx[k]] -= self.values[k] * xc;
                    }
                }
                f.solve(&mut self.res);
                for (x, d) in b.iter_mut().zip(&self.res) {
                    *x += d;
                }
            }
            (_, _, Some(p)) => p.solve(b),
            _ => unreachable!("no factorization"),
        }
    }

    /// Solve Aᵀ·x = b in place (adjoint systems), same indexing as [`Solver::solve`].
    pub fn solve_transpose(&mut self, b: &mut [f64]) {
        debug_assert!(self.factored);
        let b = &mut b[1..=self.pattern.n];
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
        match &self.fast {
            Some(f) => 2 * f.factor_nnz() + self.pattern.n,
            None => 4 * self.pattern.nnz + self.pattern.n,
        }
    }

    /// Whether a valid factorization is held.
    pub fn is_factored(&self) -> bool {
        self.factored
    }

    /// Which factorization is in use: `static` (fixed pivot order) or `pivoting` (faer).
    pub fn kind(&self) -> &'static str {
        if self.use_pivoting {
            "pivoting"
        } else {
            "static"
        }
    }
}
