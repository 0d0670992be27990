//! The conformance suite: every case is written once, as a function that calls kernels with
//! host arrays, and [`conformance!`] instantiates it once per device (`Device::Interp` and
//! `Device::Cpu` and `Device::CudaSim`; `Cuda` runs through `cargo xtask test-gpu`). Each case
//! checks its kernel against a plain-Rust reference loop.

mod comprehensions;
mod elementwise;
mod errors;
mod reductions;

/// One `#[test]` per case and device, running the case with that device as the default.
macro_rules! conformance {
    ($($module:ident :: $case:ident),* $(,)?) => {
        /// The reference interpreter.
        mod interp {
            $(
                #[test]
                fn $case() {
                    kiln::with_device(kiln::Device::Interp, super::$module::$case)
                }
            )*
        }
        /// Native code from the Cranelift backend.
        mod cpu {
            $(
                #[test]
                fn $case() {
                    kiln::with_device(kiln::Device::Cpu, super::$module::$case)
                }
            )*
        }
        /// The generated CUDA C, executed by the CUDA simulator.
        mod cuda_sim {
            $(
                #[test]
                fn $case() {
                    kiln::with_device(kiln::Device::CudaSim, super::$module::$case)
                }
            )*
        }
    };
}

conformance! {
    elementwise::axpby_f32,
    elementwise::axpby_strided_views,
    elementwise::i32_wrapping_arith,
    elementwise::i64_div_rem_by_zero_is_zero,
    elementwise::u32_arith_and_compare,
    elementwise::f64_exp_ln_log1p_sqrt_rsqrt,
    elementwise::f32_sin_cos_tanh_sigmoid,
    elementwise::f64_floor_ceil_neg_powi,
    elementwise::f32_min_max_clamp_powf,
    elementwise::f64_min_max_propagate_nan,
    elementwise::f64_comparisons,
    elementwise::bool_logic,
    elementwise::f32_select_2d,
    elementwise::broadcast_row,
    elementwise::broadcast_outer_insert_axis,
    elementwise::broadcast_scalar_on_transposed_view,
    elementwise::casts_saturate_and_nan_to_zero,
    elementwise::int_and_bool_casts,
    elementwise::let_bindings_chain,
    elementwise::transpose_plus,
    reductions::sum_axes_and_all,
    reductions::mean_axis_and_all,
    reductions::prod_axis_and_all,
    reductions::min_max_axes_and_all,
    reductions::i64_reductions,
    reductions::argmin_argmax_axes,
    reductions::argmin_nan_wins,
    reductions::argmin_argmax_whole_array_flat_index,
    reductions::logsumexp_axis_and_all,
    reductions::var_std_ddof,
    reductions::rank3_reductions,
    reductions::standardize_generic_f32_and_f64,
    comprehensions::nearest_centroid,
    comprehensions::dot_matrix_matrix,
    comprehensions::dot_transposed_views,
    comprehensions::dot_matrix_vector_and_vector_vector,
    comprehensions::gather_in_range,
    comprehensions::gather_out_of_range_is_an_error,
    comprehensions::if_else_guards_an_index,
    comprehensions::range_reductions_in_comprehensions,
    comprehensions::pairwise_manhattan,
    comprehensions::index_values_and_reversal,
    errors::shape_mismatch_names_parameter_and_shapes,
    errors::dot_inner_dimension_mismatch,
    errors::dynamic_call_wrong_dtype_rank_and_count,
    errors::generic_kernel_rejects_int_float_param,
    errors::argmin_of_empty_is_an_error,
    errors::rank3_i32_select,
}
