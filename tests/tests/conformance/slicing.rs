//! Slicing inside kernels (`s![]` and `slice_axis`), checked against ndarray's own slicing
//! and plain index loops: every `s![]` form, negative bounds and steps, integer indices,
//! empty results, strided inputs, and the typed error ndarray's panics become.

use kiln::ndarray::{s, Array1, Array2, ArrayView1, Axis as NdAxis, Slice as NdSlice};
use kiln::prelude::*;
use kiln_tests::{assert_close, Rng};

#[kernel]
fn diff(x: Array1<f32>) -> Array1<f32> {
    x.slice(s![1..]) - x.slice(s![..-1])
}

pub fn diff_of_neighbours() {
    let mut rng = Rng::new(70);
    for n in [1, 2, 7, 33] {
        let x = rng.arr1_f32(n, -2.0, 2.0);
        let want = Array1::from_shape_fn(n - 1, |i| x[i + 1] - x[i]);
        assert_close(&diff(&x).unwrap(), &want, &format!("diff of {n}"));
    }
    // A strided input view: every other element of a longer array.
    let long = rng.arr1_f32(13, -2.0, 2.0);
    let view = long.slice(s![..;2]);
    let want = Array1::from_shape_fn(view.len() - 1, |i| long[2 * i + 2] - long[2 * i]);
    assert_close(&diff(view).unwrap(), &want, "diff of a strided view");
}

#[kernel]
fn every_other(x: Array2<f64>) -> Array2<f64> {
    x.slice(s![..;2, 1..]).to_owned() * 2.0
}

pub fn every_other_row_from_column_one() {
    let mut rng = Rng::new(71);
    for (n, d) in [(0, 1), (1, 1), (5, 4), (6, 3), (9, 2)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let want = Array2::from_shape_fn((n.div_ceil(2), d - 1), |(i, j)| 2.0 * x[[2 * i, j + 1]]);
        assert_close(&every_other(&x).unwrap(), &want, &format!("every_other {n}x{d}"));
    }
    // A transposed (non-contiguous) input.
    let xt = rng.arr2_f64(4, 5, -1.0, 1.0);
    let v = xt.t();
    let want = Array2::from_shape_fn((3, 3), |(i, j)| 2.0 * v[[2 * i, j + 1]]);
    assert_close(&every_other(v).unwrap(), &want, "every_other of a transposed view");
}

#[kernel]
fn last_col<F: Float>(x: Array2<F>) -> Array1<F> {
    x.slice(s![.., -1])
}

pub fn integer_index_drops_the_axis() {
    let mut rng = Rng::new(72);
    for (n, d) in [(0, 2), (1, 1), (3, 4), (8, 5)] {
        let x = rng.arr2_f64(n, d, -1.0, 1.0);
        let want = Array1::from_shape_fn(n, |i| x[[i, d - 1]]);
        assert_close(&last_col(&x).unwrap(), &want, &format!("last_col f64 {n}x{d}"));
        let x32 = rng.arr2_f32(n, d, -1.0, 1.0);
        let want32 = Array1::from_shape_fn(n, |i| x32[[i, d - 1]]);
        assert_close(&last_col(&x32).unwrap(), &want32, &format!("last_col f32 {n}x{d}"));
    }
}

#[kernel]
fn steps(x: Array1<i32>) -> (Array1<i32>, Array1<i32>, Array1<i32>, Array1<i32>) {
    (x.slice(s![..;-1]), x.slice(s![1..-1;-2]), x.slice(s![-3..;3]), x.slice(s![..=2;2]))
}

/// ndarray's elements of `x[start..end;step]`, by hand: the absolute bounds, then from the
/// first (or, for a negative step, the last) selected element every `|step|`.
fn by_hand(x: ArrayView1<i32>, start: isize, end: Option<isize>, step: isize) -> Vec<i32> {
    let n = x.len() as isize;
    let abs = |b: isize| if b < 0 { n + b } else { b };
    let (s, e) = (abs(start), abs(end.unwrap_or(n)));
    let e = e.max(s);
    let idx: Vec<isize> = if step > 0 {
        (s..e).step_by(step as usize).collect()
    } else {
        (s..e).rev().step_by((-step) as usize).collect()
    };
    idx.into_iter().map(|i| x[i as usize]).collect()
}

pub fn negative_steps_bounds_and_reversal() {
    let mut rng = Rng::new(73);
    for n in [3, 4, 7, 10] {
        let x = rng.arr1_i32(n, -100, 100);
        let (rev, back2, tail3, head) = steps(&x).unwrap();
        assert_eq!(rev.to_vec(), by_hand(x.view(), 0, None, -1), "..;-1 of {n}");
        assert_eq!(back2.to_vec(), by_hand(x.view(), 1, Some(-1), -2), "1..-1;-2 of {n}");
        assert_eq!(tail3.to_vec(), by_hand(x.view(), -3, None, 3), "-3..;3 of {n}");
        assert_eq!(head.to_vec(), by_hand(x.view(), 0, Some(3), 2), "..=2;2 of {n}");
        // ndarray itself agrees with the hand-written rule.
        assert_eq!(back2, x.slice_axis(NdAxis(0), NdSlice::new(1, Some(-1), -2)), "ndarray's 1..-1;-2");
    }
}

#[kernel]
fn cube_plane(x: Array3<f64>) -> Array2<f64> {
    x.slice(s![1.., ..;-1, 0])
}

#[kernel]
fn cube_row_sums(x: Array3<f64>) -> Array1<f64> {
    x.slice(s![-1, 2..4, ..;2]).sum_axis(Axis(1))
}

pub fn rank3_slices_and_a_reduction_of_a_slice() {
    let mut rng = Rng::new(74);
    for (p, q, r) in [(1, 4, 1), (2, 4, 3), (5, 6, 4)] {
        let x = rng.arr3_f64(p, q, r, -1.0, 1.0);
        let (a, b) = (cube_plane(&x).unwrap(), cube_row_sums(&x).unwrap());
        let want_a = Array2::from_shape_fn((p - 1, q), |(i, j)| x[[i + 1, q - 1 - j, 0]]);
        assert_close(&a, &want_a, &format!("x[1.., ..;-1, 0] of {p}x{q}x{r}"));
        let want_b = Array1::from_shape_fn(2, |j| (0..r).step_by(2).map(|k| x[[p - 1, 2 + j, k]]).sum::<f64>());
        assert_close(&b, &want_b, &format!("x[-1, 2..4, ..;2].sum_axis(1) of {p}x{q}x{r}"));
        assert_close(&b, &x.slice(s![-1, 2..4, ..;2]).sum_axis(NdAxis(1)), "ndarray agrees");
    }
}

#[kernel]
fn fixed_windows(x: Array1<f32>) -> (Array1<f32>, Array1<f32>, Array1<f32>) {
    (x.slice(s![2..5]), x.slice(s![3..3]), x.slice(s![4..2]))
}

pub fn literal_windows_and_empty_results() {
    let mut rng = Rng::new(75);
    for n in [5, 6, 11] {
        let x = rng.arr1_f32(n, -1.0, 1.0);
        let (w, e1, e2) = fixed_windows(&x).unwrap();
        assert_close(&w, &Array1::from_shape_fn(3, |i| x[2 + i]), "2..5");
        assert_eq!(e1.len(), 0, "3..3 is empty");
        assert_eq!(e2.len(), 0, "4..2 is empty (an end before the start)");
    }
}

#[kernel]
fn middle_columns(x: Array2<f32>) -> Array2<f32> {
    x.slice_axis(Axis(1), Slice::from(1..3))
}

pub fn slice_axis_with_slice_from() {
    let mut rng = Rng::new(76);
    for n in [0, 1, 4] {
        let x = rng.arr2_f32(n, 5, -1.0, 1.0);
        let want = Array2::from_shape_fn((n, 2), |(i, j)| x[[i, j + 1]]);
        assert_close(&middle_columns(&x).unwrap(), &want, &format!("slice_axis of {n}x5"));
    }
}

#[kernel]
fn from_two(x: Array1<f64>) -> Array1<f64> {
    x.slice(s![2..])
}

#[kernel]
fn fifth_col(x: Array2<f64>) -> Array1<f64> {
    x.slice(s![.., 4])
}

pub fn out_of_range_bounds_are_typed_errors() {
    for n in [0, 1] {
        let err = from_two(&Array1::<f64>::zeros(n)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, kiln::Error::Bind(_)), "{msg}");
        assert!(msg.contains("`x`") && msg.contains("2..") && msg.contains("axis 0"), "{msg}");
        assert!(msg.contains(&format!("length {n}")), "{msg}");
    }
    let err = fifth_col(&Array2::<f64>::zeros((2, 4))).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`x`") && msg.contains("axis 1") && msg.contains("length 4"), "{msg}");
    // In range, the same kernels run.
    assert_eq!(from_two(&Array1::from(vec![1.0, 2.0, 3.0])).unwrap().to_vec(), vec![3.0]);
    let x = Array2::from_shape_fn((2, 5), |(i, j)| (10 * i + j) as f64);
    assert_eq!(fifth_col(&x).unwrap().to_vec(), vec![4.0, 14.0]);
}

#[kernel]
fn drop_first(x: Array1<f32>, k: i64) -> Array1<f32> {
    x.slice(s![k..])
}

#[kernel]
fn window(x: Array2<f64>, a: i64, b: i32) -> Array2<f64> {
    x.slice(s![a..b;2, ..])
}

pub fn parameter_bounds() {
    // Slice bounds given by scalar parameters are bound at call time, like literal ones.
    for n in [0usize, 1, 4, 7] {
        let x = Array1::from_shape_fn(n, |i| i as f32 * 1.5 - 2.0);
        for k in -(n as i64)..=(n as i64) {
            let start = if k < 0 { (n as i64 + k) as usize } else { k as usize };
            let want: Vec<f32> = (start..n).map(|i| x[i]).collect();
            assert_eq!(drop_first(&x, k).unwrap().to_vec(), want, "n={n} k={k}");
        }
        let err = drop_first(&x, n as i64 + 1).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }
    let x = Array2::from_shape_fn((9, 3), |(i, j)| (10 * i + j) as f64);
    let got = window(&x, 1, -2).unwrap();
    let rows: Vec<usize> = (1..7).step_by(2).collect();
    assert_eq!(got.shape(), &[rows.len(), 3]);
    for (r, &i) in rows.iter().enumerate() {
        for j in 0..3 {
            assert_eq!(got[[r, j]], x[[i, j]]);
        }
    }
}
