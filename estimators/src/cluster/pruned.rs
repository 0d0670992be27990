//! The CPU's Elkan-style pruning of the Lloyd step, a named optimization of the CPU only:
//! bounds, kept across iterations, that prove a centre cannot be the nearest for any row of a
//! panel, so its distances to that panel are not computed (Elkan's lower bounds, per panel of
//! rows instead of per row). The labels are bitwise the dense kernel's (below), so it changes
//! the time, never the result.
//!
//! Why the CPU only: the bounds live on the host and are updated there between kernel calls
//! (in f64, per panel), and the grouped copy of X is made from host memory
//! ([`super::panels`]). On a device X stays in device memory and every iteration is one dense
//! launch ([`super::lloyd::labels`]); pruning there would need the bounds as kernels and the
//! copy made on the device, and a masked lane of a GPU warp costs about what it skips.
//!
//! X is copied once into panels of [`PANEL`] rows grouped by cluster (the first labels'),
//! so a panel's rows are near the same centres. For panel `b` and centre `j` the state holds
//!
//! * `lb[b, j]`: no row of the panel is nearer than this to centre `j` (a refresh computes the
//!   distances of every row to every centre once; after that, each iteration subtracts how
//!   far centre `j` moved: the triangle inequality keeps it a lower bound);
//! * `ub[b]`: no row of the panel is farther than this from the centre it was labelled with
//!   (each iteration's kernel returns every row's distance to its nearest centre; the next
//!   iteration adds how far those centres moved).
//!
//! Centre `j` is skipped for the panel when `lb[b, j] > ub[b] + m`: every row is then nearer
//! its own centre than centre `j` by more than `m`, a margin that covers the rounding of the
//! kernel's scores (`||c||^2 - 2 x.c` in the data's float type; see [`score_error`]). So a
//! skipped centre's score would have been strictly larger than a computed one's, and the
//! masked kernel's labels are bitwise the dense kernel's: the same scores for the centres it
//! computes, `inf` for the others. A row's own centre is never skipped (its distance is at
//! most `ub[b]` and at least `lb[b, j]`).
//!
//! On scikit-learn's benchmark blobs (200k x 32, k = 16, 4 blobs) a panel keeps the ~4 centres
//! of its blob: ~25% of the distances are computed once the centres settle. Bounds are
//! refreshed when the fraction kept has grown by [`REFRESH`] since the last refresh (centres
//! that moved far loosen them).

use super::lloyd::PANEL;
use super::panels::{grouped_by_cluster, Grouped};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use kiln_macros::kernel;
use kiln_runtime::tensor_arg;
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis, Ix2, Ix3};
use rayon::prelude::*;

/// The nearest centre of every row of the panels, and its score, computing only the centres
/// `cand` allows for a panel (the others score `inf`). With `cand` all true this is
/// `panel_labels` plus the scores.
#[kernel(crate = kiln_runtime)]
fn pruned_panel_labels<F: Float>(xp: Array3<F>, c: Array2<F>, cand: Array2<bool>) -> (Array2<i64>, Array2<F>) {
    let (nb, d, w) = xp.dim();
    let (k, _) = c.dim();
    let cc = Array1::from_shape_fn(k, |j| sum(0..d, |l| c[[j, l]] * c[[j, l]]));
    let dist = Array3::from_shape_fn((nb, w, k), |(b, r, j)| {
        if cand[[b, j]] {
            cc[[j]] - 2.0 * sum(0..d, |l| xp[[b, l, r]] * c[[j, l]])
        } else {
            1.0 / 0.0
        }
    });
    (dist.argmin_axis(Axis(2)), dist.min_axis(Axis(2)))
}

/// Every row's score for every centre, `[b, j, r]` for row `r` of panel `b` (the rows are the
/// contiguous axis, as in the panels): the bounds' refresh.
#[kernel(crate = kiln_runtime)]
fn panel_scores<F: Float>(xp: Array3<F>, c: Array2<F>) -> Array3<F> {
    let (nb, d, w) = xp.dim();
    let (k, _) = c.dim();
    let cc = Array1::from_shape_fn(k, |j| sum(0..d, |l| c[[j, l]] * c[[j, l]]));
    Array3::from_shape_fn((nb, k, w), |(b, j, r)| cc[[j]] - 2.0 * sum(0..d, |l| xp[[b, l, r]] * c[[j, l]]))
}

/// How much the fraction of centres computed may grow from the last refresh before the
/// bounds are refreshed. A refresh costs about one unpruned iteration.
const REFRESH: f64 = 0.05;

/// The panels of X and the bounds (module doc).
pub(super) struct CpuElkan<F: Real> {
    /// X's rows in panels, grouped by cluster.
    xp: Array3<F>,
    /// `place[i]`: where row `i` of X is in the panels (`[place / PANEL, .., place % PANEL]`).
    place: Vec<usize>,
    /// The squared norm of the row at each place (f64, from the F values; zeros past n).
    xx: Vec<f64>,
    /// The largest of `xx`.
    xmax2: f64,
    /// The last call's centres (f64), which the bounds refer to, and the bound on its scores'
    /// rounding.
    at: Option<(Array2<f64>, f64)>,
    /// `lb[b, j]` (module doc); empty before the first refresh.
    lb: Array2<f64>,
    /// The last call's labels and scores, by place.
    last: Option<(Array2<i64>, Array2<F>)>,
    /// The fraction of (panel, centre) pairs computed right after the last refresh.
    fresh: f64,
    /// The fraction of (panel, centre) pairs the last call computed.
    pub(super) kept: f64,
}

impl<F: Real> CpuElkan<F> {
    /// The panels of `x` grouped by `labels` (one per row, in `0..k`), no bounds yet.
    pub(super) fn new(x: ArrayView2<'_, F>, labels: &Array1<i64>, k: usize) -> Result<Self> {
        // Grouped by cluster, written in X's order (see `panels`).
        let Grouped { panels: xp, place } = grouped_by_cluster(x, labels, k)?;
        let mut xx = vec![0.0f64; xp.len_of(Axis(0)) * PANEL];
        let panels = xp.as_slice().ok_or_else(|| EstimatorError::Shape("kmeans: panels not contiguous".into()))?;
        let size = (x.ncols() * PANEL).max(1);
        xx.par_chunks_mut(PANEL).zip(panels.par_chunks(size)).for_each(|(xx, panel)| {
            for column in panel.chunks(PANEL) {
                for (s, &v) in xx.iter_mut().zip(column) {
                    *s += v.to_f64() * v.to_f64();
                }
            }
        });
        let xmax2 = xx.iter().copied().fold(0.0, f64::max);
        Ok(CpuElkan { xp, place, xx, xmax2, at: None, lb: Array2::zeros((0, 0)), last: None, fresh: 1.0, kept: 1.0 })
    }

    /// The nearest centre of every row of X, in X's order: bitwise the dense kernel's labels.
    pub(super) fn labels(&mut self, c: &Array2<F>) -> Result<Array1<i64>> {
        let nb = self.xp.len_of(Axis(0));
        let (k, d) = c.dim();
        let c64 = c.mapv(|v| v.to_f64());
        let cmax2 = c64.outer_iter().map(|r| r.dot(&r)).fold(0.0, f64::max);
        // Scores that may overflow the data's type (inf or NaN) prove nothing: an infinite
        // margin keeps every centre.
        let largest = self.xmax2 + cmax2 + 2.0 * (self.xmax2 * cmax2).sqrt();
        let e = match F::from_f64(4.0 * largest).to_f64().is_finite() {
            true => score_error(F::UNIT_ROUNDOFF, d, self.xmax2, cmax2),
            false => f64::INFINITY,
        };
        // The margin by which a skipped centre must be farther than a row's own: its squared
        // distance then exceeds the own one's by `m^2 >= 2 e`, more than both scores' rounding.
        let m = (2.0 * e).sqrt() * (1.0 + 1e-6);
        // Bounds carried over from the last call's centres, moved to these.
        let mut ub = vec![f64::INFINITY; nb];
        if let (Some((at, e_at)), Some((labels, scores))) = (&self.at, &self.last) {
            let drift: Vec<f64> = (0..k)
                .map(|j| {
                    let s: f64 = c64.row(j).iter().zip(at.row(j)).map(|(a, b)| (a - b) * (a - b)).sum();
                    s.sqrt() * (1.0 + 1e-12)
                })
                .collect();
            let fresh_rows = self.lb.nrows() == nb;
            if let Some(lb) = self.lb.as_slice_mut().filter(|_| fresh_rows) {
                lb.par_chunks_mut(k.max(1)).for_each(|lb| lb.iter_mut().zip(&drift).for_each(|(l, dj)| *l -= dj));
            }
            let slack = self.slack(cmax2);
            let (labels, scores) = (flat(labels)?, flat(scores)?);
            ub.par_iter_mut().enumerate().for_each(|(b, ub)| {
                let at = b * PANEL..(b + 1) * PANEL;
                let (mut q, mut moved) = (f64::NEG_INFINITY, 0.0f64);
                for ((&a, &s), &xx) in labels[at.clone()].iter().zip(&scores[at.clone()]).zip(&self.xx[at]) {
                    // Finite scores (above): plain comparisons, which vectorize.
                    let (v, da) = (s.to_f64() + xx, drift[a as usize]);
                    q = if v > q { v } else { q };
                    moved = if da > moved { da } else { moved };
                }
                *ub = (q + e_at + slack).max(0.0).sqrt() * (1.0 + 1e-12) + moved;
            });
        }
        let mut cand = Array2::from_elem((nb, k), true);
        let mut kept = 1.0;
        if self.lb.nrows() == nb {
            kept = self.candidates(&ub, m, &mut cand);
        }
        if self.lb.nrows() != nb || kept > self.fresh + REFRESH {
            self.refresh(c, e, cmax2, &mut ub)?;
            kept = self.candidates(&ub, m, &mut cand);
            self.fresh = kept;
        }
        self.kept = kept;
        if kiln_runtime::debug_level() >= 1 {
            tracing::info!("kmeans: {:.1}% of the panels' centre distances computed", 100.0 * kept);
        }
        let (labels, scores) =
            pruned_panel_labels::tensors::<F>(tensor_arg(&self.xp), tensor_arg(c), tensor_arg(&cand))?;
        let labels = labels.into_array::<Ix2>()?;
        let scores = scores.into_array::<Ix2>()?;
        let by_place = flat(&labels)?;
        let mut out = Array1::<i64>::zeros(self.place.len());
        let Some(slots) = out.as_slice_mut() else { unreachable!("a new array is contiguous") };
        slots.par_chunks_mut(1 << 14).zip(self.place.par_chunks(1 << 14)).for_each(|(slots, place)| {
            slots.iter_mut().zip(place).for_each(|(s, &p)| *s = by_place[p]);
        });
        self.at = Some((c64, e));
        self.last = Some((labels, scores));
        Ok(out)
    }

    /// Marks the centres each panel must compute (`cand`) and returns the fraction marked.
    fn candidates(&self, ub: &[f64], m: f64, cand: &mut Array2<bool>) -> f64 {
        let k = cand.ncols().max(1);
        let (Some(cand), Some(lb)) = (cand.as_slice_mut(), self.lb.as_slice()) else {
            unreachable!("new arrays are contiguous")
        };
        cand.par_chunks_mut(k).zip(lb.par_chunks(k)).zip(ub).for_each(|((cand, lb), &ub)| {
            // Skipped only when `l > ub + m` is true: a NaN bound keeps the centre.
            cand.iter_mut()
                .zip(lb)
                .for_each(|(c, &l)| *c = l.partial_cmp(&(ub + m)) != Some(std::cmp::Ordering::Greater));
        });
        let kept = cand.iter().filter(|&&c| c).count();
        kept as f64 / cand.len().max(1) as f64
    }

    /// Exact bounds for the centres `c`: every row's score for every centre.
    fn refresh(&mut self, c: &Array2<F>, e: f64, cmax2: f64, ub: &mut [f64]) -> Result<()> {
        let nb = self.xp.len_of(Axis(0));
        let scores = panel_scores::tensors::<F>(tensor_arg(&self.xp), tensor_arg(c))?.into_array::<Ix3>()?;
        let k = scores.len_of(Axis(1));
        let slack = self.slack(cmax2);
        let mut lb = Array2::<f64>::zeros((nb, k));
        let (Some(lbs), Some(all)) = (lb.as_slice_mut(), scores.as_slice()) else {
            unreachable!("new arrays are contiguous")
        };
        let xx = &self.xx;
        lbs.par_chunks_mut(k.max(1))
            .zip(ub.par_iter_mut())
            .zip(all.par_chunks((k * PANEL).max(1)))
            .enumerate()
            .for_each(|(b, ((lb, ub), scores))| {
                let xx = &xx[b * PANEL..(b + 1) * PANEL];
                let mut own = [f64::INFINITY; PANEL];
                for (lb, row) in lb.iter_mut().zip(scores.chunks(PANEL)) {
                    let mut q = f64::INFINITY;
                    for ((&s, &xx), own) in row.iter().zip(xx).zip(&mut own) {
                        let v = s.to_f64() + xx;
                        q = q.min(v);
                        *own = own.min(v);
                    }
                    *lb = (q - e - slack).max(0.0).sqrt() * (1.0 - 1e-12);
                }
                let q = own.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                *ub = (q + e + slack).max(0.0).sqrt() * (1.0 + 1e-12);
            });
        self.lb = lb;
        Ok(())
    }

    /// An absolute allowance for the f64 arithmetic on squared distances (far above its
    /// rounding: squared norms and scores are summed in f64 from F values).
    fn slack(&self, cmax2: f64) -> f64 {
        1e-10 * (self.xmax2 + cmax2 + 1.0)
    }
}

/// A new array's elements, in order.
fn flat<T, D: ndarray::Dimension>(a: &ndarray::Array<T, D>) -> Result<&[T]> {
    a.as_slice().ok_or_else(|| EstimatorError::Shape("kmeans: a kernel's output is not contiguous".into()))
}

/// A bound on the rounding error of a score `||c||^2 - 2 x.c` computed in a float type of unit
/// roundoff `u` with `d` features, for rows of squared norm at most `xmax2` and centres of
/// squared norm at most `cmax2`: each of the two sums of `d` products is within
/// `gamma_d * sum |terms|` of its exact value (`gamma_m = m u / (1 - m u)`), the doubling is
/// exact and the subtraction rounds once: `gamma_(d+2) * (cmax2 + 2 |x| |c|)` covers all.
/// Infinite when `(d + 2) u >= 1` or the norms overflow, which keeps every centre.
fn score_error(u: f64, d: usize, xmax2: f64, cmax2: f64) -> f64 {
    let mu = (d as f64 + 2.0) * u;
    if mu >= 1.0 {
        return f64::INFINITY;
    }
    let gamma = mu / (1.0 - mu);
    gamma * (cmax2 + 2.0 * (xmax2 * cmax2).sqrt()) * (1.0 + 1e-6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_runtime::{with_device, Device};

    /// Every row's nearest centre by a plain loop in the data's type, the kernel's arithmetic
    /// (`||c||^2 - (x.c + x.c)`, each sum from zero in feature order), the first on ties.
    macro_rules! nearest_by_loop {
        ($t:ty, $x:expr, $c:expr) => {{
            let (x, c): (&Array2<$t>, &Array2<$t>) = ($x, $c);
            x.outer_iter()
                .map(|row| {
                    let mut best = (0i64, <$t>::INFINITY);
                    for (j, cj) in c.outer_iter().enumerate() {
                        let cc = cj.iter().fold(0.0 as $t, |a, v| a + v * v);
                        let dot = row.iter().zip(cj).fold(0.0 as $t, |a, (p, q)| a + p * q);
                        let s = cc - (dot + dot);
                        if s < best.1 {
                            best = (j as i64, s);
                        }
                    }
                    best.0
                })
                .collect::<Array1<i64>>()
        }};
    }

    /// Points around three far-apart centres (two clusters each), a few exact duplicates of
    /// other rows, and a sequence of centres: Lloyd's, with a centre thrown across the space
    /// halfway (its bounds must not keep it skipped).
    macro_rules! pruned_labels_are_the_dense_labels {
        ($name:ident, $t:ty) => {
            #[test]
            fn $name() {
                let (n, d, k) = (1000usize, 5usize, 6usize);
                let mut s = 0x2545_f491_4f6c_dd1du64;
                let mut unit = move || {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
                };
                let mut x = Array2::from_shape_fn((n, d), |(i, l)| {
                    let blob = (i * 7 % 3) as f64 * 40.0;
                    if i % 50 == 49 {
                        0.0
                    } else {
                        (blob + 6.0 * unit() + l as f64) as $t
                    }
                });
                for i in (0..n).step_by(97).skip(1) {
                    let row = x.row(i - 1).to_owned();
                    x.row_mut(i).assign(&row);
                }
                let c = Array2::from_shape_fn((k, d), |(j, l)| x[[j * 7 + 1, l]]);
                for device in [Device::Interp, Device::CudaSim, Device::Cpu] {
                    with_device(device, || {
                        let first = nearest_by_loop!($t, &x, &c);
                        let mut p = CpuElkan::<$t>::new(x.view(), &first, k).unwrap();
                        let mut kept = Vec::new();
                        let mut c = c.clone();
                        for step in 0..12 {
                            if step == 6 {
                                c.row_mut(2).fill(80.0);
                            }
                            // The reference: the same kernel computing every centre. On the
                            // interpreter it is the plain loop's arithmetic; the CPU may sum `||c||^2`
                            // in another order, the same in both kernels.
                            let all = Array2::from_elem((p.xp.len_of(Axis(0)), k), true);
                            let dense =
                                pruned_panel_labels::tensors::<$t>(tensor_arg(&p.xp), tensor_arg(&c), tensor_arg(&all));
                            let dense = dense.unwrap().0.into_array::<Ix2>().unwrap();
                            let want: Array1<i64> = p.place.iter().map(|&q| dense[[q / PANEL, q % PANEL]]).collect();
                            if device == Device::Interp {
                                assert_eq!(want, nearest_by_loop!($t, &x, &c), "step {step}: the interpreter");
                            }
                            let got = p.labels(&c).unwrap();
                            assert_eq!(got, want, "{device:?}, step {step}");
                            kept.push(p.kept);
                            // Lloyd's update, in f64.
                            let mut sums = Array2::<f64>::zeros((k, d));
                            let mut counts = vec![0usize; k];
                            for (row, &a) in x.outer_iter().zip(&want) {
                                counts[a as usize] += 1;
                                sums.row_mut(a as usize).zip_mut_with(&row, |s, &v| *s += v as f64);
                            }
                            for j in 0..k {
                                if counts[j] > 0 {
                                    c.row_mut(j).assign(&sums.row(j).mapv(|v| (v / counts[j] as f64) as $t));
                                }
                            }
                        }
                        // The first call refreshes the bounds: from then on each panel computes
                        // about the two centres of its blob.
                        assert!(kept.iter().all(|&f| f < 0.6), "{device:?}: fractions kept {kept:?}");
                    });
                }
            }
        };
    }

    pruned_labels_are_the_dense_labels!(pruned_labels_are_the_dense_labels_f32, f32);
    pruned_labels_are_the_dense_labels!(pruned_labels_are_the_dense_labels_f64, f64);

    #[test]
    fn the_panel_kernel_gives_a_plain_loops_labels_and_scores_on_every_device() {
        // 70 rows: two full panels and a part; halves, so every sum is exact in any order;
        // few distinct values, so ties (the first centre wins) are common.
        let x = Array2::from_shape_fn((70, 5), |(i, l)| ((i * 7 + l * 3) % 9) as f64 / 2.0 - 2.0);
        let c = Array2::from_shape_fn((4, 5), |(j, l)| ((j * 5 + l) % 7) as f64 / 2.0 - 1.5);
        let want = nearest_by_loop!(f64, &x, &c);
        let used: std::collections::HashSet<i64> = want.iter().copied().collect();
        assert!(used.len() >= 3, "the data should reach most centres: {want:?}");
        let score = |i: usize, j: usize| {
            let (row, cj) = (x.row(i), c.row(j));
            cj.dot(&cj) - 2.0 * row.dot(&cj)
        };
        let xp = crate::cluster::panels::panels_in_order(x.view(), PANEL, &(0..x.nrows()).collect::<Vec<_>>());
        let all = Array2::from_elem((xp.len_of(Axis(0)), 4), true);
        for device in [Device::Interp, Device::Cpu, Device::CudaSim] {
            with_device(device, || {
                let (labels, scores) =
                    pruned_panel_labels::tensors::<f64>(tensor_arg(&xp), tensor_arg(&c), tensor_arg(&all)).unwrap();
                let (labels, scores) = (labels.to_array::<Ix2>().unwrap(), scores.to_array::<Ix2>().unwrap());
                for i in 0..x.nrows() {
                    let (b, r) = (i / PANEL, i % PANEL);
                    assert_eq!(labels[[b, r]], want[i], "{device:?}: row {i}");
                    assert_eq!(scores[[b, r]], score(i, want[i] as usize), "{device:?}: row {i}");
                }
            });
        }
    }

    #[test]
    fn the_score_error_bound_gives_up_where_the_type_cannot_hold_the_sums() {
        assert!(score_error(f32::EPSILON as f64 / 2.0, 32, 1e4, 1e4) < 0.1);
        assert!(score_error(0.25, 4, 1.0, 1.0).is_infinite());
        assert!(score_error(f32::EPSILON as f64 / 2.0, 3, f64::INFINITY, 1.0).is_infinite());
    }
}
