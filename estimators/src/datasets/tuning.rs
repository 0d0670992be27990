//! The data of kiln's tuning workload (issue 18): the regression problem scikit-learn's
//! array-API example tunes a SplineTransformer -> Nystroem -> RidgeCV pipeline on.

use ndarray::{Array1, Array2};

use super::{Real, Xoshiro256};

/// `rows` samples of two features uniform on `[-pi, pi]`, and the target
/// `sin(2 x0) * cos(x1)^4` plus normal noise of standard deviation `0.3 cos(x1)^6 + 0.1`.
///
/// Seeded by `seed` ([`Xoshiro256`]'s stream, so values differ from numpy's for the same seed
/// while the distribution is the same). Values are drawn in f64 and rounded once to `F`.
///
/// ```
/// use kiln_estimators::datasets::make_tuning_data;
/// let (x, t) = make_tuning_data::<f32>(1000, 0);
/// assert_eq!((x.dim(), t.len()), ((1000, 2), 1000));
/// assert!(x.iter().all(|v| v.abs() <= std::f32::consts::PI));
/// ```
pub fn make_tuning_data<F: Real>(rows: usize, seed: u64) -> (Array2<F>, Array1<F>) {
    let mut rng = Xoshiro256::new(seed);
    let pi = std::f64::consts::PI;
    let mut xs = Vec::with_capacity(2 * rows);
    let mut ts = Vec::with_capacity(rows);
    for _ in 0..rows {
        let x0 = -pi + 2.0 * pi * rng.uniform();
        let x1 = -pi + 2.0 * pi * rng.uniform();
        let c = x1.cos();
        let std = 0.3 * c.powi(6) + 0.1;
        let noise = rng.normal() * std;
        xs.extend([x0, x1]);
        ts.push((2.0 * x0).sin() * c.powi(4) + noise);
    }
    let x = Array2::from_shape_fn((rows, 2), |(i, j)| F::from_f64(xs[2 * i + j]));
    let t = Array1::from_shape_fn(rows, |i| F::from_f64(ts[i]));
    (x, t)
}
