//! Fill-reducing orderings for the Cholesky factorization, chosen once per circuit.
//!
//! faer orders by approximate minimum degree (AMD). On the large planar meshes of this field
//! a nested dissection ordering needs fewer operations; [`nested_dissection`] computes one
//! from the pattern's graph alone (George's automatic nested dissection: level structures
//! from a pseudo-peripheral node, a middle level as separator), and the solver keeps
//! whichever ordering gives the cheaper factorization.

use crate::matrix::Pattern;

/// A fill-reducing ordering of the unknowns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// Approximate minimum degree (faer's AMD; COLAMD for faer's pivoting LU).
    Amd,
    /// [`nested_dissection`].
    NestedDissection,
}

impl Ordering {
    /// Its name, as `--stats` reports it.
    pub fn name(self) -> &'static str {
        match self {
            Ordering::Amd => "amd",
            Ordering::NestedDissection => "nested dissection",
        }
    }
}

/// A nested dissection ordering and its first split.
#[derive(Debug, Clone)]
pub struct Dissection {
    /// `perm[k]`: the unknown (0-based) eliminated k-th.
    pub perm: Vec<usize>,
    /// When the whole graph is connected and was split by a separator: the sizes of the two
    /// parts, which come first in `perm` (`perm[..a]`, `perm[a..a + b]`), the separator after
    /// them (`perm[a + b..]`). No edge joins the two parts.
    pub halves: Option<(usize, usize)>,
}

/// The nested dissection ordering of a pattern's graph, or `None` above `u32::MAX` unknowns.
pub fn nested_dissection_of(p: &Pattern) -> Option<Dissection> {
    if p.n > u32::MAX as usize {
        return None;
    }
    let g = Graph::from_symmetric_csc(p.n, p.col_ptr(), p.row_idx());
    Some(dissect(&g))
}

/// An undirected graph in adjacency-list form (no self-loops).
#[derive(Debug)]
pub struct Graph {
    ptr: Vec<usize>,
    adj: Vec<u32>,
}

impl Graph {
    /// The graph of a structurally symmetric CSC pattern (`n` columns), diagonal dropped.
    pub fn from_symmetric_csc(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Graph {
        let mut ptr = Vec::with_capacity(n + 1);
        let mut adj = Vec::with_capacity(row_idx.len());
        ptr.push(0);
        for c in 0..n {
            for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
                if r != c {
                    adj.push(r as u32);
                }
            }
            ptr.push(adj.len());
        }
        Graph { ptr, adj }
    }

    fn n(&self) -> usize {
        self.ptr.len() - 1
    }

    fn neighbours(&self, v: usize) -> impl Iterator<Item = usize> + '_ {
        self.adj[self.ptr[v]..self.ptr[v + 1]]
            .iter()
            .map(|&u| u as usize)
    }
}

/// Parts of at most this many vertices are not dissected further. Measured on the 316 × 316
/// grid of the scale mesh (AMD: 4.24 million factor entries, 5.7e8 multiply-adds, 50,095
/// supernodes): leaves of 4, 8 and 16 vertices give 3.45, 3.78 and 4.28 million entries,
/// 3.6e8, 3.7e8 and 3.8e8 multiply-adds, and 39,900, 21,167 and 11,310 supernodes. 8 keeps
/// the entries below AMD's without doubling the supernodes, whose set-up dominates small ones'
/// factorization (faer's numeric factorization took 0.48 and 0.70 of AMD's time in two runs).
const LEAF: usize = 8;

/// A nested dissection ordering: `perm[k]` is the vertex eliminated k-th. Each connected part
/// larger than [`LEAF`] is split by a separator: the vertices of one BFS level (from a
/// pseudo-peripheral vertex) that touch the next level. The first split takes the middle
/// level; the later ones the smallest level with at least a quarter of the part on either
/// side (on the 316 × 316 grid, 3.7e8 multiply-adds and 3.78 million entries against 4.1e8
/// and 4.17 million with middle levels throughout). Both parts come first, in turn dissected,
/// the separator last. Leaves keep BFS order.
pub fn nested_dissection(g: &Graph) -> Vec<usize> {
    dissect(g).perm
}

/// [`nested_dissection`] with its first split.
pub fn dissect(g: &Graph) -> Dissection {
    let n = g.n();
    let mut perm = vec![usize::MAX; n];
    // part[v]: the id of the part v currently belongs to; only vertices of the same part are
    // visited by a BFS
    let mut part = vec![0u32; n];
    let mut next_part = 1u32;
    let mut first = true;
    let mut halves = None;
    let mut level = vec![u32::MAX; n];
    let mut queue: Vec<usize> = Vec::with_capacity(n);
    // work: (part id, its vertices, first position in perm)
    let mut work: Vec<(u32, Vec<usize>, usize)> = vec![(0, (0..n).collect(), 0)];
    while let Some((id, verts, start)) = work.pop() {
        if verts.len() <= LEAF {
            // one BFS sweep per component keeps neighbours close
            let mut k = start;
            for &s in &verts {
                if level[s] != u32::MAX && part[s] == id {
                    continue;
                }
                bfs(g, &part, id, s, &mut level, &mut queue);
                for &v in &queue {
                    perm[k] = v;
                    k += 1;
                }
            }
            for &v in &verts {
                level[v] = u32::MAX;
            }
            debug_assert_eq!(k, start + verts.len());
            continue;
        }
        // the component of the first vertex; the rest of the part is handled as its own part
        let root = pseudo_peripheral(g, &part, id, verts[0], &mut level, &mut queue);
        let depth = bfs(g, &part, id, root, &mut level, &mut queue);
        let comp: Vec<usize> = queue.clone();
        if comp.len() < verts.len() {
            // split off the other components
            let rest_id = next_part;
            next_part += 1;
            let rest: Vec<usize> = verts
                .iter()
                .copied()
                .filter(|&v| level[v] == u32::MAX)
                .collect();
            for &v in &rest {
                part[v] = rest_id;
            }
            for &v in &comp {
                level[v] = u32::MAX;
            }
            work.push((id, comp, start));
            let rs = start + verts.len() - rest.len();
            work.push((rest_id, rest, rs));
            continue;
        }
        if depth < 3 {
            // too shallow to separate: a leaf in effect
            for (k, &v) in comp.iter().enumerate() {
                perm[start + k] = v;
                level[v] = u32::MAX;
            }
            continue;
        }
        // the middle level: where the count of vertices reaches half
        let mut counts = vec![0usize; depth];
        for &v in &comp {
            counts[level[v] as usize] += 1;
        }
        // the separator level: the middle one for the first split (two halves of equal size,
        // which the solver's two-thread substitution takes apart), below it the smallest
        // level that leaves at least a quarter of the part on either side
        let half = comp.len() / 2;
        let mut acc = 0;
        let mut mid = 1;
        for (l, &c) in counts.iter().enumerate() {
            acc += c;
            if acc >= half {
                mid = l.clamp(1, depth - 2);
                break;
            }
        }
        if !first {
            let quarter = comp.len().div_ceil(4);
            let mut before = counts[0];
            for l in 1..depth - 1 {
                let after = comp.len() - before - counts[l];
                if before >= quarter && after >= quarter && counts[l] < counts[mid] {
                    mid = l;
                }
                before += counts[l];
            }
        }
        let top = first && comp.len() == n;
        first = false;
        let mid = mid as u32;
        let (a_id, b_id) = (next_part, next_part + 1);
        next_part += 2;
        let mut a = Vec::new();
        let mut b = Vec::new();
        let mut sep = Vec::new();
        for &v in &comp {
            let l = level[v];
            if l < mid {
                a.push(v);
            } else if l > mid {
                b.push(v);
            } else if g
                .neighbours(v)
                .any(|u| part[u] == id && level[u] == mid + 1)
            {
                sep.push(v);
            } else {
                a.push(v);
            }
        }
        for &v in &comp {
            level[v] = u32::MAX;
        }
        for &v in &a {
            part[v] = a_id;
        }
        for &v in &b {
            part[v] = b_id;
        }
        if top {
            halves = Some((a.len(), b.len()));
        }
        let sep_start = start + a.len() + b.len();
        for (k, &v) in sep.iter().enumerate() {
            perm[sep_start + k] = v;
            part[v] = u32::MAX;
        }
        let b_start = start + a.len();
        work.push((a_id, a, start));
        work.push((b_id, b, b_start));
    }
    debug_assert!(perm.iter().all(|&v| v < n));
    Dissection { perm, halves }
}

/// Breadth-first search from `s` within part `id`: `queue` holds the visited vertices in
/// order, `level` their distance (it must be `u32::MAX` for the part beforehand; the caller
/// resets it). Returns the number of levels.
fn bfs(
    g: &Graph,
    part: &[u32],
    id: u32,
    s: usize,
    level: &mut [u32],
    queue: &mut Vec<usize>,
) -> usize {
    queue.clear();
    queue.push(s);
    level[s] = 0;
    let mut head = 0;
    let mut depth = 0;
    while head < queue.len() {
        let v = queue[head];
        head += 1;
        let lv = level[v];
        depth = depth.max(lv as usize + 1);
        for u in g.neighbours(v) {
            if part[u] == id && level[u] == u32::MAX {
                level[u] = lv + 1;
                queue.push(u);
            }
        }
    }
    depth
}

/// A pseudo-peripheral vertex of `s`'s component (Gibbs–Poole–Stockmeyer): BFS again from a
/// vertex of least degree in the last level while the eccentricity grows. `level` is left
/// reset.
fn pseudo_peripheral(
    g: &Graph,
    part: &[u32],
    id: u32,
    s: usize,
    level: &mut [u32],
    queue: &mut Vec<usize>,
) -> usize {
    let mut root = s;
    let mut depth = bfs(g, part, id, root, level, queue);
    for _ in 0..8 {
        let last = depth as u32 - 1;
        let cand = queue
            .iter()
            .rev()
            .take_while(|&&v| level[v] == last)
            .copied()
            .min_by_key(|&v| g.neighbours(v).filter(|&u| part[u] == id).count())
            .unwrap_or(root);
        for &v in queue.iter() {
            level[v] = u32::MAX;
        }
        let d = bfs(g, part, id, cand, level, queue);
        if d <= depth {
            for &v in queue.iter() {
                level[v] = u32::MAX;
            }
            return root;
        }
        root = cand;
        depth = d;
    }
    for &v in queue.iter() {
        level[v] = u32::MAX;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The graph of an edge list on `n` vertices (both directions, duplicates and loops
    /// dropped).
    fn graph(n: usize, edges: &[(usize, usize)]) -> Graph {
        let mut adj = vec![Vec::new(); n];
        for &(a, b) in edges {
            if a != b {
                adj[a].push(b as u32);
                adj[b].push(a as u32);
            }
        }
        let mut ptr = vec![0];
        let mut flat = Vec::new();
        for mut l in adj {
            l.sort_unstable();
            l.dedup();
            flat.extend(l);
            ptr.push(flat.len());
        }
        Graph { ptr, adj: flat }
    }

    fn grid_edges(side: usize) -> Vec<(usize, usize)> {
        let mut e = Vec::new();
        for r in 0..side {
            for c in 0..side {
                if c + 1 < side {
                    e.push((r * side + c, r * side + c + 1));
                }
                if r + 1 < side {
                    e.push((r * side + c, (r + 1) * side + c));
                }
            }
        }
        e
    }

    fn assert_permutation(perm: &[usize], n: usize) {
        assert_eq!(perm.len(), n);
        let mut seen = vec![false; n];
        for &v in perm {
            assert!(v < n && !seen[v], "vertex {v} repeated or out of range");
            seen[v] = true;
        }
    }

    /// The top separator is ordered last: on a grid, the vertices before it fall apart into
    /// separate parts, and it is no longer than about one side (a BFS order, or any order
    /// whose prefixes stay connected, fails this).
    #[test]
    fn grid_ordering_is_a_dissection() {
        let side = 40;
        let n = side * side;
        let g = graph(n, &grid_edges(side));
        let perm = nested_dissection(&g);
        assert_permutation(&perm, n);
        let mut pos = vec![0; n];
        for (k, &v) in perm.iter().enumerate() {
            pos[v] = k;
        }
        // the longest prefix of the order that is disconnected: what precedes the separator
        let mut sep_start = n;
        for k in (n / 2..n).rev() {
            let before: Vec<bool> = (0..n).map(|v| pos[v] < k).collect();
            if components(&g, &before) >= 2 {
                sep_start = k;
                break;
            }
        }
        assert!(sep_start < n, "no separator found");
        let sep = n - sep_start;
        assert!(
            sep <= 2 * side,
            "top separator of {sep} vertices on a {side} × {side} grid"
        );
    }

    /// Connected components of the vertices marked `keep`.
    fn components(g: &Graph, keep: &[bool]) -> usize {
        let n = g.n();
        let mut seen = vec![false; n];
        let mut count = 0;
        for s in 0..n {
            if !keep[s] || seen[s] {
                continue;
            }
            count += 1;
            let mut stack = vec![s];
            seen[s] = true;
            while let Some(v) = stack.pop() {
                for u in g.neighbours(v) {
                    if keep[u] && !seen[u] {
                        seen[u] = true;
                        stack.push(u);
                    }
                }
            }
        }
        count
    }

    #[test]
    fn special_graphs() {
        // empty, one vertex, isolated vertices, a star, a clique (too shallow to dissect)
        assert!(nested_dissection(&graph(0, &[])).is_empty());
        assert_permutation(&nested_dissection(&graph(1, &[])), 1);
        assert_permutation(&nested_dissection(&graph(500, &[])), 500);
        let star: Vec<_> = (1..300).map(|v| (0, v)).collect();
        assert_permutation(&nested_dissection(&graph(300, &star)), 300);
        let clique: Vec<_> = (0..70)
            .flat_map(|a| (a + 1..70).map(move |b| (a, b)))
            .collect();
        assert_permutation(&nested_dissection(&graph(70, &clique)), 70);
        let path: Vec<_> = (1..1000).map(|v| (v - 1, v)).collect();
        assert_permutation(&nested_dissection(&graph(1000, &path)), 1000);
    }

    proptest! {
        /// Any graph, connected or not: every vertex is ordered exactly once.
        #[test]
        fn ordering_is_a_permutation(
            n in 1usize..400,
            raw in proptest::collection::vec((0usize..400, 0usize..400), 0..1200),
        ) {
            let edges: Vec<_> = raw.into_iter().map(|(a, b)| (a % n, b % n)).collect();
            let g = graph(n, &edges);
            assert_permutation(&nested_dissection(&g), n);
        }
    }
}
