//! numpy's legacy `RandomState` as scikit-learn's `random_state=<int>` uses it: the MT19937
//! generator seeded by `init_genrand`, and `permutation` (numpy's legacy Fisher-Yates shuffle
//! drawing bounded integers by masked rejection), so a kiln seed picks the same samples as the
//! same scikit-learn `random_state`.

/// MT19937 with numpy's integer seeding.
pub(crate) struct RandomState {
    mt: [u32; 624],
    index: usize,
    /// The second value of the last polar pair (`legacy_gauss`'s `has_gauss` / `gauss`).
    gauss: Option<f64>,
}

impl RandomState {
    /// `numpy.random.RandomState(seed)`.
    pub(crate) fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        RandomState { mt, index: 624, gauss: None }
    }

    /// The next 32 random bits (`genrand_int32`).
    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for k in 0..624 {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % 624] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.mt[k] = self.mt[(k + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A uniform integer in `0..=max` (numpy's `random_interval`; `max` below 2^32).
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for s in [1, 2, 4, 8, 16] {
            mask |= mask >> s;
        }
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `RandomState.random_sample()`: a uniform f64 in [0, 1) from 53 random bits (numpy's
    /// `random_standard_uniform`, also what `uniform(0, 1)` draws).
    pub(crate) fn random_sample(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `RandomState.permutation(n)` (`n` below 2^32).
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut a: Vec<usize> = (0..n).collect();
        self.shuffle(&mut a);
        a
    }

    /// `RandomState.shuffle(a)` of a 1-D array (numpy's legacy Fisher-Yates from the end;
    /// `a.len()` below 2^32). `permutation(a)` of an array is this on a copy.
    pub(crate) fn shuffle<T>(&mut self, a: &mut [T]) {
        for i in (1..a.len()).rev() {
            let j = self.interval(i as u32) as usize;
            a.swap(i, j);
        }
    }

    /// `RandomState.standard_normal()`: numpy's `legacy_gauss`, the polar method drawing pairs
    /// and keeping the second value for the next call.
    pub(crate) fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.gauss.take() {
            return g;
        }
        let (x1, x2, r2) = loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                break (x1, x2, r2);
            }
        };
        let f = (-2.0 * r2.ln() / r2).sqrt();
        self.gauss = Some(f * x1);
        f * x2
    }

    /// numpy's `random_binomial`: inversion when the mean (of the smaller of `p`, `1 - p`) is
    /// at most 30, else BTPE, both as numpy's C code draws them.
    pub(crate) fn binomial(&mut self, n: i64, p: f64) -> i64 {
        if n == 0 || p == 0.0 {
            return 0;
        }
        if p <= 0.5 {
            if p * n as f64 <= 30.0 {
                self.binomial_inversion(n, p)
            } else {
                self.binomial_btpe(n, p)
            }
        } else {
            let q = 1.0 - p;
            if q * n as f64 <= 30.0 {
                n - self.binomial_inversion(n, q)
            } else {
                n - self.binomial_btpe(n, q)
            }
        }
    }

    /// numpy's `random_binomial_inversion`.
    fn binomial_inversion(&mut self, n: i64, p: f64) -> i64 {
        let q = 1.0 - p;
        let qn = (n as f64 * q.ln()).exp();
        let np = n as f64 * p;
        let bound = (n as f64).min(np + 10.0 * (np * q + 1.0).sqrt()) as i64;
        let mut x = 0i64;
        let mut px = qn;
        let mut u = self.random_sample();
        while u > px {
            x += 1;
            if x > bound {
                x = 0;
                px = qn;
                u = self.random_sample();
            } else {
                u -= px;
                px = ((n - x + 1) as f64 * p * px) / (x as f64 * q);
            }
        }
        x
    }

    /// numpy's `random_binomial_btpe` (Kachitvichyanukul and Schmeiser's BTPE), step for step.
    #[allow(clippy::many_single_char_names)]
    fn binomial_btpe(&mut self, n: i64, p: f64) -> i64 {
        let nf = n as f64;
        let r = p.min(1.0 - p);
        let q = 1.0 - r;
        let fm = nf * r + r;
        let m = fm.floor() as i64;
        let mf = m as f64;
        let p1 = (2.195 * (nf * r * q).sqrt() - 4.6 * q).floor() + 0.5;
        let xm = mf + 0.5;
        let xl = xm - p1;
        let xr = xm + p1;
        let c = 0.134 + 20.5 / (15.3 + mf);
        let a = (fm - xl) / (fm - xl * r);
        let laml = a * (1.0 + a / 2.0);
        let a = (xr - fm) / (xr * q);
        let lamr = a * (1.0 + a / 2.0);
        let p2 = p1 * (1.0 + 2.0 * c);
        let p3 = p2 + c / laml;
        let p4 = p3 + c / lamr;
        let nrq = nf * r * q;
        let mut y: i64;
        'step10: loop {
            let u = self.random_sample() * p4;
            let mut v = self.random_sample();
            if u <= p1 {
                y = (xm - p1 * v + u).floor() as i64;
                break 'step10;
            }
            if u <= p2 {
                let x = xl + (u - p1) / c;
                v = v * c + 1.0 - (mf - x + 0.5).abs() / p1;
                if v > 1.0 {
                    continue 'step10;
                }
                y = x.floor() as i64;
            } else if u <= p3 {
                let yy = (xl + v.ln() / laml).floor();
                if yy < 0.0 || v == 0.0 {
                    continue 'step10;
                }
                y = yy as i64;
                v = v * (u - p2) * laml;
            } else {
                let yy = (xr - v.ln() / lamr).floor();
                if yy > nf || v == 0.0 {
                    continue 'step10;
                }
                y = yy as i64;
                v = v * (u - p3) * lamr;
            }
            // Step 50.
            let k = (y - m).abs();
            let kf = k as f64;
            if !(k > 20 && kf < nrq / 2.0 - 1.0) {
                let s = r / q;
                let a = s * (nf + 1.0);
                let mut f = 1.0;
                if m < y {
                    for i in (m + 1)..=y {
                        f *= a / i as f64 - s;
                    }
                } else if m > y {
                    for i in (y + 1)..=m {
                        f /= a / i as f64 - s;
                    }
                }
                if v > f {
                    continue 'step10;
                }
                break 'step10;
            }
            // Step 52.
            let rho = (kf / nrq) * ((kf * (kf / 3.0 + 0.625) + 0.16666666666666666) / nrq + 0.5);
            let t = -kf * kf / (2.0 * nrq);
            let big_a = v.ln();
            if big_a < t - rho {
                break 'step10;
            }
            if big_a > t + rho {
                continue 'step10;
            }
            let yf = y as f64;
            let x1 = yf + 1.0;
            let f1 = mf + 1.0;
            let z = nf + 1.0 - mf;
            let w = nf - yf + 1.0;
            let (x2, f2, z2, w2) = (x1 * x1, f1 * f1, z * z, w * w);
            let st = |v2: f64, v: f64| (13680. - (462. - (132. - (99. - 140. / v2) / v2) / v2) / v2) / v / 166320.;
            let bound = xm * (f1 / x1).ln()
                + (nf - mf + 0.5) * (z / w).ln()
                + (yf - mf) * (w * r / (x1 * q)).ln()
                + st(f2, f1)
                + st(z2, z)
                + st(x2, x1)
                + st(w2, w);
            if big_a > bound {
                continue 'step10;
            }
            break 'step10;
        }
        if p > 0.5 {
            y = n - y;
        }
        y
    }

    /// `RandomState.multinomial(n, pvals)`: numpy's `random_multinomial`, one binomial draw per
    /// category but the last, which takes what is left.
    pub(crate) fn multinomial(&mut self, n: i64, pvals: &[f64]) -> Vec<i64> {
        let d = pvals.len();
        let mut out = vec![0i64; d];
        let mut remaining_p = 1.0;
        let mut dn = n;
        for j in 0..d.saturating_sub(1) {
            out[j] = self.binomial(dn, pvals[j] / remaining_p);
            dn -= out[j];
            if dn <= 0 {
                break;
            }
            remaining_p -= pvals[j];
        }
        if dn > 0 && d > 0 {
            out[d - 1] = dn;
        }
        out
    }

    /// `RandomState.choice(len(p), size, replace=False, p=p)`: numpy's legacy rounds of
    /// `size - found` uniform draws through the cumulated (renormalized) weights, the found
    /// entries' weights zeroed, new indices kept in draw order of first occurrence. `p` must
    /// hold at least `size` positive entries (the caller checks).
    pub(crate) fn choice_weighted(&mut self, p: &[f64], size: usize) -> Vec<usize> {
        let mut p = p.to_vec();
        let mut found: Vec<usize> = Vec::with_capacity(size);
        while found.len() < size {
            let x: Vec<f64> = (0..size - found.len()).map(|_| self.random_sample()).collect();
            for &f in &found {
                p[f] = 0.0;
            }
            let mut acc = 0.0;
            let mut cdf: Vec<f64> = p
                .iter()
                .map(|&v| {
                    acc += v;
                    acc
                })
                .collect();
            let last = cdf[cdf.len() - 1];
            cdf.iter_mut().for_each(|c| *c /= last);
            let round_start = found.len();
            for &u in &x {
                let new = cdf.partition_point(|&c| c <= u);
                if !found[round_start..].contains(&new) {
                    found.push(new);
                }
            }
        }
        found
    }

    /// A uniform integer in `0..n` (`n` at least 1, below 2^32), by [`RandomState::shuffle`]'s
    /// bounded draw.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.interval((n - 1) as u32) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::RandomState;

    /// `numpy.random.RandomState(0).choice(10, 4, replace=False, p=np.full(10, 0.1))` and
    /// `RandomState(3).choice(5, 5, replace=False, p=[.1, .2, .3, .2, .2])` (numpy 2.4).
    #[test]
    fn choice_weighted_is_numpys() {
        assert_eq!(RandomState::new(0).choice_weighted(&[0.1; 10], 4), [5, 7, 6, 2]);
        assert_eq!(RandomState::new(3).choice_weighted(&[0.1, 0.2, 0.3, 0.2, 0.2], 5), [2, 3, 1, 4, 0]);
    }

    /// `numpy.random.RandomState(0).permutation(10)` and `RandomState(42).permutation(6)`.
    #[test]
    fn permutation_is_numpys() {
        assert_eq!(RandomState::new(0).permutation(10), vec![2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
        assert_eq!(RandomState::new(42).permutation(6), vec![0, 1, 5, 2, 4, 3]);
    }

    /// `numpy.random.RandomState(0).standard_normal(3)`, `.binomial` (inversion and BTPE) and
    /// `.multinomial`, numbers printed by numpy 2.4.
    #[test]
    fn normal_binomial_multinomial_are_numpys() {
        let mut r = RandomState::new(0);
        let z: Vec<f64> = (0..3).map(|_| r.standard_normal()).collect();
        assert_eq!(z, vec![1.764052345967664, 0.4001572083672233, 0.9787379841057392]);
        let mut r = RandomState::new(1);
        let b: Vec<i64> = (0..4).map(|_| r.binomial(20, 0.3)).collect();
        assert_eq!(b, vec![6, 7, 0, 5]);
        let mut r = RandomState::new(2);
        let b: Vec<i64> = (0..4).map(|_| r.binomial(1000, 0.4)).collect();
        assert_eq!(b, vec![419, 411, 409, 390]);
        let mut r = RandomState::new(3);
        assert_eq!(r.multinomial(500, &[0.2, 0.5, 0.3]), vec![100, 250, 150]);
        assert_eq!(r.multinomial(50, &[0.2, 0.5, 0.3]), vec![6, 28, 16]);
        let mut r = RandomState::new(4);
        assert_eq!(r.multinomial(500, &[0.2, 0.5, 0.3]), vec![119, 219, 162]);
        assert_eq!(r.multinomial(50, &[0.2, 0.5, 0.3]), vec![11, 27, 12]);
    }

    /// `numpy.random.RandomState(0).random_sample(2)`.
    #[test]
    fn random_sample_is_numpys() {
        let mut r = RandomState::new(0);
        assert_eq!(r.random_sample(), 0.5488135039273248);
        assert_eq!(r.random_sample(), 0.7151893663724195);
    }
}
