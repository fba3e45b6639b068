"""Time and peak memory of clustering a large project's failures (synthetic vectors), and the window that bounds it.

    .venv/bin/python bench/cluster_scale.py [--sizes 100000,1000000] [--window 200000]

Each size runs in a fresh child process (its peak RSS is the figure): cluster_embeddings on n unit vectors around
n/500 random topic directions with the spread of real sentence embeddings (bench/cluster_quality.synthetic_vectors).
With --window N a size above N is clustered as the service does with CLUSTERING_MAX_FAILURES = N: the N most recent
failures (here the last N rows; all n are generated and held, which the run itself never does: it loads only N).
Prints seconds, peak memory and clusters per size. The machine's two cores are
shared; the figures are indicative.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def synthetic_vectors(n: int, dim: int, topics: int, seed: int = 0):
    """Unit vectors around `topics` random directions, with the spread of real sentence embeddings (as
    bench/cluster_quality.py makes them), generated in float32 chunks so that 1,000,000 take 1.5 GB, not 3 GB more."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    topic = rng.integers(0, topics, n)
    vectors = np.empty((n, dim), np.float32)
    for start in range(0, n, 50_000):
        chunk = (
            centres[topic[start : start + 50_000]]
            + rng.standard_normal((len(topic[start : start + 50_000]), dim), dtype=np.float32) * 0.045
        )
        vectors[start : start + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return topic, vectors


def child(n: int, window: int) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import numpy as np

    from feedback.clustering.algorithm import cluster_embeddings

    topic, vectors = synthetic_vectors(n, 384, topics=max(n // 500, 10))
    print(f"vectors made: {vectors.shape}", file=sys.stderr)
    if window and n > window:
        topic, vectors = topic[-window:], vectors[-window:]
    made = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    marks = []
    started = time.perf_counter()
    result = cluster_embeddings(vectors, seed=0, progress=lambda f: marks.append((round(f, 2), time.perf_counter())))
    seconds = time.perf_counter() - started
    from sklearn.metrics import adjusted_rand_score

    sample = np.random.default_rng(0).choice(len(topic), min(len(topic), 200_000), replace=False)
    ari = adjusted_rand_score(topic[sample], result.labels[sample])
    print(json.dumps({
        "n": n, "clustered": len(vectors), "seconds": round(seconds, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "data_mb": round(made),
        "clusters": result.params["clusters"], "ari_sample": round(ari, 3),
        "stages": [(f, round(t - started, 1)) for f, t in marks],
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--window", type=int, default=0, help="cluster only the N most recent (0: all)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.window)
        return
    with open("/proc/loadavg") as handle:
        print(f"load average at start: {handle.read().split()[:3]} (2 shared cores)")
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), "--window", str(args.window)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode:
            print(f"n={n:,}: failed ({out.returncode})\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        window = f" (window: the {r['clustered']:,} most recent)" if r["clustered"] != n else ""
        print(
            f"n={n:,}{window}: {r['seconds']:.0f} s, peak memory {r['peak_mb'] / 1024:.2f} GB (vectors alone "
            f"{r['data_mb'] / 1024:.2f} GB), {r['clusters']:,} clusters, ARI to the topics {r['ari_sample']}; "
            f"progress {r['stages']}  (target: <= 600 s and 8 GB)"
        )


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
