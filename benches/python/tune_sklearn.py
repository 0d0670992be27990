"""scikit-learn's side of the tuning workload: evaluate exactly the candidates and splits
kiln drew, and report the time and every candidate's mean score.

    python tune_sklearn.py X.npy y.npy kiln_results.json [--repeat R]

`kiln_results.json` is what `kiln tune --out` writes: `splits` (a list of
`{"train": [...], "test": [...]}`) and `candidates` (a list of `{"params": {...}, ...}`,
parameters under `make_pipeline`'s names). The pipeline is
SplineTransformer -> Nystroem -> RidgeCV(alphas=np.logspace(-6, 6, 13)), searched by
GridSearchCV over the explicit list of candidates (one single-valued grid per candidate) on
the explicit splits, scored by R^2, without a refit (kiln's search time does not include one
either). Nystroem's `random_state` is 0 unless a candidate names `nystroem__random_state`;
kiln's Nystroem with seed 0 draws the same components (it draws as numpy's RandomState does).

Prints one flat JSON object on stdout: both sides' search times (scikit-learn's the best of
`--repeat` runs), both best candidates and scores, and the largest difference between the two
sides' per-candidate mean scores. Progress goes to stderr.
"""

import json
import sys
import time


def log(msg):
    print(f"tune_sklearn: {msg}", file=sys.stderr, flush=True)


def main(argv):
    import numpy as np
    import sklearn
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    args = [a for a in argv if not a.startswith("--")]
    repeat = 1
    if "--repeat" in argv:
        repeat = int(argv[argv.index("--repeat") + 1])
        args = [a for a in args if a != str(repeat)]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    x = np.load(args[0])
    y = np.load(args[1])
    with open(args[2]) as f:
        kiln = json.load(f)

    cv = [(np.asarray(s["train"], dtype=np.int64), np.asarray(s["test"], dtype=np.int64)) for s in kiln["splits"]]
    grid = [{name: [value] for name, value in c["params"].items()} for c in kiln["candidates"]]
    pipe = make_pipeline(
        SplineTransformer(),
        Nystroem(random_state=0),
        RidgeCV(alphas=np.logspace(-6, 6, 13)),
    )
    log(f"{len(grid)} candidates x {len(cv)} splits on {x.shape[0]} rows ({x.dtype})")
    best_seconds, search = None, None
    for r in range(repeat):
        search = GridSearchCV(pipe, grid, cv=cv, scoring="r2", refit=False, error_score="raise")
        t0 = time.perf_counter()
        search.fit(x, y)
        seconds = time.perf_counter() - t0
        log(f"run {r + 1}/{repeat}: {seconds:.3f} s")
        best_seconds = seconds if best_seconds is None else min(best_seconds, seconds)
    res = search.cv_results_
    mean = [float(v) for v in res["mean_test_score"]]
    best = int(np.argmax(mean))
    kiln_mean = [float(c["mean_score"]) if c["mean_score"] is not None else float("nan") for c in kiln["candidates"]]
    diffs = [abs(a - b) for a, b in zip(mean, kiln_mean)]
    worst = int(np.argmax(diffs)) if diffs else 0
    # One flat object (xtask's reader takes string keys and number / string values only).
    out = {
        "tune_rows": int(x.shape[0]),
        "tune_dtype": str(x.dtype),
        "tune_candidates": len(grid),
        "tune_splits": len(cv),
        "sk_tune_seconds": best_seconds,
        "kiln_tune_seconds": float(kiln["seconds"]),
        "kiln_tune_device": str(kiln.get("device", "")),
        "sk_tune_best_index": best,
        "kiln_tune_best_index": int(kiln["best_index"]),
        "sk_tune_best_score": mean[best],
        "kiln_tune_best_score": float(kiln["best_score"]),
        "tune_max_mean_score_diff": max(diffs) if diffs else float("nan"),
        "tune_max_diff_params": json.dumps(kiln["candidates"][worst]["params"]) if diffs else "",
        "sklearn": sklearn.__version__,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
