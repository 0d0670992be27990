//! Bad calls are typed errors naming the parameter and the shapes; nothing panics.

use kiln::ndarray::{Array1, Array2, Array3};
use kiln::prelude::*;
use kiln::{Arg, DType};
use kiln_tests::{assert_close, Rng};

#[kernel]
fn add_vec(x: Array1<f32>, y: Array1<f32>) -> Array1<f32> {
    x + y
}

pub fn shape_mismatch_names_parameter_and_shapes() {
    let (x, y) = (Array1::<f32>::zeros(3), Array1::<f32>::zeros(4));
    let err = add_vec(&x, &y).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, kiln::Error::Bind(_)), "{msg}");
    assert!(msg.contains("`y`") && msg.contains("[4]") && msg.contains('3'), "{msg}");
}

#[kernel]
fn inner(a: Array2<f64>, b: Array2<f64>) -> Array2<f64> {
    a.dot(&b)
}

pub fn dot_inner_dimension_mismatch() {
    let err = inner(&Array2::zeros((2, 3)), &Array2::zeros((4, 2))).unwrap_err();
    assert!(err.to_string().contains("`b`"), "{err}");
}

pub fn dynamic_call_wrong_dtype_rank_and_count() {
    let k = add_vec::kernel();
    let x64 = Array1::<f64>::zeros(3);
    let x32 = Array1::<f32>::zeros(3);
    let m32 = Array2::<f32>::zeros((3, 1));
    let dtype = k.call(None, vec![Arg::F64(x64.view().into_dyn().into()), Arg::F32(x32.view().into_dyn().into())]);
    assert!(dtype.unwrap_err().to_string().contains("f32"), "dtype error names the expected dtype");
    let rank = k.call(None, vec![Arg::F32(m32.view().into_dyn().into()), Arg::F32(x32.view().into_dyn().into())]);
    assert!(rank.unwrap_err().to_string().contains("rank 1"), "rank error names the rank");
    let count = k.call(None, vec![Arg::F32(x32.view().into_dyn().into())]);
    assert!(count.unwrap_err().to_string().contains("2 arguments"), "count error");
}

#[kernel]
fn generic_scale<F: Float>(x: Array1<F>, a: F) -> Array1<F> {
    x * a
}

pub fn generic_kernel_rejects_int_float_param() {
    let k = generic_scale::kernel();
    assert!(k.is_generic());
    let xi = Array1::<i32>::zeros(2);
    let err = k.call(Some(DType::I32), vec![Arg::I32(xi.view().into_dyn().into()), kiln::runtime::scalar_arg(1i32)]);
    assert!(err.is_err(), "F = i32 is rejected");
    let x = Array1::from(vec![1.0f64, 2.0]);
    assert_close(&generic_scale(&x, 3.0).unwrap(), &Array1::from(vec![3.0, 6.0]), "f64 instance");
    let x = Array1::from(vec![1.0f32, 2.0]);
    assert_close(&generic_scale(&x, 0.5).unwrap(), &Array1::from(vec![0.5f32, 1.0]), "f32 instance");
}

#[kernel]
fn first_min(x: Array1<f64>) -> i64 {
    x.argmin()
}

pub fn argmin_of_empty_is_an_error() {
    let err = first_min(&Array1::<f64>::zeros(0)).unwrap_err();
    assert!(matches!(err, kiln::Error::EmptyArgReduce { .. }), "{err}");
    assert_eq!(first_min(&Array1::from(vec![2.0, -1.0, -1.0])).unwrap(), 1);
}

#[kernel]
fn cube(x: Array3<i32>, y: Array3<i32>) -> Array3<i32> {
    select(x > y, x - y, y - x)
}

pub fn rank3_i32_select() {
    let mut rng = Rng::new(60);
    for (a, b, c) in [(0, 1, 2), (2, 3, 4), (1, 1, 1)] {
        let x = Array3::from_shape_fn((a, b, c), |_| rng.int(-50, 50) as i32);
        let y = Array3::from_shape_fn((a, b, c), |_| rng.int(-50, 50) as i32);
        let want = Array3::from_shape_fn((a, b, c), |ix| (x[ix] - y[ix]).abs());
        assert_close(&cube(&x, &y).unwrap(), &want, "|x-y| on rank 3");
    }
}
