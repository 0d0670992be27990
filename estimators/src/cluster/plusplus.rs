//! Greedy k-means++ seeding as scikit-learn runs it (`_kmeans_plusplus`): the first center is a
//! uniformly drawn point; each next one is the best of `2 + ln(k)` candidates drawn with
//! probability proportional to their squared distance to the nearest center so far, "best"
//! meaning the lowest potential (summed squared distances) once it is added.
//!
//! One kernel per center computes every candidate's distances to all points, clipped by the
//! current nearest distances, and their potentials; the cumulative sum and the draws are on the
//! host (n floats per center).
//!
//! With sample weights (scikit-learn 1.9's `sample_weight`) the first center is drawn with
//! probability proportional to its weight, the candidates proportionally to weight times
//! squared distance, and the potentials are weighted sums.

use crate::data::{Matrix, Storage};
use crate::datasets::{Real, Xoshiro256};
use crate::error::Result;
use crate::random_state::RandomState;
use kiln_macros::kernel;
use ndarray::{Array1, Array2, Ix1, Ix2};

/// Rows `idx` of `x`.
#[kernel(crate = kiln_runtime)]
fn gather_rows<F: Float>(x: Array2<F>, idx: Array1<i64>) -> Array2<F> {
    let (_, d) = x.dim();
    let m = idx.len();
    Array2::from_shape_fn((m, d), |(i, j)| x[[idx[i], j]])
}

/// For each candidate (row of `cand`): the squared distance of every point to its nearest
/// center if the candidate were added, and the potential (their sum).
#[kernel(crate = kiln_runtime)]
fn candidate_potentials<F: Float>(x: Array2<F>, cand: Array2<F>, closest: Array1<F>) -> (Array2<F>, Array1<F>) {
    let (n, d) = x.dim();
    let (t, _) = cand.dim();
    let dist = Array2::from_shape_fn((t, n), |(j, i)| sum(0..d, |l| (x[[i, l]] - cand[[j, l]]).powi(2)));
    let clipped = dist.min(&closest);
    (clipped, clipped.sum_axis(Axis(1)))
}

/// [`candidate_potentials`] with sample weights: the potentials are `sum_i w_i clipped_i`.
#[kernel(crate = kiln_runtime)]
fn candidate_potentials_weighted<F: Float>(
    x: Array2<F>,
    cand: Array2<F>,
    closest: Array1<F>,
    w: Array1<F>,
) -> (Array2<F>, Array1<F>) {
    let (n, d) = x.dim();
    let (t, _) = cand.dim();
    let dist = Array2::from_shape_fn((t, n), |(j, i)| sum(0..d, |l| (x[[i, l]] - cand[[j, l]]).powi(2)));
    let clipped = dist.min(&closest);
    (clipped, (&clipped * &w).sum_axis(Axis(1)))
}

/// The random draws of k-means++: the first center's index among `n` rows, and uniform values
/// in [0, 1) for the candidates.
pub(crate) trait Draws {
    /// The first center, uniformly among `0..n`.
    fn first(&mut self, n: usize) -> usize;
    /// A uniform value in [0, 1).
    fn uniform(&mut self) -> f64;
    /// The first center with probability proportional to its weight `w` (numpy's `choice(n,
    /// p=w / w.sum())`: one uniform value searched in the normalized cumulative sum).
    fn first_weighted(&mut self, w: &[f64]) -> usize {
        let mut cdf = Vec::with_capacity(w.len());
        let mut acc = 0.0f64;
        for v in w {
            acc += v;
            cdf.push(acc);
        }
        let u = self.uniform();
        cdf.partition_point(|&c| c / acc <= u).min(w.len().saturating_sub(1))
    }
}

impl Draws for Xoshiro256 {
    fn first(&mut self, n: usize) -> usize {
        self.below(n)
    }
    fn uniform(&mut self) -> f64 {
        Xoshiro256::uniform(self)
    }
}

/// scikit-learn's draws: `random_state.choice(n, p=w / w.sum())` with unit weights of X's dtype
/// `F` for the first center (numpy's legacy `choice`: the cumulative sum of `p` in f64,
/// normalized by its last value, searched on the right for one `random_sample`), then
/// `random_state.uniform` for the candidates.
pub(crate) struct NumpyDraws<'a, F> {
    /// The generator (scikit-learn's `random_state`).
    pub(crate) rng: &'a mut RandomState,
    /// X's element type, which the sample weights have.
    pub(crate) _f: std::marker::PhantomData<F>,
}

impl<F: Real> Draws for NumpyDraws<'_, F> {
    fn first(&mut self, n: usize) -> usize {
        // `w / w.sum()` in F (sums and quotients of F values done in f64 and rounded are F's).
        let total = (0..n).fold(F::from_f64(0.0), |a, _| F::from_f64(a.to_f64() + 1.0));
        let p = F::from_f64(1.0 / total.to_f64()).to_f64();
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0f64;
        for _ in 0..n {
            acc += p;
            cdf.push(acc);
        }
        let last = acc;
        let u = self.rng.random_sample();
        cdf.partition_point(|&c| c / last <= u).min(n - 1)
    }
    fn uniform(&mut self) -> f64 {
        self.rng.random_sample()
    }
}

/// The rows `ids` of `x`, on the host (k x d): the `"random"` initial centers.
pub(crate) fn rows_of<F: Real, X: Matrix<F>>(x: &X, ids: &[usize]) -> Result<Array2<F>> {
    let idx = X::Storage::vec_from_host(ids.iter().map(|&i| i as i64).collect::<Array1<i64>>(), x.device())?;
    Ok(gather_rows::tensors::<F>(x.arg(), X::Storage::vec_arg(&idx))?.to_array::<Ix2>()?)
}

/// `k` initial centers (host, k x d) chosen from the rows of `x` by greedy k-means++, and
/// the chosen rows' indices.
pub(crate) fn kmeans_plusplus<F: Real, X: Matrix<F>>(
    x: &X,
    k: usize,
    rng: &mut impl Draws,
) -> Result<(Array2<F>, Vec<usize>)> {
    kmeans_plusplus_weighted(x, k, rng, None)
}

/// [`kmeans_plusplus`] with sample weights `w` (host, one per row), or none.
pub(crate) fn kmeans_plusplus_weighted<F: Real, X: Matrix<F>>(
    x: &X,
    k: usize,
    rng: &mut impl Draws,
    w: Option<&Array1<F>>,
) -> Result<(Array2<F>, Vec<usize>)> {
    let device = x.device();
    let n = x.dims()?.0;
    let trials = 2 + (k as f64).ln() as usize;
    let w_dev = w.map(|w| X::Storage::vec_from_host(w.clone(), device)).transpose()?;
    let wf: Option<Vec<f64>> = w.map(|w| w.iter().map(|v| v.to_f64()).collect());
    // Evaluate candidates `ids` against the current nearest distances.
    let evaluate = |ids: &[usize], closest: Array1<F>| -> Result<(Array2<F>, Array1<F>)> {
        let idx = X::Storage::vec_from_host(ids.iter().map(|&i| i as i64).collect::<Array1<i64>>(), device)?;
        let cand = X::Storage::mat(gather_rows::tensors::<F>(x.arg(), X::Storage::vec_arg(&idx))?)?;
        let closest = X::Storage::vec_from_host(closest, device)?;
        let (dist, pots) = match &w_dev {
            Some(wd) => candidate_potentials_weighted::tensors::<F>(
                x.arg(),
                X::Storage::mat_arg(&cand),
                X::Storage::vec_arg(&closest),
                X::Storage::vec_arg(wd),
            )?,
            None => {
                candidate_potentials::tensors::<F>(x.arg(), X::Storage::mat_arg(&cand), X::Storage::vec_arg(&closest))?
            }
        };
        Ok((dist.to_array::<Ix2>()?, pots.to_array::<Ix1>()?))
    };

    // Equal weights draw the first center uniformly: the unweighted draw, so that unit weights
    // give the unweighted run (as scikit-learn's `choice` does with equal `p`).
    let first = match &wf {
        Some(wf) if wf.iter().any(|&v| v != wf[0]) => rng.first_weighted(wf),
        _ => rng.first(n),
    };
    let mut chosen = vec![first];
    let (dist, pots) = evaluate(&[first], Array1::from_elem(n, F::from_f64(f64::INFINITY)))?;
    let mut closest = dist.row(0).to_owned();
    let mut potential = pots[0].to_f64();
    for _ in 1..k {
        // Draw candidates with probability proportional to their squared distance.
        let mut cumsum = Vec::with_capacity(n);
        let mut acc = 0.0f64;
        for (i, v) in closest.iter().enumerate() {
            acc += v.to_f64() * wf.as_ref().map_or(1.0, |w| w[i]);
            cumsum.push(acc);
        }
        let ids: Vec<usize> = (0..trials)
            .map(|_| {
                let r = rng.uniform() * potential;
                cumsum.partition_point(|&c| c < r).min(n - 1)
            })
            .collect();
        let (dist, pots) = evaluate(&ids, closest)?;
        let best = (0..ids.len()).fold(0, |b, j| if pots[j].to_f64() < pots[b].to_f64() { j } else { b });
        potential = pots[best].to_f64();
        closest = dist.row(best).to_owned();
        chosen.push(ids[best]);
    }
    let idx = X::Storage::vec_from_host(chosen.iter().map(|&i| i as i64).collect::<Array1<i64>>(), device)?;
    Ok((gather_rows::tensors::<F>(x.arg(), X::Storage::vec_arg(&idx))?.to_array::<Ix2>()?, chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points of five well-separated groups (a fixed pattern), n x 5.
    fn groups(n: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, 5), |(i, j)| (i % 5) as f64 * 10.0 + ((i * 7 + j * 3) % 11) as f64 * 0.1)
    }

    /// Port of scikit-learn's `test_sample_weight_zero` (k-means++): a sample of weight 0 is
    /// never chosen as a center.
    #[test]
    fn test_sample_weight_zero() {
        let x = groups(100);
        for seed in 0..5u64 {
            let w: Array1<f64> = (0..100).map(|i| if i % 2 == 0 { 0.0 } else { 0.1 + (i % 7) as f64 }).collect();
            let mut rng = Xoshiro256::new(seed);
            let (_, ids) = kmeans_plusplus_weighted(&x, 10, &mut rng, Some(&w)).unwrap();
            assert!(ids.iter().all(|&i| w[i] > 0.0), "seed {seed}: {ids:?}");
        }
    }

    /// Port of scikit-learn's `test_sample_weight_init` (k-means++): the weights change the
    /// seeding; unit weights give the unweighted seeding.
    #[test]
    fn test_sample_weight_init() {
        let x = groups(200);
        let w: Array1<f64> = (0..200).map(|i| ((i * 37) % 101) as f64 / 100.0 + 0.01).collect();
        let run = |w: Option<&Array1<f64>>| kmeans_plusplus_weighted(&x, 5, &mut Xoshiro256::new(3), w).unwrap().1;
        assert_ne!(run(Some(&w)), run(None));
        assert_eq!(run(Some(&Array1::ones(200))), run(None));
    }
}
