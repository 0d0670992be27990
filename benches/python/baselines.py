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
SORT_N = 1 << 20
BINS = 64


def sort_input(np, n):
    """The argsort benchmark's values, identical in Rust (`kiln_benches::sort_input`)."""
    i = np.arange(n, dtype=np.int64)
    return ((i * 7919 % 1000003).astype(np.float32) * np.float32(1e-6)).astype(np.float32)



def matmul_inputs(np, n, seed):
    """A `matmul` operand, identical in Rust (`kiln_benches::square`)."""
    return tall(np, n, n, seed)


RBF_N = 2048
SOFTMAX_N = 4096


def rbf_numpy(np, x, y, gamma):
    """scikit-learn's `rbf_kernel` in numpy: `|x|^2 - 2 x y^T + |y|^2` (a GEMM and passes, as
    `euclidean_distances` computes it, clipped at 0), then `exp(-gamma d2)`, in place."""
    xx = np.einsum("ij,ij->i", x, x)[:, None]
    yy = np.einsum("ij,ij->i", y, y)[None, :]
    k = x @ y.T
    k *= -2
    k += xx
    k += yy
    np.maximum(k, 0, out=k)
    k *= -gamma
    np.exp(k, out=k)
    return k


def softmax_numpy(np, x):
    """The softmax of each row: `e = exp(x - max)`, then `e / e.sum()`."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


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
    folder = os.environ.get("KILN_BENCH_DATA")
    if folder:
        # The inputs of `kiln run --bench` (the CLI's dynamic call path, issue 16).
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "cli_x.npy"), x)
        np.save(os.path.join(folder, "cli_y.npy"), y)

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
    # Issue 15: cumsum of n f32, argsort of 1M f32 (default and stable), bincount of n labels.
    record(out, "numpy_cumsum", lambda: np.cumsum(x), warmup, runs)
    s = sort_input(np, SORT_N)
    out["sort_n"] = SORT_N
    record(out, "numpy_argsort", lambda: np.argsort(s), warmup, runs)
    record(out, "numpy_argsort_stable", lambda: np.argsort(s, kind="stable"), warmup, runs)
    labels = (np.arange(n, dtype=np.int64) * 7919) % BINS
    record(out, "numpy_bincount", lambda: np.bincount(labels, minlength=BINS), warmup, runs)
    del s, labels

    out["matmul_n3"] = float(MATMUL_N) ** 3
    ma, mb = matmul_inputs(np, MATMUL_N, 7919), matmul_inputs(np, MATMUL_N, 104729)
    record(out, "numpy_matmul_f64", lambda: ma @ mb, 1, max(3, runs // 3))
    ma, mb = ma.astype(np.float32), mb.astype(np.float32)
    record(out, "numpy_matmul_f32", lambda: ma @ mb, 1, max(3, runs // 3))
    del ma, mb
    # Issue 16: a fused contraction (the RBF kernel matrix of two 2048 x 2048 f32 sets, the
    # `a @ b` operands) as numpy computes it (GEMM + passes + exp), and scikit-learn's own
    # `rbf_kernel` (which upcasts float32 blocks to float64 for the distances); softmax.
    out["rbf_n3"] = float(RBF_N) ** 3
    rx = matmul_inputs(np, RBF_N, 7919).astype(np.float32)
    ry = matmul_inputs(np, RBF_N, 104729).astype(np.float32)
    gamma = np.float32(1.0 / RBF_N)
    record(out, "numpy_rbf", lambda: rbf_numpy(np, rx, ry, gamma), 1, max(3, runs // 3))
    try:
        from sklearn.metrics.pairwise import rbf_kernel

        record(out, "sklearn_rbf", lambda: rbf_kernel(rx, ry, gamma=float(gamma)), 1, max(3, runs // 3))
    except Exception as e:  # noqa: BLE001
        out["sklearn_rbf_error"] = f"{type(e).__name__}: {e}"
    del rx, ry
    out["softmax_n"] = float(SOFTMAX_N) ** 2
    sx = matmul_inputs(np, SOFTMAX_N, 7919).astype(np.float32)
    record(out, "numpy_softmax", lambda: softmax_numpy(np, sx), warmup, runs)
    del sx
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
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
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
    record(out, "sk_lda", lambda: LinearDiscriminantAnalysis().fit(x, y), 1, runs)
    km = KMeans(n_clusters=EST_K, init=init, n_init=1, max_iter=50, tol=0.0, algorithm="lloyd")
    record(out, "sk_kmeans", lambda: km.fit(x), 1, runs)
    out["sk_kmeans_n_iter"] = int(km.n_iter_)
    lr = LogisticRegression(C=1.0, max_iter=100, tol=0.0)
    record(out, "sk_logistic", lambda: lr.fit(x, y), 1, max(2, runs - 2))
    out["sk_logistic_n_iter"] = int(lr.n_iter_[0])
    gaussian_mixture(np, out, quick, folder, runs)
    knn_bench(np, out, quick, folder)
    tuning_estimators(np, out, quick, x, y, folder)


GMM_N, GMM_D, GMM_K, GMM_ITERS = 100_000, 16, 8, 10


def gaussian_mixture_data(np, n):
    """GaussianMixture's benchmark data (float64, scikit-learn's dtype for numpy input): blobs in
    16 dimensions around 8 centers, and 8 rows as the starting means."""
    from sklearn.datasets import make_blobs

    x, _ = make_blobs(n_samples=n, n_features=GMM_D, centers=GMM_K, cluster_std=2.0, random_state=1)
    means = x[np.random.default_rng(1).choice(n, size=GMM_K, replace=False)].copy()
    return x, means


def gaussian_mixture(np, out, quick, folder, runs):
    """GaussianMixture (full covariances) for a fixed number of EM iterations (tol = 0), from
    random responsibilities (random_state=0) and given means: kiln draws the same start."""
    from sklearn.mixture import GaussianMixture

    n = GMM_N // 16 if quick else GMM_N
    x, means = gaussian_mixture_data(np, n)
    if folder:
        np.save(os.path.join(folder, "est_gmm_x.npy"), x)
        np.save(os.path.join(folder, "est_gmm_means.npy"), means)
    out["gmm_n"] = n
    gmm = GaussianMixture(GMM_K, covariance_type="full", init_params="random", means_init=means,
                          max_iter=GMM_ITERS, tol=0.0, random_state=0)
    record(out, "sk_gmm", lambda: gmm.fit(x), 1, runs)
    out["sk_gmm_n_iter"] = int(gmm.n_iter_)


# KNeighborsClassifier.predict: 100k training rows, 20k queries, 32 features, k = 10, f32.
KNN_N, KNN_Q, KNN_K = 100_000, 20_000, 10


def knn_bench(np, out, quick, folder):
    """scikit-learn's brute-force KNeighborsClassifier.predict on the data kiln reads
    (`knn_{x,y,q}.npy`); quick mode uses an eighth of the rows and of the queries."""
    from sklearn.datasets import make_blobs
    from sklearn.neighbors import KNeighborsClassifier

    n, q = (KNN_N // 8, KNN_Q // 8) if quick else (KNN_N, KNN_Q)
    x, y = make_blobs(n_samples=n + q, n_features=EST_D, centers=EST_CLASSES, cluster_std=3.0, random_state=1)
    x = x.astype(np.float32)
    train, ytrain, query = x[:n], y[:n].astype(np.int64), x[n:]
    if folder:
        for name, a in (("x", train), ("y", ytrain), ("q", query)):
            np.save(os.path.join(folder, f"knn_{name}.npy"), a)
    knn = KNeighborsClassifier(n_neighbors=KNN_K, algorithm="brute").fit(train, ytrain)
    log(f"estimators: KNeighborsClassifier.predict, {n} x {EST_D} training rows, {q} queries, k = {KNN_K}")
    record(out, "sk_knn", lambda: knn.predict(query), 1, 2 if quick else 3)
    out["knn_n"], out["knn_q"] = n, q


# ---------------------------------------------------------------------------------------
# The tuning workload's estimators (issues 17 and 18): Nystroem, RidgeCV, SplineTransformer,
# GaussianNB and one candidate of the SplineTransformer -> Nystroem -> RidgeCV search.

TUNE_ROWS, RCV_N, RCV_D, NYS_N = 100_000, 100_000, 300, 100_000
TUNE_ALPHAS = [10.0**e for e in range(-6, 7)]  # np.logspace(-6, 6, 13)
# (label, n_knots, degree, kernel, gamma, n_components)
TUNE_CANDIDATES = [("c300", 20, 3, "rbf", 0.1, 300), ("c10", 20, 3, "rbf", 0.1, 10)]


def tuning_data(np, rows, seed):
    """The workload's data: x uniform on [-pi, pi]^2, t = sin(2 x0) cos(x1)^4 plus normal
    noise of standard deviation 0.3 cos(x1)^6 + 0.1 (f32)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(rows, 2))
    noise = rng.normal(size=rows) * (0.3 * np.cos(x[:, 1]) ** 6 + 0.1)
    t = np.sin(2 * x[:, 0]) * np.cos(x[:, 1]) ** 4 + noise
    return x.astype(np.float32), t.astype(np.float32)


def tuning_estimators(np, out, quick, x, y, folder):
    """Times each estimator of the workload and one candidate (with its steps), on data
    written to `folder` for kiln-bench-estimators."""
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import RidgeCV
    from sklearn.naive_bayes import GaussianNB
    from sklearn.metrics import r2_score
    from sklearn.preprocessing import SplineTransformer

    scale = 16 if quick else 1
    runs = 3 if quick else 5
    rows = TUNE_ROWS // scale
    xt, tt = tuning_data(np, rows, 0)
    nys_x = np.ascontiguousarray(x[: NYS_N // scale])
    rng = np.random.default_rng(1)
    rcv_x = rng.normal(size=(RCV_N // scale, RCV_D)).astype(np.float32)
    rcv_t = (rcv_x @ rng.normal(size=RCV_D) + rng.normal(size=rcv_x.shape[0])).astype(np.float32)
    if folder:
        for name, a in (("tune_x", xt), ("tune_t", tt), ("nys_x", nys_x), ("rcv_x", rcv_x), ("rcv_t", rcv_t)):
            np.save(os.path.join(folder, f"{name}.npy"), a)
    out["tune_rows"], out["nys_n"], out["rcv_n"] = rows, nys_x.shape[0], rcv_x.shape[0]

    nys = Nystroem(kernel="rbf", gamma=0.1, n_components=300, random_state=0)
    record(out, "sk_nystroem", lambda: nys.fit_transform(nys_x), 1, runs)
    rcv = RidgeCV(alphas=TUNE_ALPHAS)
    record(out, "sk_ridge_cv", lambda: rcv.fit(rcv_x, rcv_t), 1, runs)
    out["sk_ridge_cv_alpha"] = float(rcv.alpha_)
    spl = SplineTransformer(n_knots=50, degree=3)
    record(out, "sk_spline", lambda: spl.fit_transform(xt), 1, runs)
    record(out, "sk_gaussian_nb", lambda: GaussianNB().fit(x, y).predict(x), 1, runs)

    n_train = rows * 4 // 5
    xa, ta, xb, tb = xt[:n_train], tt[:n_train], xt[n_train:], tt[n_train:]
    for label, n_knots, degree, kernel, gamma, m in TUNE_CANDIDATES:
        steps = {}

        def candidate():
            t0 = time.perf_counter()
            s = SplineTransformer(n_knots=n_knots, degree=degree)
            za = s.fit_transform(xa)
            t1 = time.perf_counter()
            ny = Nystroem(kernel=kernel, gamma=gamma, n_components=m, random_state=0)
            fa = ny.fit_transform(za)
            t2 = time.perf_counter()
            r = RidgeCV(alphas=TUNE_ALPHAS).fit(fa, ta)
            t3 = time.perf_counter()
            score = r2_score(tb, r.predict(ny.transform(s.transform(xb))))
            t4 = time.perf_counter()
            for k, v in (("spline", t1 - t0), ("nystroem", t2 - t1), ("ridge_cv", t3 - t2), ("score", t4 - t3)):
                steps.setdefault(k, []).append(v * 1e3)
            return score

        record(out, f"sk_tune_{label}", candidate, 1, runs)
        out[f"sk_tune_{label}_r2"] = float(candidate())
        for k, v in steps.items():
            out[f"sk_tune_{label}_{k}_ms"] = statistics.median(v[1 : runs + 1])  # the timed runs


if __name__ == "__main__":
    main()
