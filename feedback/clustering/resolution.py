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

# Modularity resolutions tried (factor sqrt 2): from a few broad groups to a few hundred narrow ones.
RESOLUTIONS = tuple(float(2 ** (e / 2)) for e in range(-8, 9))
SILHOUETTE_SAMPLE = 4000  # points scored per candidate partition; the score's cost stays flat beyond
# A tie goes to the coarser grain: a partition with at least a quarter fewer clusters than the best-scoring
# one replaces it if its silhouette is within 0.02. Past the groups' own grain, silhouette still creeps up
# (~0.01 per step) on near-paraphrase sub-groups; seed-to-seed noise of the score is only ~0.001. Merging
# just a few clusters must win outright: a small distinct group merged away costs little mean silhouette.
SILHOUETTE_TOLERANCE = 0.02
COARSER_GRAIN = 0.75


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


def choose(scores: list[float], clusters: list[int]) -> int:
    """Index of the partition to keep: the best silhouette, or the coarsest clearly coarser one that ties it."""
    scores, clusters = np.asarray(scores), np.asarray(clusters)
    best = int(np.argmax(scores))
    tie = (scores >= scores[best] - SILHOUETTE_TOLERANCE) & (clusters <= COARSER_GRAIN * clusters[best])
    return int(np.flatnonzero(tie)[0]) if tie.any() else best
