//! The conformance suite: every case is written once, as a function that calls kernels with
//! host arrays, and [`conformance!`] instantiates it once per device (`Device::Interp` and
//! `Device::Cpu`, `Device::CudaSim`, and `Device::Cuda(0)` where a GPU exists: `cargo xtask test-gpu`). Each case
//! checks its kernel against a plain-Rust reference loop.

mod accuracy;
mod bounds;
mod comprehensions;
mod constructors;
mod contractions_gpu;
mod elementwise;
mod errors;
mod extents;
mod fused;
mod reductions;
mod scans;
mod scatter;
mod selects;
mod slicing;
mod sorts;
mod tiles;
mod topk;

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
        /// A real GPU, `Device::Cuda(0)`, where one exists (`cargo xtask test-gpu`); elsewhere
        /// each case prints that it skipped.
        mod cuda {
            $(
                #[test]
                fn $case() {
                    if kiln::runtime::cuda_device_count() == 0 {
                        kiln_cuda::tools::skip_test(
                            concat!("conformance::cuda::", stringify!($case)),
                            "no CUDA driver/GPU",
                        );
                        return;
                    }
                    kiln::with_device(kiln::Device::Cuda(0), super::$module::$case)
                }
            )*
        }
        /// Every kernel of the suite compiles with NVRTC for sm_80 and sm_90 and assembles
        /// with ptxas without spilling (each dtype instantiation of generic kernels).
        mod nvrtc {
            #[test]
            fn every_kernel_compiles_for_sm80_and_sm90_without_spills() {
                let Some(_tools) = kiln_cuda::tools::tools_for_test("conformance kernels through NVRTC and ptxas") else {
                    return;
                };
                // Calling every case instantiates every kernel handle (on the CPU: the
                // interpreter has run each case in its own test).
                $( kiln::with_device(kiln::Device::Cpu, super::$module::$case); )*
                let kernels = kiln::runtime::used_kernels();
                assert!(kernels.len() >= 40, "the suite has {} kernels", kernels.len());
                // Every (kernel, float type, arch) through NVRTC and ptxas on the rayon pool
                // (independent compiles), then the largest register count per arch, and where.
                use rayon::prelude::*;
                let jobs: Vec<_> = kernels
                    .iter()
                    .flat_map(|k| {
                        let floats: Vec<Option<kiln::DType>> =
                            if k.is_generic() { vec![Some(kiln::DType::F32), Some(kiln::DType::F64)] } else { vec![None] };
                        floats.into_iter().flat_map(move |f| [80, 90].map(|a| (*k, f, kiln::runtime::Arch(a))))
                    })
                    .collect();
                let reports: Vec<_> = jobs
                    .par_iter()
                    .map(|(k, float, arch)| {
                        let report = k.ptxas(*float, *arch).unwrap_or_else(|e| panic!("{}: {e}", k.name()));
                        assert!(!report.is_empty(), "{}: ptxas reported no kernels", k.name());
                        (k, float, report)
                    })
                    .collect();
                let mut worst = std::collections::BTreeMap::<String, (u32, String)>::new();
                let mut spilling = Vec::new();
                for (k, float, report) in reports {
                    for r in report {
                        if r.spills() {
                            spilling.push(format!("{}/{}", k.name(), r.arch));
                        }
                        let w = worst.entry(r.arch.clone()).or_default();
                        if r.registers > w.0 {
                            *w = (r.registers, format!("{} ({}, {float:?})", r.name, k.name()));
                        }
                    }
                }
                for (arch, (n, what)) in &worst {
                    eprintln!("worst register count on {arch}: {n} in {what}");
                }
                spilling.sort();
                assert!(spilling.is_empty(), "kernels that spill: {spilling:?}");
            }
        }
    };
}

conformance! {
    accuracy::f32_sums_of_4096_and_a_million_are_within_a_few_ulps,
    accuracy::f32_row_sums_of_4096_are_within_a_few_ulps,
    accuracy::f32_column_sums_over_half_a_million_rows_stay_within_the_blocked_error_bound,
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
    elementwise::f32_std_transcendentals,
    elementwise::f64_atan2_hypot_cbrt_erf,
    elementwise::f64_round_trunc_fract_signum_recip_and_classes,
    elementwise::f32_powi_with_a_runtime_exponent,
    elementwise::int_rem_euclid_abs_shifts_count_ones_wrapping,
    elementwise::std_and_num_traits_constants,
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
    scans::cumsum_both_axes,
    scans::cumprod_cummax_cummin,
    scans::i64_scans_are_exact,
    scans::f32_cumsum_bits_match_the_interpreter_on_strided_views,
    scans::cumsum_1d_empty_single_and_long,
    scans::block_scans_of_every_length_along_both_axes,
    scans::block_scans_of_strided_views,
    scatter::bincount_counts_and_weighted_sums,
    scatter::bincount_of_strided_and_i32_labels,
    scatter::bincount_labels_out_of_range_are_errors,
    sorts::sort_and_argsort_are_stable_with_nan_last,
    sorts::argsort_of_strided_views,
    sorts::neighbours_ordered_by_a_distance_comprehension,
    sorts::median_and_quantiles_are_numpys,
    sorts::empty_lanes_and_quantiles_out_of_range_are_errors,
    sorts::k_nearest_fused_with_a_distance_comprehension,
    sorts::smallest_k_with_ties_nan_and_k_past_the_axis,
    topk::chunked_top_k_matches_a_stable_selection,
    topk::chunked_top_k_of_strided_operands,
    topk::chunked_top_k_of_an_arithmetic_element,
    topk::chunked_top_k_of_empty_lanes_and_no_lanes,
    topk::chunked_top_k_tests_chunks_with_vector_instructions,
    sorts::long_lanes_radix_sort_floats_with_nan_inf_and_signed_zeros,
    sorts::long_lanes_radix_sort_strided_views,
    sorts::long_lanes_radix_sort_integers_stably_with_negatives_and_extremes,
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
    comprehensions::contractions_over_rows,
    comprehensions::one_hot_sums_over_rows,
    selects::binary_label_from_a_decision_reduction,
    selects::three_class_chained_select_on_i64,
    selects::chained_select_of_scalar_i64_params,
    selects::argmax_gather_and_wide_i64_constants,
    selects::i64_selects_nested_in_both_arms,
    selects::selects_of_mixed_widths,
    selects::select_on_an_inline_reduction_and_a_count,
    selects::generic_float_nested_select_labels,
    tiles::matmul_at_tile_edges,
    tiles::distances_at_tile_edges,
    tiles::gram_at_tile_edges,
    contractions_gpu::rbf_kernel_at_tile_edges_in_every_layout,
    contractions_gpu::distances_argmin_and_min_at_tile_edges,
    contractions_gpu::centred_gram_over_the_rows_at_tile_edges,
    contractions_gpu::integer_product_at_tile_edges,
    contractions_gpu::boolean_masked_sums_at_tile_edges,
    contractions_gpu::fused_contractions_take_the_tiled_mapping,
    errors::shape_mismatch_names_parameter_and_shapes,
    errors::dot_inner_dimension_mismatch,
    errors::dynamic_call_wrong_dtype_rank_and_count,
    errors::generic_kernel_rejects_int_float_param,
    errors::argmin_of_empty_is_an_error,
    errors::rank3_i32_select,
    extents::one_hot_with_a_scalar_extent,
    extents::negative_and_huge_scalar_extents_are_typed_errors,
    extents::gather_with_an_index_value,
    extents::outer_products_with_d_times_d,
    extents::differences_with_n_minus_1,
    extents::halves_and_twice_k,
    bounds::lower_triangular_cumulative_sum_and_max,
    bounds::banded_window_sums_and_an_integer_running_min,
    constructors::zeros_ones_from_elem_eye_and_linspace,
    constructors::num_traits_limits_per_instantiation,
    constructors::rows_columns_and_transposes,
    constructors::contiguous_reshapes_and_their_size_checks,
    constructors::concatenate_and_stack,
    constructors::concatenate_and_stack_functions,
    constructors::array_literals_are_constants,
    constructors::diff_product_axis_and_mean_unwrap,
    fused::mul_add_rounds_once_on_arrays_and_scalars,
    fused::mul_add_broadcasts_and_is_generic,
    fused::mul_add_in_vector_loops_rounds_once,
    bounds::symmetric_gram_computes_one_triangle,
    slicing::diff_of_neighbours, slicing::every_other_row_from_column_one, slicing::integer_index_drops_the_axis, slicing::negative_steps_bounds_and_reversal, slicing::rank3_slices_and_a_reduction_of_a_slice, slicing::literal_windows_and_empty_results, slicing::slice_axis_with_slice_from, slicing::out_of_range_bounds_are_typed_errors, slicing::parameter_bounds,
}
