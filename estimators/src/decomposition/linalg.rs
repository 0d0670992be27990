//! The small dense algebra PCA does on the host, always in f64 (through `faer`): symmetric
//! eigendecompositions of d x d and l x l matrices and the SVD of a thin l x d matrix; and the
//! Cholesky factor and its inverse GaussianMixture and LinearDiscriminantAnalysis use.

use crate::error::{EstimatorError, Result};
use ndarray::{Array1, Array2};

/// Eigenvalues of the symmetric matrix `a` in descending order and the matching unit
/// eigenvectors as the columns of the second output.
///
/// # Errors
/// [`EstimatorError::Linalg`] when the eigensolver does not converge (NaN input).
pub fn eigh_descending(a: &Array2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let n = a.nrows();
    let m = faer::Mat::<f64>::from_fn(n, n, |i, j| a[[i, j]]);
    let evd = m
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| EstimatorError::Linalg(format!("symmetric eigendecomposition: {e:?}")))?;
    let (s, u) = (evd.S().column_vector(), evd.U());
    // faer sorts ascending; scikit-learn flips eigh's output to descending.
    let values = Array1::from_shape_fn(n, |i| s[n - 1 - i]);
    let vectors = Array2::from_shape_fn((n, n), |(i, j)| u[(i, n - 1 - j)]);
    Ok((values, vectors))
}

/// The singular values (descending) and right singular vectors (as rows) of `b` (r x d).
///
/// # Errors
/// [`EstimatorError::Linalg`] when the SVD does not converge.
pub fn svd_right(b: &Array2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let (r, d) = b.dim();
    let m = faer::Mat::<f64>::from_fn(r, d, |i, j| b[[i, j]]);
    let svd = m.thin_svd().map_err(|e| EstimatorError::Linalg(format!("singular value decomposition: {e:?}")))?;
    let (s, v) = (svd.S().column_vector(), svd.V());
    let k = r.min(d);
    Ok((Array1::from_shape_fn(k, |i| s[i]), Array2::from_shape_fn((k, d), |(i, j)| v[(j, i)])))
}

/// The thin SVD of `a` (m x n): `U` (m x k), the singular values (descending) and `V^T`
/// (k x n), `k = min(m, n)`, as scipy's `svd(full_matrices=False)` returns them.
///
/// # Errors
/// [`EstimatorError::Linalg`] when the SVD does not converge.
pub fn svd(a: &Array2<f64>) -> Result<(Array2<f64>, Array1<f64>, Array2<f64>)> {
    let (m, n) = a.dim();
    let mat = faer::Mat::<f64>::from_fn(m, n, |i, j| a[[i, j]]);
    let svd = mat.thin_svd().map_err(|e| EstimatorError::Linalg(format!("singular value decomposition: {e:?}")))?;
    let (s, u, v) = (svd.S().column_vector(), svd.U(), svd.V());
    let k = m.min(n);
    Ok((
        Array2::from_shape_fn((m, k), |(i, j)| u[(i, j)]),
        Array1::from_shape_fn(k, |i| s[i]),
        Array2::from_shape_fn((k, n), |(i, j)| v[(j, i)]),
    ))
}

/// The lower Cholesky factor of the symmetric `a`, or `None` when it is not positive definite.
pub fn cholesky(a: &Array2<f64>) -> Option<Array2<f64>> {
    let d = a.nrows();
    let m = faer::Mat::<f64>::from_fn(d, d, |i, j| a[[i, j]]);
    let llt = m.llt(faer::Side::Lower).ok()?;
    let l = llt.L();
    let out = Array2::from_shape_fn((d, d), |(i, j)| if j <= i { l[(i, j)] } else { 0.0 });
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// `solve(L, I)^T` for a lower-triangular `L`: the upper-triangular precision Cholesky factor
/// scikit-learn keeps (GaussianMixture); its transpose `L^-1` whitens a generalized
/// eigenproblem (LinearDiscriminantAnalysis's eigen solver).
pub fn inverse_lower_transposed(l: &Array2<f64>) -> Array2<f64> {
    let d = l.nrows();
    let mut inv = Array2::<f64>::zeros((d, d));
    for col in 0..d {
        for i in col..d {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for m in col..i {
                s -= l[[i, m]] * inv[[m, col]];
            }
            inv[[i, col]] = s / l[[i, i]];
        }
    }
    inv.reversed_axes()
}

/// scikit-learn's `svd_flip(u_based_decision=False)`: each row of `vt` is negated where needed
/// so that its entry of largest absolute value (the first such on ties) is positive.
pub fn svd_flip_rows(vt: &mut Array2<f64>) {
    for mut row in vt.rows_mut() {
        let mut best = 0;
        for (j, v) in row.iter().enumerate() {
            if v.abs() > row[best].abs() {
                best = j;
            }
        }
        if row[best] < 0.0 {
            row.mapv_inplace(|v| -v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn eigh_is_descending_and_reconstructs() {
        let a = array![[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]];
        let (w, v) = eigh_descending(&a).unwrap();
        assert!(w[0] >= w[1] && w[1] >= w[2]);
        let back = v.dot(&Array2::from_diag(&w)).dot(&v.t());
        assert!((back - &a).iter().all(|e| e.abs() < 1e-12));
    }

    #[test]
    fn svd_right_singular_vectors() {
        let b = array![[3.0, 0.0, 4.0], [0.0, 2.0, 0.0]];
        let (s, vt) = svd_right(&b).unwrap();
        assert!((s[0] - 5.0).abs() < 1e-12 && (s[1] - 2.0).abs() < 1e-12);
        assert!((vt[[0, 0]].abs() - 0.6).abs() < 1e-12 && (vt[[1, 1]].abs() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn flip_makes_the_largest_entry_positive() {
        let mut vt = array![[0.1, -0.9, 0.3], [0.5, 0.5, -0.2]];
        svd_flip_rows(&mut vt);
        assert_eq!(vt.row(0).to_vec(), vec![-0.1, 0.9, -0.3]);
        assert_eq!(vt.row(1).to_vec(), vec![0.5, 0.5, -0.2], "ties go to the first entry");
    }
}
