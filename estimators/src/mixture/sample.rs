//! `GaussianMixture::sample`: new samples drawn from the fitted mixture with numpy's legacy
//! `RandomState(seed)` as scikit-learn draws them: component counts by `multinomial`, then per
//! component `standard_normal` draws (row-major) scaled by the square root of its diagonal or
//! spherical covariance, or (full, tied) by numpy's `multivariate_normal` factor
//! `sqrt(s)[:, None] * v` of the covariance's SVD. The counts, labels, and the diagonal and
//! spherical samples are scikit-learn's numbers; for full and tied covariances the SVD's singular
//! vectors may differ from LAPACK's in sign, so the samples are the same standard normal draws
//! through an equally valid factor (the same Mahalanobis norm row by row), not the same numbers.
//! The draws are sequential host work, as numpy's are; the result is moved where the model lives.

use super::{CovarianceType, GaussianMixture};
use crate::data::{Mat, Storage, Vect};
use crate::datasets::Real;
use crate::error::{EstimatorError, Result};
use crate::random_state::RandomState;
use ndarray::{Array1, Array2, Ix2, Ix3};

impl<F: Real, S: Storage> GaussianMixture<F, S> {
    /// `n_samples` samples from the fitted mixture and the component of each (`sample`),
    /// grouped by component, drawn from `RandomState(seed)` (the fit's `seed`, so each call
    /// returns the same samples, as scikit-learn with an int `random_state`).
    ///
    /// # Errors
    /// `n_samples` 0 ("Invalid value for 'n_samples'"); a covariance whose SVD fails.
    pub fn sample(&self, n_samples: usize) -> Result<(Mat<S, F>, Vect<S, i64>)> {
        if n_samples < 1 {
            return Err(EstimatorError::InvalidParameter {
                estimator: "GaussianMixture",
                name: "n_samples",
                expected: "at least one sample".into(),
                got: format!("Invalid value for 'n_samples': {n_samples} . The sampling requires at least one sample."),
            });
        }
        let seed = u32::try_from(self.params.seed).map_err(|_| {
            EstimatorError::param(
                "GaussianMixture",
                "random_state",
                "an int in the range [0, 4294967295]",
                self.params.seed,
            )
        })?;
        let device = S::vec_device(&self.weights);
        let weights: Vec<f64> = S::vec_to_host(&self.weights)?.iter().map(|w| w.to_f64()).collect();
        let means = S::mat_to_host(&self.means)?.mapv(|v| v.to_f64());
        let (k, d) = means.dim();
        let cov = self.covariances.mapv(|v| v.to_f64());
        let mut rng = RandomState::new(seed);
        let counts = rng.multinomial(n_samples as i64, &weights);
        // Per component, the d x d factor A with x = z A + mean (full, tied), or the per-feature
        // scale (diag, spherical).
        let factor = |c: &Array2<f64>| -> Result<Array2<f64>> {
            let (_, s, vt) = crate::decomposition::linalg::svd(c)?;
            Ok(Array2::from_shape_fn((d, d), |(i, j)| s[i].max(0.0).sqrt() * vt[[i, j]]))
        };
        let (factors, scales): (Vec<Array2<f64>>, Vec<Array1<f64>>) = match self.params.covariance_type {
            CovarianceType::Full => {
                let c3 = cov.clone().into_dimensionality::<Ix3>().map_err(|e| EstimatorError::Shape(e.to_string()))?;
                let f =
                    (0..k).map(|j| factor(&c3.index_axis(ndarray::Axis(0), j).to_owned())).collect::<Result<_>>()?;
                (f, Vec::new())
            }
            CovarianceType::Tied => {
                let c2 = cov.clone().into_dimensionality::<Ix2>().map_err(|e| EstimatorError::Shape(e.to_string()))?;
                let f = factor(&c2)?;
                (vec![f; k], Vec::new())
            }
            CovarianceType::Diag => {
                let c2 = cov.clone().into_dimensionality::<Ix2>().map_err(|e| EstimatorError::Shape(e.to_string()))?;
                (Vec::new(), (0..k).map(|j| c2.row(j).mapv(f64::sqrt)).collect())
            }
            CovarianceType::Spherical => {
                let c1: Vec<f64> = cov.iter().copied().collect();
                (Vec::new(), (0..k).map(|j| Array1::from_elem(d, c1[j].sqrt())).collect())
            }
        };
        let mut x = Array2::<F>::from_elem((n_samples, d), F::from_f64(0.0));
        let mut y = Array1::<i64>::zeros(n_samples);
        let mut row = 0;
        for (j, &count) in counts.iter().enumerate() {
            for _ in 0..count {
                let z: Vec<f64> = (0..d).map(|_| rng.standard_normal()).collect();
                for f in 0..d {
                    let v = if factors.is_empty() {
                        means[[j, f]] + z[f] * scales[j][f]
                    } else {
                        (0..d).map(|i| z[i] * factors[j][[i, f]]).sum::<f64>() + means[[j, f]]
                    };
                    x[[row, f]] = F::from_f64(v);
                }
                y[row] = j as i64;
                row += 1;
            }
        }
        Ok((S::mat_from_host(x, device)?, S::vec_from_host(y, device)?))
    }
}
