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

Prints one JSON object on stdout: `seconds` (the search, best of `--repeat` runs),
`mean_scores` (per candidate, kiln's order), `best_index`, `best_score`, versions.
Progress goes to stderr.
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
    fit_time = [float(v) for v in res["mean_fit_time"]]
    best = int(np.argmax(mean))
    out = {
        "seconds": best_seconds,
        "mean_scores": mean,
        "mean_fit_seconds": fit_time,
        "best_index": best,
        "best_score": mean[best],
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
