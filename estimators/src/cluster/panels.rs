//! KMeans' copy of X in panels of rows grouped by cluster: the layout the CPU's pruned
//! distance kernel ([`super::pruned`]) reads.
//!
//! A panel of [`PANEL`] rows is stored column by column (element `[p, l]` of the grouped rows
//! is element `[p / PANEL, l, p % PANEL]` of the copy; the places past the last row hold
//! zeros), so the kernel's vector loop takes a panel's rows as lanes and reads one contiguous
//! block per panel. The rows of cluster 0 come first, then those of cluster 1, ..., each in
//! X's order, so a panel's rows share their nearest centres and its bounds prune well.
//!
//! The copy itself is [`kiln_runtime::repack::rows_to_panels_at`], which writes the rows in
//! X's order (one sequential read, one write stream per cluster); this module decides where
//! each row goes.

use super::lloyd::PANEL;
use crate::error::{EstimatorError, Result};
use ndarray::{Array1, Array3, ArrayView2};

/// X's rows grouped by cluster in panels of [`PANEL`] rows, and `place[i]`, where row `i` of X
/// is among the grouped rows (`[place / PANEL, .., place % PANEL]` of the panels).
pub(super) struct Grouped<F> {
    /// The panels, shape `(ceil(n / PANEL), d, PANEL)`.
    pub(super) panels: Array3<F>,
    /// Where each row of X is among the grouped rows.
    pub(super) place: Vec<usize>,
}

/// The panels of `x` grouped by `labels` (one per row, in `0..k`; module doc).
pub(super) fn grouped_by_cluster<F: Copy + Send + Sync + Default>(
    x: ArrayView2<'_, F>,
    labels: &Array1<i64>,
    k: usize,
) -> Result<Grouped<F>> {
    let n = x.nrows();
    if labels.len() != n || labels.iter().any(|&a| a < 0 || a as usize >= k) {
        return Err(EstimatorError::Shape(format!("kmeans: {} labels in 0..{k} for {n} rows", labels.len())));
    }
    // A counting sort: the rows of cluster 0, then of cluster 1, ..., each in X's order.
    let mut start = vec![0usize; k + 1];
    for &a in labels {
        start[a as usize + 1] += 1;
    }
    for j in 0..k {
        start[j + 1] += start[j];
    }
    let mut place = vec![0usize; n];
    for (i, &a) in labels.iter().enumerate() {
        let p = &mut start[a as usize];
        place[i] = *p;
        *p += 1;
    }
    let panels = kiln_runtime::repack::rows_to_panels_at(x, PANEL, &place);
    Ok(Grouped { panels, place })
}

/// `x`'s rows taken in `order`, in panels of `w` rows: element `[p / w, l, p % w]` of the
/// result is `x[order[p], l]`, and the places past `order.len()` hold zeros. The layout by its
/// definition, element by element: what the tests hold the copies and kernels to.
#[cfg(test)]
pub(super) fn panels_in_order<T: Copy + Default>(x: ArrayView2<'_, T>, w: usize, order: &[usize]) -> Array3<T> {
    Array3::from_shape_fn((order.len().div_ceil(w), x.ncols(), w), |(b, l, r)| {
        order.get(b * w + r).map_or_else(T::default, |&i| x[[i, l]])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn grouped_panels_hold_each_cluster_s_rows_in_x_order() {
        for (n, d, k) in [(0, 3, 2), (1, 2, 1), (9, 3, 3), (70, 5, 4), (300, 2, 16)] {
            let x = Array2::from_shape_fn((n, d), |(i, j)| (i * 10 + j + 1) as f32);
            let labels = Array1::from_shape_fn(n, |i| ((i * 7) % k) as i64);
            let g = grouped_by_cluster(x.view(), &labels, k).unwrap();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| labels[i]);
            assert_eq!(g.panels, panels_in_order(x.view(), PANEL, &order), "{n} x {d}, {k} clusters");
            // A strided view packs by its own strides.
            let t = x.t().to_owned();
            assert_eq!(grouped_by_cluster(t.t(), &labels, k).unwrap().panels, g.panels, "{n} x {d} strided");
            for (i, &p) in g.place.iter().enumerate() {
                assert_eq!(order[p], i, "row {i}");
            }
        }
    }

    #[test]
    fn labels_that_do_not_fit_are_refused() {
        let x = Array2::<f64>::zeros((3, 2));
        for bad in [vec![0, 1], vec![0, 1, 2], vec![0, -1, 1]] {
            let labels = Array1::from(bad.clone());
            assert!(grouped_by_cluster(x.view(), &labels, 2).is_err(), "{bad:?}");
        }
    }
}
