"""kiln's Python baselines: the same work as `kiln-bench`, timed in numpy, numexpr, numba
and scikit-learn in one process, printed as one flat JSON object on stdout.

Run by `cargo xtask bench` inside its virtualenv (`target/bench-venv`); progress goes to
stderr so stdout stays machine-readable. A library that cannot be imported is reported as
`<lib>_error` and the rest still runs. Every timing is the median (and minimum) of N runs
after warm-up; numba's first call, which includes its JIT compile, is reported apart as
`numba_first_call_ms`.

The inputs follow the same formulas as `benches/src/lib.rs` (`input_x`, `input_y`,
`points`, `centers`), so both sides compute the same values.
"""

import json
import os
import platform
import statistics
import sys
import time

N = 16 * 1024 * 1024  # 16M f32, as in kiln-bench
NEAREST_N, NEAREST_K, NEAREST_D = 100_000, 64, 32


def log(msg):
    print(f"baselines: {msg}", file=sys.stderr, flush=True)


def measure(fn, warmup, runs):
    """Median and minimum wall time in milliseconds of `runs` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def record(out, key, fn, warmup, runs):
    med, mn = measure(fn, warmup, runs)
    out[f"{key}_ms"] = med
    out[f"{key}_min_ms"] = mn
    log(f"{key}: median {med:.3f} ms, min {mn:.3f} ms over {runs} runs")


def inputs(np, n):
    """x[i] in [-1, 1), y[i] in [-2, 2): cheap deterministic patterns, identical in Rust."""
    i = np.arange(n, dtype=np.int64)
    x = ((i % 1000).astype(np.float32) * np.float32(0.002) - np.float32(1.0)).astype(np.float32)
    y = ((i % 777).astype(np.float32) * np.float32(0.005) - np.float32(2.0)).astype(np.float32)
    return x, y


def nearest_inputs(np, n, k, d):
    """Points and centers of the `nearest` benchmark, identical in Rust."""
    i = np.arange(n * d, dtype=np.int64)
    pts = ((i * 7919 % 10007).astype(np.float32) * np.float32(1e-4)).reshape(n, d)
    j = np.arange(k * d, dtype=np.int64)
    ctr = ((j * 104729 % 10007).astype(np.float32) * np.float32(1e-4)).reshape(k, d)
    return pts, ctr


MATMUL_N = 2048


def matmul_inputs(np, n, seed):
    """A `matmul` operand, identical in Rust (`kiln_benches::square`)."""
    return tall(np, n, n, seed)


GRAM_N = 200_000
GRAM_D = (32, 300)


def tall(np, n, d, seed):
    """An `n x d` operand, identical in Rust (`kiln_benches::tall`)."""
    j = np.arange(n * d, dtype=np.int64)
    return ((j * seed % 1009).astype(np.float64) * 1e-3 - 0.5).reshape(n, d)


def main():
    quick = "--quick" in sys.argv[1:]
    warmup, runs = (1, 3) if quick else (3, 15)
    n = N // 16 if quick else N
    out = {
        "python": platform.python_version(),
        "n": n,
        "runs": runs,
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE", ""),
    }

    try:
        import numpy as np
    except ImportError as e:  # nothing else can run without numpy
        out["numpy_error"] = str(e)
        print(json.dumps(out))
        return
    out["numpy_version"] = np.__version__
    if "--estimators-only" in sys.argv[1:]:
        # A later round of the estimator benchmarks alone (`cargo xtask bench` alternates
        # rounds of scikit-learn and kiln).
        try:
            estimators(np, out, quick)
        except Exception as e:  # noqa: BLE001
            out["estimators_error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out))
        return
    x, y = inputs(np, n)
    a, b = np.float32(1.5), np.float32(-0.5)

    try:
        import threadpoolctl

        blas = [
            f"{p.get('internal_api')} {p.get('version')} {p.get('architecture', '')} threads={p.get('num_threads')}"
            for p in threadpoolctl.threadpool_info()
            if p.get("user_api") == "blas"
        ]
        out["blas"] = "; ".join(dict.fromkeys(blas)) or "none found"
    except ImportError as e:
        out["blas"] = f"unknown (threadpoolctl: {e})"

    log(f"numpy {np.__version__}, n={n}, BLAS: {out['blas']}")
    record(out, "numpy_axpby", lambda: a * x + b * y, warmup, runs)
    record(out, "numpy_sum", lambda: x.sum(), warmup, runs)
    record(out, "numpy_exp_sin", lambda: np.exp(x) * np.sin(y), warmup, runs)

    out["matmul_n3"] = float(MATMUL_N) ** 3
    ma, mb = matmul_inputs(np, MATMUL_N, 7919), matmul_inputs(np, MATMUL_N, 104729)
    record(out, "numpy_matmul_f64", lambda: ma @ mb, 1, max(3, runs // 3))
    ma, mb = ma.astype(np.float32), mb.astype(np.float32)
    record(out, "numpy_matmul_f32", lambda: ma @ mb, 1, max(3, runs // 3))
    del ma, mb
    for d in GRAM_D:
        gx = tall(np, GRAM_N, d, 7919).astype(np.float32)
        out[f"gram_d{d}_nd2"] = float(GRAM_N * d * d)
        record(out, f"numpy_gram_d{d}", lambda: gx.T @ gx, 1, max(3, runs // 3))
        del gx

    try:
        import numexpr as ne

        out["numexpr_version"] = ne.__version__
        out["numexpr_threads"] = ne.get_num_threads()
        local = {"a": a, "x": x, "b": b, "y": y}
        record(out, "numexpr_axpby", lambda: ne.evaluate("a*x + b*y", local_dict=local), warmup, runs)
    except Exception as e:  # noqa: BLE001 - any failure is reported, the rest goes on
        out["numexpr_error"] = f"{type(e).__name__}: {e}"

    try:
        import numba

        out["numba_version"] = numba.__version__
        out["numba_threads"] = numba.config.NUMBA_NUM_THREADS

        @numba.njit(parallel=True)
        def axpby_prange(a, x, b, y):
            res = np.empty_like(x)
            for i in numba.prange(x.shape[0]):
                res[i] = a * x[i] + b * y[i]
            return res

        t0 = time.perf_counter()
        axpby_prange(a, x, b, y)
        out["numba_first_call_ms"] = (time.perf_counter() - t0) * 1e3
        log(f"numba first call (compile + one run): {out['numba_first_call_ms']:.1f} ms")
        record(out, "numba_axpby", lambda: axpby_prange(a, x, b, y), warmup, runs)
    except Exception as e:  # noqa: BLE001
        out["numba_error"] = f"{type(e).__name__}: {e}"

    try:
        import sklearn
        from sklearn.metrics import pairwise_distances_argmin_min

        out["sklearn_version"] = sklearn.__version__
        nn = NEAREST_N // 16 if quick else NEAREST_N
        out["nearest_n"] = nn
        pts, ctr = nearest_inputs(np, nn, NEAREST_K, NEAREST_D)
        record(out, "sklearn_nearest", lambda: pairwise_distances_argmin_min(pts, ctr), 1, max(3, runs // 3))
    except Exception as e:  # noqa: BLE001
        out["sklearn_error"] = f"{type(e).__name__}: {e}"

    try:
        estimators(np, out, quick)
    except Exception as e:  # noqa: BLE001
        out["estimators_error"] = f"{type(e).__name__}: {e}"

    print(json.dumps(out))


EST_N, EST_D, EST_K, EST_CLASSES = 200_000, 32, 16, 4


def estimator_data(np, n, d, k, classes):
    """The estimator benchmark's data: blobs in d dimensions (f32), class labels, a linear
    target and the KMeans initial centers, seeded. Written to .npy for kiln-bench-estimators,
    so both sides fit exactly the same numbers."""
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=n, n_features=d, centers=classes, cluster_std=3.0, random_state=0)
    x = x.astype(np.float32)
    rng = np.random.default_rng(0)
    coef = rng.normal(size=d).astype(np.float32)
    t = (x @ coef + rng.normal(scale=0.5, size=n)).astype(np.float32)
    init = x[rng.choice(n, size=k, replace=False)].copy()
    return x, y.astype(np.int64), t, init


def estimators(np, out, quick):
    """scikit-learn's estimators on the data kiln-bench-estimators reads (`KILN_BENCH_DATA`)."""
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler

    n = EST_N // 16 if quick else EST_N
    x, y, t, init = estimator_data(np, n, EST_D, EST_K, EST_CLASSES)
    folder = os.environ.get("KILN_BENCH_DATA")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name, a in (("x", x), ("y", y), ("t", t), ("init", init)):
            np.save(os.path.join(folder, f"est_{name}.npy"), a)
    out["est_n"], out["est_d"] = n, EST_D
    runs = 3 if quick else 5
    log(f"estimators: scikit-learn {sklearn.__version__}, X {n} x {EST_D} f32")
    record(out, "sk_standard_scaler", lambda: StandardScaler().fit_transform(x), 1, runs)
    record(out, "sk_ridge", lambda: Ridge(alpha=1.0).fit(x, t), 1, runs)
    record(out, "sk_pca", lambda: PCA(n_components=8, svd_solver="covariance_eigh").fit(x), 1, runs)
    km = KMeans(n_clusters=EST_K, init=init, n_init=1, max_iter=50, tol=0.0, algorithm="lloyd")
    record(out, "sk_kmeans", lambda: km.fit(x), 1, runs)
    out["sk_kmeans_n_iter"] = int(km.n_iter_)
    lr = LogisticRegression(C=1.0, max_iter=100, tol=0.0)
    record(out, "sk_logistic", lambda: lr.fit(x, y), 1, max(2, runs - 2))
    out["sk_logistic_n_iter"] = int(lr.n_iter_[0])


if __name__ == "__main__":
    main()
