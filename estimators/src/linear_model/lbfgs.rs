//! A compact L-BFGS minimizer on the host (f64), with a strong-Wolfe line search.
//!
//! It plays the part scipy's L-BFGS-B plays for scikit-learn's `lbfgs` solver (without bounds):
//! the same memory (10 pairs), the same first step (`1 / ||d||`), the same line-search constants
//! (`c1 = 1e-3`, `c2 = 0.9`, `xtol = 0.1`, at most 50 evaluations) and the same stopping rules (`gtol` on the
//! largest gradient component, `ftol` on the relative decrease of the objective, `max_iter`).
//! Each evaluation is one call of the caller's objective (for logistic regression: one kernel
//! pass over X returning the loss and its gradient).
//!
//! When the objective is computed in f32 its values carry rounding noise long before its
//! gradient stops being informative, so the sufficient-decrease test accepts an increase of up
//! to `f_noise * |f|` (Hager and Zhang's approximate Wolfe condition); in f64 `f_noise` is 0 and
//! the test is the exact one.

use std::collections::VecDeque;

/// Sufficient-decrease constant (scipy's `dcsrch` `ftol`).
const C1: f64 = 1e-3;
/// Curvature constant (scipy's `dcsrch` `gtol`).
const C2: f64 = 0.9;
/// Relative width at which a bracketing interval is small enough (scipy's `dcsrch` `xtol`):
/// the search then ends with the best step that satisfies sufficient decrease.
const XTOL: f64 = 0.1;

/// How [`minimize`] runs and when it stops.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// At most this many iterations (each one line search).
    pub max_iter: usize,
    /// Stop when every gradient component is at most this in absolute value.
    pub gtol: f64,
    /// Stop when `(f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol` (0 disables the test).
    pub ftol: f64,
    /// Relative noise of the objective's values (0 for exact f64 evaluations).
    pub f_noise: f64,
    /// Relative precision of the parameters as the objective sees them: stop when a step changes
    /// no parameter by more than this fraction of its size.
    pub x_eps: f64,
    /// Number of correction pairs kept.
    pub memory: usize,
    /// Objective evaluations allowed per line search.
    pub max_ls: usize,
}

/// Why [`minimize`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The gradient is below `gtol`.
    Gradient,
    /// The objective no longer decreases by more than `ftol`.
    Decrease,
    /// `max_iter` iterations ran.
    MaxIter,
    /// No step along the search direction satisfies the line-search conditions, or steps no
    /// longer change the parameters at their precision.
    NoProgress,
}

/// The result of [`minimize`].
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    /// The minimizer found.
    pub x: Vec<f64>,
    /// Iterations run (scikit-learn's `n_iter_`).
    pub n_iter: usize,
    /// Why it stopped.
    pub stop: Stop,
}

/// A point with its objective value and gradient.
#[derive(Debug, Clone)]
struct Point {
    x: Vec<f64>,
    f: f64,
    g: Vec<f64>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| u * v).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Minimize `fg` (objective and gradient) from `x0`.
///
/// # Errors
/// Whatever `fg` returns.
pub(crate) fn minimize<E>(
    mut fg: impl FnMut(&[f64]) -> Result<(f64, Vec<f64>), E>,
    x0: Vec<f64>,
    opt: &Options,
) -> Result<Minimum, E> {
    let (f, g) = fg(&x0)?;
    let mut p = Point { x: x0, f, g };
    if max_abs(&p.g) <= opt.gtol {
        return Ok(Minimum { x: p.x, n_iter: 0, stop: Stop::Gradient });
    }
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(opt.memory);
    let mut stop = Stop::MaxIter;
    let mut n_iter = 0;
    while n_iter < opt.max_iter {
        let found = match search(&mut fg, &p, &pairs, n_iter == 0, opt)? {
            Some(q) => Some(q),
            // A stale curvature history can point the wrong way: retry once along -g.
            None if !pairs.is_empty() => {
                pairs.clear();
                search(&mut fg, &p, &pairs, true, opt)?
            }
            None => None,
        };
        let Some(q) = found else {
            stop = Stop::NoProgress;
            break;
        };
        n_iter += 1;
        let s: Vec<f64> = q.x.iter().zip(&p.x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = q.g.iter().zip(&p.g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        // Keep a pair only when it carries positive curvature (L-BFGS-B's own test).
        if sy > f64::EPSILON * dot(&y, &y) {
            if pairs.len() == opt.memory {
                pairs.pop_front();
            }
            pairs.push_back((s.clone(), y, 1.0 / sy));
        }
        let moved = s.iter().zip(&p.x).any(|(d, x)| d.abs() > opt.x_eps * x.abs().max(f64::MIN_POSITIVE));
        let decrease = p.f - q.f;
        let scale = p.f.abs().max(q.f.abs()).max(1.0);
        p = q;
        if max_abs(&p.g) <= opt.gtol {
            stop = Stop::Gradient;
            break;
        }
        if opt.ftol > 0.0 && decrease <= opt.ftol * scale {
            stop = Stop::Decrease;
            break;
        }
        if !moved {
            stop = Stop::NoProgress;
            break;
        }
    }
    Ok(Minimum { x: p.x, n_iter, stop })
}

/// One iteration's direction (two-loop recursion) and line search along it.
fn search<E>(
    fg: &mut impl FnMut(&[f64]) -> Result<(f64, Vec<f64>), E>,
    p: &Point,
    pairs: &VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    first: bool,
    opt: &Options,
) -> Result<Option<Point>, E> {
    let mut d = direction(&p.g, pairs);
    let mut dphi0 = dot(&d, &p.g);
    if dphi0.is_nan() || dphi0 >= 0.0 {
        d = p.g.iter().map(|v| -v).collect();
        dphi0 = -dot(&p.g, &p.g);
    }
    let alpha0 = if first || pairs.is_empty() { 1.0f64.min(1.0 / dot(&d, &d).sqrt()) } else { 1.0 };
    line_search(fg, p, &d, dphi0, alpha0, opt)
}

/// `-H g` with the inverse-Hessian approximation of the stored pairs.
fn direction(g: &[f64], pairs: &VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q: Vec<f64> = g.to_vec();
    let mut alphas = Vec::with_capacity(pairs.len());
    for (s, y, rho) in pairs.iter().rev() {
        let a = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
        alphas.push(a);
    }
    if let Some((s, y, _)) = pairs.back() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for ((s, y, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
        let b = rho * dot(y, &q);
        q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

/// A trial step: the point, and the directional derivative there.
struct Trial {
    a: f64,
    p: Point,
    dphi: f64,
}

/// Strong-Wolfe line search (Nocedal and Wright, algorithms 3.5 and 3.6, cubic interpolation).
/// `None` when no acceptable step was found within `max_ls` evaluations.
fn line_search<E>(
    fg: &mut impl FnMut(&[f64]) -> Result<(f64, Vec<f64>), E>,
    p: &Point,
    d: &[f64],
    dphi0: f64,
    alpha0: f64,
    opt: &Options,
) -> Result<Option<Point>, E> {
    let noise = opt.f_noise * p.f.abs();
    let mut evals = 0;
    let mut eval = |a: f64| -> Result<Trial, E> {
        let x: Vec<f64> = p.x.iter().zip(d).map(|(x, d)| x + a * d).collect();
        let (f, g) = fg(&x)?;
        let dphi = dot(&g, d);
        Ok(Trial { a, p: Point { x, f, g }, dphi })
    };
    let armijo = |t: &Trial| t.p.f.is_finite() && t.p.f <= p.f + C1 * t.a * dphi0 + noise;
    let curvature = |t: &Trial| t.dphi.abs() <= C2 * dphi0.abs();

    let mut prev = Trial { a: 0.0, p: p.clone(), dphi: dphi0 };
    let mut a = alpha0;
    // Bracketing: grow the step until it brackets an acceptable one.
    let (mut lo, mut hi) = loop {
        if evals == opt.max_ls {
            return Ok(None);
        }
        let t = eval(a)?;
        evals += 1;
        if !armijo(&t) || (evals > 1 && t.p.f >= prev.p.f + noise) {
            break (prev, t);
        }
        if curvature(&t) {
            return Ok(Some(t.p));
        }
        if t.dphi >= 0.0 {
            break (t, prev);
        }
        let grow = cubic_min(&prev, &t).filter(|&c| c > 1.1 * t.a && c < 4.0 * t.a).unwrap_or(4.0 * t.a);
        prev = t;
        a = grow;
    };
    // Zoom: shrink [lo, hi] (lo satisfies sufficient decrease) until a step satisfies both.
    while evals < opt.max_ls {
        let (l, h) = (lo.a.min(hi.a), lo.a.max(hi.a));
        let width = h - l;
        // scipy's XTOL test: once the bracket is this narrow, more evaluations only resolve
        // noise (an f32 objective along a nearly linear direction never meets the curvature
        // condition and would spend every evaluation left).
        if width <= XTOL * h {
            break;
        }
        let a =
            cubic_min(&lo, &hi).filter(|c| *c > l + 0.1 * width && *c < h - 0.1 * width).unwrap_or(0.5 * (lo.a + hi.a));
        let t = eval(a)?;
        evals += 1;
        if !armijo(&t) || t.p.f >= lo.p.f + noise {
            hi = t;
        } else {
            if curvature(&t) {
                return Ok(Some(t.p));
            }
            if t.dphi * (hi.a - lo.a) >= 0.0 {
                hi = lo;
            }
            lo = t;
        }
    }
    // Out of evaluations: a step that decreased the objective is still progress.
    Ok((lo.a > 0.0 && lo.p.f < p.f).then_some(lo.p))
}

/// The minimizer of the cubic through two trials' values and slopes, if it has one.
fn cubic_min(t0: &Trial, t1: &Trial) -> Option<f64> {
    if !(t0.p.f.is_finite() && t1.p.f.is_finite() && t0.dphi.is_finite() && t1.dphi.is_finite()) {
        return None;
    }
    let d1 = t0.dphi + t1.dphi - 3.0 * (t0.p.f - t1.p.f) / (t0.a - t1.a);
    let disc = d1 * d1 - t0.dphi * t1.dphi;
    if disc.is_nan() || disc < 0.0 {
        return None;
    }
    let d2 = (t1.a - t0.a).signum() * disc.sqrt();
    let a = t1.a - (t1.a - t0.a) * (t1.dphi + d2 - d1) / (t1.dphi - t0.dphi + 2.0 * d2);
    a.is_finite().then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options { max_iter: 500, gtol: 1e-10, ftol: 0.0, f_noise: 0.0, x_eps: 0.0, memory: 10, max_ls: 50 }
    }

    #[test]
    fn rosenbrock_converges() {
        let fg = |x: &[f64]| -> Result<(f64, Vec<f64>), ()> {
            let (a, b) = (x[0], x[1]);
            let f = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let g = vec![-2.0 * (1.0 - a) - 400.0 * a * (b - a * a), 200.0 * (b - a * a)];
            Ok((f, g))
        };
        let m = minimize(fg, vec![-1.2, 1.0], &opts()).unwrap();
        assert_eq!(m.stop, Stop::Gradient);
        assert!((m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8, "{:?}", m.x);
    }

    #[test]
    fn quadratic_in_few_iterations() {
        let fg = |x: &[f64]| -> Result<(f64, Vec<f64>), ()> {
            let w = [1.0, 10.0, 100.0];
            let f = x.iter().zip(w).map(|(x, w)| 0.5 * w * (x - 1.0).powi(2)).sum();
            Ok((f, x.iter().zip(w).map(|(x, w)| w * (x - 1.0)).collect()))
        };
        let m = minimize(fg, vec![0.0; 3], &opts()).unwrap();
        assert_eq!(m.stop, Stop::Gradient);
        assert!(m.n_iter < 30, "{}", m.n_iter);
    }
}
