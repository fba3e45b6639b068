"""Which modularity resolution to keep: a sweep scored by silhouette (pure numpy/scipy, no Django).

Modularity's resolution fixes how many communities come out (roughly proportional), so no constant suits
3 groups and 300: on Banking77 subsets the best value ran from 1/16 (5 intents of 40) to 8 (all 77).
Silhouette compares each point's distance to its own cluster with that to the next one: cutting a
coherent group or merging two distinct ones both lower it, whatever the number of groups or points.
Scored against the true labels of 40 Banking77 conditions (bench/cluster_research.py), choosing by it beat
the other label-free choices tried: Calinski-Harabasz and Davies-Bouldin (too coarse or too fine), stability
across seeds (flat), per-cluster mean silhouette, and silhouette minus a log(clusters) penalty.
"""

import numpy as np
import scipy.sparse as sp

# Modularity resolutions tried first (factor sqrt 2): from a few broad groups to a few hundred narrow ones. The sweep
# extends past an end (EXTEND_STEPS at a time) while the best score sits at that end: up to MAX_COARSER_EXTENSIONS
# times towards broad groups (2^-8), but once only towards narrow ones (2^5). Past 2^4 silhouette keeps rising on
# near-paraphrase sub-groups whatever the data (emoji names: 0.11 at 2^4, 0.22 at 2^6.5), so a fine end that kept
# extending chose 328 clusters on torch's vectors of a set where ONNX's near-identical ones (cosine 0.991) gave 35.
# When the best score still sits at the fine end, the run's params say so ("edge": "finer"; on torch's vectors of
# Banking77 test and emoji names), while the resolution kept, the weighted centre, stays inside (5.7 and 2.8 of 32).
RESOLUTIONS = tuple(float(2 ** (e / 2)) for e in range(-8, 9))
EXTEND_STEPS = 2
MAX_COARSER_EXTENSIONS = 4
MAX_FINER_EXTENSIONS = 1
# Leiden runs per candidate (the best by modularity): one run's luck moved a candidate's score by a few thousandths,
# enough to move the choice on vectors equal to 1e-6 (WordNet: 12 clusters from ONNX fp32, 9 from torch; with 3, 12
# and 12). Costs 2x the sweep: +8 s on 10,000 points, the most a sweep ever sees.
SWEEP_RESTARTS = 3
SILHOUETTE_SAMPLE = 4000  # points scored per candidate partition; the score's cost stays flat beyond
# The grain is a smooth function of the sweep's scores, never a knife edge between two candidates:
# - each candidate's silhouette is averaged with its two neighbours' (a single partition's luck counts a third);
# - past the groups' own grain silhouette still creeps up (~0.01 per sqrt-2 step, on near-paraphrase sub-groups), so
#   the score loses GRAIN_PENALTY per doubling of the number of clusters;
# - the resolution kept is the softmax-weighted (temperature SOFT_TEMPERATURE) geometric mean of the candidates, so
#   a change of 0.001 in one score moves it by a few percent, where the former tie rule (the coarsest candidate
#   within 0.02 of the best) could swing it from 105 clusters to 64. At 0.02 the weights still hung on 0.005 between
#   distant candidates (Banking77 train: 212 clusters on ONNX qint8 vectors, 126 on torch's); 0.04 spreads them over
#   the plateau. Scored on 6 real labelled sets and 12 Banking77 subsets, three embedders (docs/clustering-quality.md).
# - the candidate nearest that mean is kept: a partition the sweep scored, not one between two that were (on
#   Banking77 test the unscored one between 95 and 108 clusters came out as 84).
GRAIN_PENALTY = 0.01
SOFT_TEMPERATURE = 0.04


def silhouette(x: np.ndarray, labels: np.ndarray, sample: np.ndarray) -> float:
    """Mean cosine silhouette of the clustered points among `sample`; -1 with fewer than two clusters.

    Exact, through per-cluster sums of the unit vectors: the mean distance from a point to a cluster is
    1 - x.sum(cluster)/size, so the cost is sample x clusters x dim instead of sample x n x dim.
    """
    kc = int(labels.max()) + 1
    ok = labels >= 0
    pts = sample[ok[sample]]
    if kc < 2 or not len(pts):
        return -1.0
    members = np.flatnonzero(ok)
    onehot = sp.csr_matrix((np.ones(len(members), np.float32), (labels[members], members)), shape=(kc, len(x)))
    sums = onehot @ x  # (clusters, dim)
    size = np.bincount(labels[members], minlength=kc)
    dot = (x[pts] @ sums.T).astype(np.float64)
    own, rows = labels[pts], np.arange(len(pts))
    a = 1 - (dot[rows, own] - 1) / np.maximum(size[own] - 1, 1)  # the point itself left out
    dist = 1 - dot / size
    dist[rows, own] = np.inf
    b = dist.min(axis=1)
    s = np.where(size[own] > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def smoothed_scores(resolutions: list[float], scores: list[float], clusters: list[int]) -> np.ndarray:
    """Each candidate's silhouette averaged with its neighbours', minus GRAIN_PENALTY per doubling of clusters."""
    order = np.argsort(resolutions)
    s = np.asarray(scores, dtype=np.float64)[order]
    smooth = np.array([s[max(0, i - 1) : i + 2].mean() for i in range(len(s))])
    out = np.empty_like(smooth)
    out[order] = smooth
    return out - GRAIN_PENALTY * np.log2(np.maximum(np.asarray(clusters, dtype=np.float64), 1))


def choose(resolutions: list[float], scores: list[float], clusters: list[int]) -> tuple[float, str | None]:
    """(resolution to keep, "coarser"/"finer" when the best candidate is at that end of the sweep, else None).

    Candidates that give the same partition score alike, so a plateau of them pulls the choice to its middle."""
    r = np.log2(np.asarray(resolutions, dtype=np.float64))
    p = smoothed_scores(resolutions, scores, clusters)
    weights = np.exp((p - p.max()) / SOFT_TEMPERATURE)
    centre = (weights * r).sum() / weights.sum()
    chosen = float(2 ** r[int(np.argmin(np.abs(r - centre)))])
    peak = int(np.argmax(p))
    edge = "coarser" if r[peak] == r.min() else "finer" if r[peak] == r.max() else None
    return chosen, edge
