//! Error messages that teach: when a method or function name is close to one kiln supports,
//! the error says which. Known spellings from numpy, C and other languages map to the Rust
//! name; other near misses (one or two letters off) are found by edit distance.

/// Spellings users bring from numpy, C, JAX or ndarray, and what kiln calls them.
const ALIASES: &[(&str, &str)] = &[
    ("ln1p", "ln_1p"),
    ("expm1", "exp_m1"),
    ("log", "ln"),
    ("arctan", "atan"),
    ("arctan2", "atan2"),
    ("arcsinh", "asinh"),
    ("arccosh", "acosh"),
    ("arctanh", "atanh"),
    ("power", "powf"),
    ("pow", "powf"),
    ("sign", "signum"),
    ("absolute", "abs"),
    ("fabs", "abs"),
    ("fmin", "min"),
    ("fmax", "max"),
    ("minimum", "min"),
    ("maximum", "max"),
    ("isnan", "is_nan"),
    ("isfinite", "is_finite"),
    ("isinf", "is_infinite"),
    ("reciprocal", "recip"),
    ("rint", "round"),
    ("fix", "trunc"),
    ("popcount", "count_ones"),
    ("popcnt", "count_ones"),
    ("clip", "clamp"),
    ("where", "select"),
    ("amax", "max"),
    ("amin", "min"),
    ("average", "mean"),
    ("sum_axes", "sum_axis"),
    ("square", "powi(2)"),
    ("cumulative_sum", "cumsum"),
    ("cumulative_prod", "cumprod"),
    ("accumulate", "cumsum, cumprod, cummax or cummin"),
    ("sort", "sort_axis(Axis(k))"),
    ("argsort", "argsort_axis(Axis(k))"),
    ("median", "median_axis(Axis(k))"),
    ("quantile", "quantile_axis(Axis(k), q)"),
    ("topk", "smallest_k_axis(Axis(a), k) or largest_k_axis"),
    ("top_k", "smallest_k_axis(Axis(a), k) or largest_k_axis"),
    ("reshape", "into_shape_with_order((a, b))"),
    ("into_shape", "into_shape_with_order((a, b))"),
    ("transpose", "t()"),
    ("prod_axes", "product_axis"),
    ("hstack", "concatenate![Axis(1), x, y]"),
    ("vstack", "concatenate![Axis(0), x, y]"),
    ("identity", "Array2::eye(n)"),
    ("fma", "mul_add"),
];

/// Every method name the front end accepts, for near-miss suggestions.
const METHODS: &[&str] = &[
    "exp",
    "ln",
    "log1p",
    "ln_1p",
    "exp_m1",
    "exp2",
    "log2",
    "log10",
    "sqrt",
    "rsqrt",
    "abs",
    "sin",
    "cos",
    "tan",
    "tanh",
    "atan",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "cbrt",
    "round",
    "trunc",
    "signum",
    "erf",
    "erfc",
    "sigmoid",
    "floor",
    "ceil",
    "recip",
    "fract",
    "is_nan",
    "is_finite",
    "is_infinite",
    "count_ones",
    "atan2",
    "hypot",
    "rem_euclid",
    "wrapping_add",
    "wrapping_sub",
    "wrapping_mul",
    "wrapping_neg",
    "wrapping_abs",
    "wrapping_shl",
    "wrapping_shr",
    "powi",
    "powf",
    "min",
    "max",
    "clamp",
    "sum",
    "prod",
    "argmin",
    "argmax",
    "mean",
    "logsumexp",
    "var",
    "std",
    "dot",
    "t",
    "reversed_axes",
    "insert_axis",
    "dim",
    "len",
    "len_of",
    "nrows",
    "ncols",
    "mapv",
    "sum_axis",
    "prod_axis",
    "min_axis",
    "max_axis",
    "argmin_axis",
    "argmax_axis",
    "mean_axis",
    "logsumexp_axis",
    "var_axis",
    "std_axis",
    "slice",
    "slice_axis",
    "view",
    "to_owned",
    "clone",
    "into_owned",
    "cumsum",
    "cumprod",
    "cummax",
    "cummin",
    "bincount",
    "bincount_weighted",
    "sort_axis",
    "argsort_axis",
    "median_axis",
    "quantile_axis",
    "smallest_k_axis",
    "largest_k_axis",
    "mul_add",
    "product",
    "product_axis",
    "row",
    "column",
    "into_shape_with_order",
    "to_shape",
    "diff",
    "unwrap",
    "expect",
];

/// A "did you mean" clause for an unknown method or function `name` (with a leading space),
/// or an empty string when nothing is close.
pub(crate) fn suggestion(name: &str) -> String {
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == name) {
        return format!(" (kiln, like Rust, spells it `{to}`)");
    }
    let best = METHODS
        .iter()
        .map(|m| (edit_distance(name, m), *m))
        .filter(|(d, m)| *d <= if name.len() <= 4 { 1 } else { 2 } && *m != name)
        .min();
    match best {
        Some((_, m)) => format!(" (did you mean `{m}`?)"),
        None => String::new(),
    }
}

/// The hint for a path call kiln does not know, like `Zip::from(..)`.
pub(crate) fn path_suggestion(text: &str) -> String {
    if text.starts_with("Zip::") || text.starts_with("ndarray::Zip::") {
        return " (write elementwise code as array expressions, or a comprehension `Array1::from_shape_fn(n, |i| ...)`)".into();
    }
    if text.starts_with("ndarray::") || text.starts_with("Array") {
        return " (kernels take `Array1::zeros`, `ones`, `from_elem`, `linspace`, `eye` and `from_shape_fn`, spelled `ArrayN::name` without a crate path)".into();
    }
    if text.ends_with("::concatenate") || text.ends_with("::stack") {
        return " (write `concatenate![Axis(a), x, y]`, `stack![Axis(a), x, y]` or `ndarray::concatenate(Axis(a), &[x.view(), y.view()])`)".into();
    }
    String::new()
}

/// Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_spellings_and_near_misses_are_named() {
        assert!(suggestion("ln1p").contains("`ln_1p`"));
        assert!(suggestion("arctan2").contains("`atan2`"));
        assert!(suggestion("sqrtt").contains("`sqrt`"));
        assert!(suggestion("sum_axiss").contains("`sum_axis`"));
        assert_eq!(suggestion("frobnicate"), "");
        assert!(path_suggestion("Zip::from").contains("from_shape_fn"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
