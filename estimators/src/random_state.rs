//! numpy's legacy `RandomState` as scikit-learn's `random_state=<int>` uses it: the MT19937
//! generator seeded by `init_genrand`, and `permutation` (numpy's legacy Fisher-Yates shuffle
//! drawing bounded integers by masked rejection), so a kiln seed picks the same samples as the
//! same scikit-learn `random_state`.

/// MT19937 with numpy's integer seeding.
pub(crate) struct RandomState {
    mt: [u32; 624],
    index: usize,
}

impl RandomState {
    /// `numpy.random.RandomState(seed)`.
    pub(crate) fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        RandomState { mt, index: 624 }
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

    /// `numpy.random.RandomState(0).random_sample(2)`.
    #[test]
    fn random_sample_is_numpys() {
        let mut r = RandomState::new(0);
        assert_eq!(r.random_sample(), 0.5488135039273248);
        assert_eq!(r.random_sample(), 0.7151893663724195);
    }
}
