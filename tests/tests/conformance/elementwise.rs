//! Elementwise ops, broadcasting, casts and selects on every dtype, against plain-Rust loops.

use kiln::ndarray::{s, Array1, Array2, Zip};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng, LENGTHS, SHAPES};

#[kernel]
fn axpby(a: f32, x: Array1<f32>, b: f32, y: Array1<f32>) -> Array1<f32> {
    a * x + b * y
}

pub fn axpby_f32() {
    let mut rng = Rng::new(1);
    for n in LENGTHS {
        let (x, y) = (rng.arr1_f32(n, -10.0, 10.0), rng.arr1_f32(n, -10.0, 10.0));
        let want = Array1::from_shape_fn(n, |i| 2.5 * x[i] + -0.75 * y[i]);
        assert_close(&axpby(2.5, &x, -0.75, &y).unwrap(), &want, "axpby");
    }
}

pub fn axpby_strided_views() {
    let mut rng = Rng::new(2);
    for n in LENGTHS {
        let x = rng.arr1_f32(2 * n, -1.0, 1.0);
        let y = rng.arr1_f32(3 * n, -1.0, 1.0);
        let (xv, yv) = (x.slice(s![..;2]), y.slice(s![..;-3]));
        let want = Array1::from_shape_fn(n, |i| 3.0 * xv[i] + 0.5 * yv[i]);
        assert_close(&axpby(3.0, xv, 0.5, yv).unwrap(), &want, "axpby on stepped views");
    }
}

#[kernel]
fn int_arith(a: Array1<i32>, b: Array1<i32>) -> (Array1<i32>, Array1<i32>, Array1<i32>, Array1<i32>) {
    (a + b, a - b, a * b, -a)
}

pub fn i32_wrapping_arith() {
    let mut rng = Rng::new(3);
    for n in LENGTHS {
        let mut a = rng.arr1_i32(n, -1000, 1000);
        let b = rng.arr1_i32(n, -1000, 1000);
        if n > 0 {
            a[0] = i32::MAX;
        }
        let (s, d, p, neg) = int_arith(&a, &b).unwrap();
        assert_close(&s, &Zip::from(&a).and(&b).map_collect(|x, y| x.wrapping_add(*y)), "add");
        assert_close(&d, &Zip::from(&a).and(&b).map_collect(|x, y| x.wrapping_sub(*y)), "sub");
        assert_close(&p, &Zip::from(&a).and(&b).map_collect(|x, y| x.wrapping_mul(*y)), "mul");
        assert_close(&neg, &a.mapv(i32::wrapping_neg), "neg");
    }
}

#[kernel]
fn int_divrem(a: Array1<i64>, b: Array1<i64>) -> (Array1<i64>, Array1<i64>) {
    (a / b, a % b)
}

pub fn i64_div_rem_by_zero_is_zero() {
    let mut rng = Rng::new(4);
    for n in LENGTHS {
        let a = rng.arr1_i64(n, -100, 100);
        let b = rng.arr1_i64(n, -3, 4);
        let (q, r) = int_divrem(&a, &b).unwrap();
        let div = |x: &i64, y: &i64| x.checked_div(*y).unwrap_or(0);
        let rem = |x: &i64, y: &i64| x.checked_rem(*y).unwrap_or(0);
        assert_close(&q, &Zip::from(&a).and(&b).map_collect(div), "div");
        assert_close(&r, &Zip::from(&a).and(&b).map_collect(rem), "rem");
    }
}

#[kernel]
fn u32_ops(a: Array1<u32>, b: Array1<u32>) -> (Array1<u32>, Array1<bool>) {
    (a * 3 + b, a < b)
}

pub fn u32_arith_and_compare() {
    let mut rng = Rng::new(5);
    for n in LENGTHS {
        let (a, b) = (rng.arr1_u32(n, 0, 1 << 31), rng.arr1_u32(n, 0, 1 << 31));
        let (v, lt) = u32_ops(&a, &b).unwrap();
        assert_close(&v, &Zip::from(&a).and(&b).map_collect(|x, y| x.wrapping_mul(3).wrapping_add(*y)), "a*3+b");
        assert_close(&lt, &Zip::from(&a).and(&b).map_collect(|x, y| x < y), "a<b");
    }
}

#[kernel]
fn math_f64(x: Array1<f64>) -> (Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>) {
    (x.exp(), x.abs().ln(), log1p(x.abs()), x.abs().sqrt(), rsqrt(x.abs() + 1.0))
}

pub fn f64_exp_ln_log1p_sqrt_rsqrt() {
    let mut rng = Rng::new(6);
    for n in LENGTHS {
        let x = rng.arr1_f64(n, -20.0, 20.0);
        let (e, l, l1, sq, rs) = math_f64(&x).unwrap();
        assert_close(&e, &x.mapv(f64::exp), "exp");
        assert_close(&l, &x.mapv(|v| v.abs().ln()), "ln");
        assert_close(&l1, &x.mapv(|v| v.abs().ln_1p()), "log1p");
        assert_close(&sq, &x.mapv(|v| v.abs().sqrt()), "sqrt");
        assert_close(&rs, &x.mapv(|v| 1.0 / (v.abs() + 1.0).sqrt()), "rsqrt");
    }
}

#[kernel]
fn trig_f32(x: Array1<f32>) -> (Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>) {
    (sin(x), x.cos(), x.tanh(), x.sigmoid())
}

pub fn f32_sin_cos_tanh_sigmoid() {
    let mut rng = Rng::new(7);
    for n in LENGTHS {
        let x = rng.arr1_f32(n, -8.0, 8.0);
        let (s, c, t, sg) = trig_f32(&x).unwrap();
        assert_close(&s, &x.mapv(f32::sin), "sin");
        assert_close(&c, &x.mapv(f32::cos), "cos");
        assert_close(&t, &x.mapv(f32::tanh), "tanh");
        assert_close(&sg, &x.mapv(|v| 1.0 / (1.0 + (-v).exp())), "sigmoid");
    }
}

#[kernel]
fn rounding(x: Array1<f64>) -> (Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>) {
    (x.floor(), ceil(x), -x, x.powi(3))
}

pub fn f64_floor_ceil_neg_powi() {
    let mut rng = Rng::new(8);
    for n in LENGTHS {
        let x = rng.arr1_f64(n, -5.0, 5.0);
        let (f, c, ng, p) = rounding(&x).unwrap();
        assert_close(&f, &x.mapv(f64::floor), "floor");
        assert_close(&c, &x.mapv(f64::ceil), "ceil");
        assert_close(&ng, &x.mapv(|v| -v), "neg");
        assert_close(&p, &x.mapv(|v| v.powi(3)), "powi");
    }
}

#[kernel]
fn min_max_clamp(x: Array1<f32>, y: Array1<f32>) -> (Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>) {
    (x.min(y), max(x, y), x.clamp(-1.0, 1.0), x.abs().powf(y))
}

pub fn f32_min_max_clamp_powf() {
    let mut rng = Rng::new(9);
    for n in LENGTHS {
        let (x, y) = (rng.arr1_f32(n, -3.0, 3.0), rng.arr1_f32(n, -3.0, 3.0));
        let (mn, mx, cl, pw) = min_max_clamp(&x, &y).unwrap();
        assert_close(&mn, &Zip::from(&x).and(&y).map_collect(|a, b| a.min(*b)), "min");
        assert_close(&mx, &Zip::from(&x).and(&y).map_collect(|a, b| a.max(*b)), "max");
        assert_close(&cl, &x.mapv(|v| v.clamp(-1.0, 1.0)), "clamp");
        assert_close(&pw, &Zip::from(&x).and(&y).map_collect(|a, b| a.abs().powf(*b)), "powf");
    }
}

#[kernel]
fn nan_min_max(x: Array1<f64>, y: Array1<f64>) -> (Array1<f64>, Array1<f64>) {
    (x.min(y), x.max(y))
}

pub fn f64_min_max_propagate_nan() {
    let x = Array1::from(vec![1.0, f64::NAN, 3.0, f64::NAN]);
    let y = Array1::from(vec![f64::NAN, 2.0, 1.0, f64::NAN]);
    let (mn, mx) = nan_min_max(&x, &y).unwrap();
    let want_min = Array1::from(vec![f64::NAN, f64::NAN, 1.0, f64::NAN]);
    let want_max = Array1::from(vec![f64::NAN, f64::NAN, 3.0, f64::NAN]);
    assert_close(&mn, &want_min, "min with NaN (numpy minimum)");
    assert_close(&mx, &want_max, "max with NaN (numpy maximum)");
}

#[kernel]
fn compare(x: Array1<f64>, y: Array1<f64>) -> (Array1<bool>, Array1<bool>, Array1<bool>, Array1<bool>) {
    (x < y, x >= y, x == y, x != y)
}

pub fn f64_comparisons() {
    let mut rng = Rng::new(10);
    for n in LENGTHS {
        let x = rng.arr1_f64(n, 0.0, 4.0).mapv(f64::floor);
        let y = rng.arr1_f64(n, 0.0, 4.0).mapv(f64::floor);
        let (lt, ge, eq, ne) = compare(&x, &y).unwrap();
        let z = |f: fn(f64, f64) -> bool| Zip::from(&x).and(&y).map_collect(|a, b| f(*a, *b));
        assert_close(&lt, &z(|a, b| a < b), "lt");
        assert_close(&ge, &z(|a, b| a >= b), "ge");
        assert_close(&eq, &z(|a, b| a == b), "eq");
        assert_close(&ne, &z(|a, b| a != b), "ne");
    }
}

#[kernel]
fn logic(p: Array1<bool>, q: Array1<bool>) -> (Array1<bool>, Array1<bool>, Array1<bool>) {
    (p & q, p | !q, p ^ q)
}

pub fn bool_logic() {
    let mut rng = Rng::new(11);
    for n in LENGTHS {
        let (p, q) = (rng.arr1_bool(n), rng.arr1_bool(n));
        let (and, or, xor) = logic(&p, &q).unwrap();
        assert_close(&and, &Zip::from(&p).and(&q).map_collect(|a, b| *a && *b), "and");
        assert_close(&or, &Zip::from(&p).and(&q).map_collect(|a, b| *a || !*b), "or not");
        assert_close(&xor, &Zip::from(&p).and(&q).map_collect(|a, b| a ^ b), "xor");
    }
}

#[kernel]
fn relu_select(x: Array2<f32>) -> Array2<f32> {
    select(x > 0.0, x, 0.0 * x)
}

pub fn f32_select_2d() {
    let mut rng = Rng::new(12);
    for (n, d) in SHAPES {
        let x = rng.arr2_f32(n, d, -1.0, 1.0);
        assert_close(&relu_select(&x).unwrap(), &x.mapv(|v| if v > 0.0 { v } else { 0.0 * v }), "relu");
    }
}

#[kernel]
fn add_row(x: Array2<f64>, v: Array1<f64>) -> Array2<f64> {
    x + v
}

pub fn broadcast_row() {
    let mut rng = Rng::new(13);
    for (n, d) in SHAPES {
        let (x, v) = (rng.arr2_f64(n, d, -1.0, 1.0), rng.arr1_f64(d, -1.0, 1.0));
        let want = Array2::from_shape_fn((n, d), |(i, j)| x[[i, j]] + v[j]);
        assert_close(&add_row(&x, &v).unwrap(), &want, "[n,d] + [d]");
    }
}

#[kernel]
fn outer_sub(u: Array1<f64>, v: Array1<f64>) -> Array2<f64> {
    u.insert_axis(Axis(1)) - v.insert_axis(Axis(0))
}

pub fn broadcast_outer_insert_axis() {
    let mut rng = Rng::new(14);
    for (n, d) in SHAPES {
        let (u, v) = (rng.arr1_f64(n, -1.0, 1.0), rng.arr1_f64(d, -1.0, 1.0));
        let want = Array2::from_shape_fn((n, d), |(i, j)| u[i] - v[j]);
        assert_close(&outer_sub(&u, &v).unwrap(), &want, "[n,1] - [1,d]");
    }
}

#[kernel]
fn scale_shift(x: Array2<f32>, a: f32) -> Array2<f32> {
    x * a - 1.0
}

pub fn broadcast_scalar_on_transposed_view() {
    let mut rng = Rng::new(15);
    for (n, d) in SHAPES {
        let x = rng.arr2_f32(n, d, -1.0, 1.0);
        let xt = x.t();
        let want = xt.mapv(|v| v * 0.5 - 1.0);
        assert_close(&scale_shift(xt, 0.5).unwrap(), &want, "transposed view * scalar");
    }
}

#[kernel]
fn casts(x: Array1<f64>) -> (Array1<i32>, Array1<f32>, Array1<bool>) {
    let n = x.len();
    (
        Array1::from_shape_fn(n, |i| x[[i]] as i32),
        Array1::from_shape_fn(n, |i| x[[i]] as f32),
        Array1::from_shape_fn(n, |i| x[[i]] > 0.0),
    )
}

pub fn casts_saturate_and_nan_to_zero() {
    let x = Array1::from(vec![1.7, -1.7, 1e12, -1e12, f64::NAN, 0.0, 3e38 * 10.0]);
    let (i, f, b) = casts(&x).unwrap();
    assert_close(&i, &x.mapv(|v| v as i32), "f64 as i32 saturates, NaN -> 0");
    assert_close(&f, &x.mapv(|v| v as f32), "f64 as f32");
    assert_close(&b, &x.mapv(|v| v > 0.0), "compare");
}

#[kernel]
fn int_to_float(a: Array1<i64>, p: Array1<bool>) -> (Array1<f64>, Array1<i64>) {
    let n = a.len();
    (Array1::from_shape_fn(n, |i| a[[i]] as f64 * 0.5), Array1::from_shape_fn(n, |i| p[[i]] as i64 + a[[i]]))
}

pub fn int_and_bool_casts() {
    let mut rng = Rng::new(16);
    for n in LENGTHS {
        let (a, p) = (rng.arr1_i64(n, -50, 50), rng.arr1_bool(n));
        let (f, s) = int_to_float(&a, &p).unwrap();
        assert_close(&f, &a.mapv(|v| v as f64 * 0.5), "i64 as f64");
        assert_close(&s, &Zip::from(&p).and(&a).map_collect(|b, v| *b as i64 + v), "bool as i64");
    }
}

#[kernel]
fn chain(x: Array1<f64>, y: Array1<f64>) -> Array1<f64> {
    let s = &x + &y;
    let d = x - y;
    let p = s * d;
    p / 2.0
}

pub fn let_bindings_chain() {
    let mut rng = Rng::new(17);
    for n in LENGTHS {
        let (x, y) = (rng.arr1_f64(n, -2.0, 2.0), rng.arr1_f64(n, -2.0, 2.0));
        let want = Zip::from(&x).and(&y).map_collect(|a, b| (a + b) * (a - b) / 2.0);
        assert_close(&chain(&x, &y).unwrap(), &want, "let chain");
    }
}

#[kernel]
fn transpose_add(a: Array2<f64>, b: Array2<f64>) -> Array2<f64> {
    a.t() + b
}

pub fn transpose_plus() {
    let mut rng = Rng::new(18);
    for (n, d) in SHAPES {
        let (a, b) = (rng.arr2_f64(n, d, -1.0, 1.0), rng.arr2_f64(d, n, -1.0, 1.0));
        let want = Array2::from_shape_fn((d, n), |(i, j)| a[[j, i]] + b[[i, j]]);
        assert_close(&transpose_add(&a, &b).unwrap(), &want, "a.t() + b");
    }
}

#[kernel]
fn std_trig_f32(x: Array1<f32>) -> (Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>) {
    (x.tan(), x.atan(), x.sinh(), x.cosh(), x.asinh(), (x / 4.0).atanh())
}

#[kernel]
fn std_exp_log_f32(x: Array1<f32>) -> (Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>, Array1<f32>) {
    let p = x.abs() + 0.25;
    (x.exp_m1(), p.ln_1p(), x.exp2(), p.log2(), p.log10(), (p + 1.0).acosh())
}

pub fn f32_std_transcendentals() {
    let mut rng = Rng::new(31);
    for n in LENGTHS {
        let x = rng.arr1_f32(2 * n, -3.0, 3.0);
        // A stepped view, so the kernels also read strided inputs.
        let x = x.slice(s![..;2]);
        let (tn, at, sh, ch, ash, ath) = std_trig_f32(x).unwrap();
        assert_close(&tn, &x.mapv(f32::tan), "tan");
        assert_close(&at, &x.mapv(f32::atan), "atan");
        assert_close(&sh, &x.mapv(f32::sinh), "sinh");
        assert_close(&ch, &x.mapv(f32::cosh), "cosh");
        assert_close(&ash, &x.mapv(f32::asinh), "asinh");
        assert_close(&ath, &x.mapv(|v| (v / 4.0).atanh()), "atanh");
        let p = x.mapv(|v| v.abs() + 0.25);
        let (em, lp, e2, l2, l10, ach) = std_exp_log_f32(x).unwrap();
        assert_close(&em, &x.mapv(f32::exp_m1), "exp_m1");
        assert_close(&lp, &p.mapv(f32::ln_1p), "ln_1p");
        assert_close(&e2, &x.mapv(f32::exp2), "exp2");
        assert_close(&l2, &p.mapv(f32::log2), "log2");
        assert_close(&l10, &p.mapv(f32::log10), "log10");
        assert_close(&ach, &p.mapv(|v| (v + 1.0).acosh()), "acosh");
    }
}

#[kernel]
fn std_binary_f64(x: Array1<f64>, y: Array1<f64>) -> (Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>) {
    (y.atan2(x), x.hypot(y), x.cbrt(), x.erf(), erfc(x))
}

pub fn f64_atan2_hypot_cbrt_erf() {
    let mut rng = Rng::new(32);
    for n in LENGTHS {
        let (x, y) = (rng.arr1_f64(n, -4.0, 4.0), rng.arr1_f64(n, -4.0, 4.0));
        let (a2, hy, cb, ef, efc) = std_binary_f64(&x, &y).unwrap();
        assert_close(&a2, &Zip::from(&y).and(&x).map_collect(|a, b| a.atan2(*b)), "atan2");
        assert_close(&hy, &Zip::from(&x).and(&y).map_collect(|a, b| a.hypot(*b)), "hypot");
        assert_close(&cb, &x.mapv(f64::cbrt), "cbrt");
        // erf/erfc are not in stable std: the reference is the `libm` crate (musl's C99 libm).
        assert_close(&ef, &x.mapv(libm::erf), "erf");
        assert_close(&efc, &x.mapv(libm::erfc), "erfc");
    }
}

#[kernel]
fn std_rounding_f64(x: Array1<f64>) -> (Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>) {
    (x.round(), x.trunc(), x.fract(), x.signum(), x.recip(), x.clamp(-1.5, 2.0))
}

#[kernel]
fn std_classify_f32(x: Array1<f32>) -> (Array1<bool>, Array1<bool>, Array1<bool>) {
    (x.is_nan(), x.is_finite(), x.is_infinite())
}

pub fn f64_round_trunc_fract_signum_recip_and_classes() {
    // Halfway cases (round goes away from zero), signed zeros, infinities and NaN.
    let specials =
        [0.5, -0.5, 1.5, 2.5, -2.5, 0.0, -0.0, 3.75, -3.75, 1e300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let mut rng = Rng::new(33);
    for n in LENGTHS {
        let mut x = rng.arr1_f64(n, -6.0, 6.0);
        for (v, s) in x.iter_mut().zip(specials) {
            *v = s;
        }
        let (r, t, fr, sg, rc, cl) = std_rounding_f64(&x).unwrap();
        assert_close(&r, &x.mapv(f64::round), "round");
        assert_close(&t, &x.mapv(f64::trunc), "trunc");
        assert_close(&fr, &x.mapv(f64::fract), "fract");
        assert_close(&sg, &x.mapv(f64::signum), "signum");
        // Signs of zero matter here: signum(-0.0) is -1, recip(-0.0) is -inf.
        assert_close(&rc, &x.mapv(f64::recip), "recip");
        assert_close(&cl, &x.mapv(|v| v.clamp(-1.5, 2.0)), "clamp");
        let xf = x.mapv(|v| v as f32);
        let (nan, fin, inf) = std_classify_f32(&xf).unwrap();
        assert_close(&nan, &xf.mapv(f32::is_nan), "is_nan");
        assert_close(&fin, &xf.mapv(f32::is_finite), "is_finite");
        assert_close(&inf, &xf.mapv(f32::is_infinite), "is_infinite");
    }
}

#[kernel]
fn powi_runtime(x: Array1<f32>, n: i32, k: Array1<i32>) -> (Array1<f32>, Array1<f32>) {
    (x.powi(n), powi(x, k))
}

pub fn f32_powi_with_a_runtime_exponent() {
    let mut rng = Rng::new(34);
    for n in LENGTHS {
        let x = rng.arr1_f32(n, 0.5, 2.0);
        let k = rng.arr1_i32(n, -4, 5);
        for e in [-3, 0, 1, 4] {
            let (p, q) = powi_runtime(&x, e, &k).unwrap();
            assert_close(&p, &x.mapv(|v| v.powi(e)), "powi by a scalar");
            assert_close(&q, &Zip::from(&x).and(&k).map_collect(|v, k| v.powi(*k)), "powi by an array");
        }
    }
}

#[kernel]
fn int_vocab_i64(
    a: Array1<i64>,
    b: Array1<i64>,
    k: Array1<u32>,
) -> (Array1<i64>, Array1<i64>, Array1<i64>, Array1<i64>, Array1<u32>, Array1<i64>) {
    (a.rem_euclid(b), a.abs(), a << k, a >> k, a.count_ones(), a.wrapping_mul(b).wrapping_add(a))
}

#[kernel]
fn int_vocab_u32_i32(
    a: Array1<u32>,
    k: Array1<u32>,
    c: Array1<i32>,
) -> (Array1<u32>, Array1<u32>, Array1<u32>, Array1<i32>, Array1<i32>) {
    (a << k, a >> 3, a.count_ones(), c.rem_euclid(7), c >> 1)
}

pub fn int_rem_euclid_abs_shifts_count_ones_wrapping() {
    let mut rng = Rng::new(35);
    for n in LENGTHS {
        let mut a = rng.arr1_i64(n, -1000, 1000);
        let b = rng.arr1_i64(n, -5, 6);
        // Shift amounts beyond the bit width wrap (Rust's `wrapping_shl`).
        let k = rng.arr1_u32(n, 0, 70);
        if n > 0 {
            a[0] = i64::MIN;
        }
        let (re, ab, sl, sr, co, wr) = int_vocab_i64(&a, &b, &k).unwrap();
        let rem_euclid = |x: &i64, y: &i64| if *y == 0 { 0 } else { x.wrapping_rem_euclid(*y) };
        assert_close(&re, &Zip::from(&a).and(&b).map_collect(rem_euclid), "rem_euclid");
        assert_close(&ab, &a.mapv(i64::wrapping_abs), "abs");
        assert_close(&sl, &Zip::from(&a).and(&k).map_collect(|x, s| x.wrapping_shl(*s)), "<<");
        assert_close(&sr, &Zip::from(&a).and(&k).map_collect(|x, s| x.wrapping_shr(*s)), ">>");
        assert_close(&co, &a.mapv(i64::count_ones), "count_ones");
        let want = Zip::from(&a).and(&b).map_collect(|x, y| x.wrapping_mul(*y).wrapping_add(*x));
        assert_close(&wr, &want, "wrapping_mul, wrapping_add");
        let u = rng.arr1_u32(n, 0, 1 << 31);
        let c = rng.arr1_i32(n, -100, 100);
        let (ul, ur, uc, cre, csr) = int_vocab_u32_i32(&u, &k, &c).unwrap();
        assert_close(&ul, &Zip::from(&u).and(&k).map_collect(|x, s| x.wrapping_shl(*s)), "u32 <<");
        assert_close(&ur, &u.mapv(|x| x >> 3), "u32 >>");
        assert_close(&uc, &u.mapv(u32::count_ones), "u32 count_ones");
        assert_close(&cre, &c.mapv(|x| x.rem_euclid(7)), "i32 rem_euclid");
        assert_close(&csr, &c.mapv(|x| x >> 1), "i32 >>");
    }
}

#[kernel]
fn std_constants(
    x: Array1<f64>,
    y: Array1<f32>,
    k: Array1<i64>,
) -> (Array1<f64>, Array1<f32>, Array1<i64>, Array1<u32>) {
    let a = x * std::f64::consts::PI + std::f64::consts::E * f64::EPSILON - core::f64::consts::LN_2;
    let b = select(y.is_finite(), y * std::f32::consts::FRAC_1_SQRT_2, f32::NEG_INFINITY).max(f32::MIN);
    (a, b, k.max(i64::MIN) ^ i64::MAX, (k as u32) ^ u32::MAX)
}

#[kernel]
fn generic_constants<F: Float>(x: Array1<F>) -> (Array1<F>, Array1<F>) {
    let finite = select(x.is_finite(), x * F::one() + F::zero(), F::nan());
    (finite, x.max(F::neg_infinity()).min(F::infinity()))
}

pub fn std_and_num_traits_constants() {
    let mut rng = Rng::new(36);
    for n in LENGTHS {
        let x = rng.arr1_f64(n, -3.0, 3.0);
        let mut y = rng.arr1_f32(n, -3.0, 3.0);
        if n > 1 {
            y[0] = f32::INFINITY;
            y[1] = f32::NAN;
        }
        let k = rng.arr1_i64(n, -5, 5);
        let (a, b, c, d) = std_constants(&x, &y, &k).unwrap();
        use std::f64::consts as c64;
        let want_a = x.mapv(|v| v * c64::PI + c64::E * f64::EPSILON - c64::LN_2);
        assert_close(&a, &want_a, "f64 consts");
        let want_b = y.mapv(|v| if v.is_finite() { v * std::f32::consts::FRAC_1_SQRT_2 } else { f32::NEG_INFINITY });
        assert_close(&b, &want_b.mapv(|v| v.max(f32::MIN)), "f32 consts");
        assert_close(&c, &k.mapv(|v| v ^ i64::MAX), "i64::MAX");
        assert_close(&d, &k.mapv(|v| (v as u32) ^ u32::MAX), "u32::MAX");
        let (f, g) = generic_constants(&y).unwrap();
        assert_close(&f, &y.mapv(|v| if v.is_finite() { v } else { f32::NAN }), "F::one, F::zero, F::nan");
        assert_close(&g, &y, "F::infinity, F::neg_infinity");
        let (f, _) = generic_constants(&x).unwrap();
        assert_close(&f, &x, "F::one, F::zero on f64");
    }
}
