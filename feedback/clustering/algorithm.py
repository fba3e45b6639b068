"""Failure clustering: kNN graph + UMAP-style fuzzy weights + Leiden, pure numpy/igraph (no Django).

Why this design (measured on banking77 with all-MiniLM-L6-v2, see bench/cluster_research.py):
- Graph communities beat centroid methods here (KMeans told the true k: ARI 0.50; ours ~0.60 without k).
- UMAP-style local scaling of kNN similarities makes dense and sparse intents comparable.
- Leiden (igraph's C implementation): good partitions, 100k nodes in about a second per resolution.
- The resolution is chosen per data set: modularity's resolution fixes how many communities come out
  (no single value suits 3 groups and 300), so a sweep keeps the partition with the best silhouette.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import igraph as ig
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from feedback.clustering import resolution as grain
from feedback.clustering.resolution import (
    EXTEND_STEPS,
    RESOLUTIONS,
    SILHOUETTE_SAMPLE,
    choose,
    silhouette,
)

EXACT_KNN_MAX_N = 20_000  # above this an exact n x n matmul costs >10 s on 2 cores; use IVF search
LEIDEN_RESTARTS = 8  # at the chosen resolution, the best of 8 by modularity: Leiden varies by seed (ARI +-0.005)
SWEEP_MAX_N = 20_000  # above this the resolution is chosen on a random sample of SWEEP_SAMPLE points
SWEEP_SAMPLE = 10_000
MIN_CLUSTER_SIZE = 3  # a "cluster" of 1-2 failures is not a pattern worth a label
MERGE_LINK = 0.25  # re-join two communities if >=25% of the smaller one's edge weight links them
MAX_UNCLUSTERED = 0.10  # never leave more than this share of points unclustered


@dataclass
class ClusteringResult:
    labels: np.ndarray  # int, -1 = unclustered, clusters numbered 0..k-1
    centroids: np.ndarray  # (k, dim) normalized
    params: dict = field(default_factory=dict)  # what was used, for logging


def choose_k(n: int) -> int:
    # Neighbourhood grows with the data (~sqrt(n)/2) so the graph's locality stays comparable,
    # clipped: >=10 for small samples to stay connected, <=30 to keep 100k within the time budget.
    return int(np.clip(round(np.sqrt(n) / 2), 10, 30))


def _topk_block(q: np.ndarray, cand: np.ndarray, k: int, self_idx: np.ndarray | None):
    """Top-k (indices into cand, sims) of q @ cand.T, sorted by decreasing similarity."""
    s = q @ cand.T
    if self_idx is not None:  # exclude each point itself
        s[np.arange(len(q)), self_idx] = -np.inf
    kk = min(k, s.shape[1] - 1)
    idx = np.argpartition(s, -kk, axis=1)[:, -kk:]
    sims = np.take_along_axis(s, idx, 1)
    order = np.argsort(-sims, axis=1)
    return np.take_along_axis(idx, order, 1), np.take_along_axis(sims, order, 1)


def knn(x: np.ndarray, k: int, seed: int = 0, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Cosine kNN (x normalized): exact blockwise for small n, inverted-file (IVF) search above."""
    n = len(x)
    if n <= EXACT_KNN_MAX_N:
        out = [_topk_block(x[a : a + block], x, k, np.arange(a, min(a + block, n))) for a in range(0, n, block)]
        return np.vstack([o[0] for o in out]), np.vstack([o[1] for o in out])
    # IVF: spherical k-means into ~sqrt(n) cells; each cell's points search the cells nearest its
    # centroid. ~30x fewer flops than exact; neighbours of a tight cluster lie in nearby cells.
    rng = np.random.default_rng(seed)
    nlist, nprobe = int(np.sqrt(n)), 12
    sample = x[rng.choice(n, min(n, 30 * nlist), replace=False)]
    cent = sample[rng.choice(len(sample), nlist, replace=False)].copy()
    for _ in range(8):
        a = np.argmax(sample @ cent.T, axis=1)
        for c in range(nlist):
            m = sample[a == c]
            if len(m):
                cent[c] = m.sum(0) / np.linalg.norm(m.sum(0))
    assign = np.concatenate([np.argmax(x[a : a + 8192] @ cent.T, axis=1) for a in range(0, n, 8192)])
    members = [np.flatnonzero(assign == c) for c in range(nlist)]
    probe = np.argsort(-(cent @ cent.T), axis=1)[:, :nprobe]
    # Padding (a cell + its probes smaller than k) = self-loops at the row's weakest similarity:
    # dropped by fuzzy_graph (diagonal) and neutral for its local scale.
    idx = np.repeat(np.arange(n)[:, None], k, axis=1)
    sims = np.full((n, k), np.nan, np.float32)
    for c in range(nlist):
        q = members[c]
        if not len(q):
            continue
        cand = np.concatenate([q] + [members[p] for p in probe[c] if p != c])  # own cell first
        i, s = _topk_block(x[q], x[cand], k, np.arange(len(q)))
        idx[q, : i.shape[1]], sims[q, : i.shape[1]] = cand[i], s
    pad = np.isnan(sims)
    if pad.any():
        sims[pad] = np.broadcast_to(np.nanmin(sims, axis=1, keepdims=True), sims.shape)[pad]
    return idx, sims


def fuzzy_graph(idx: np.ndarray, sims: np.ndarray) -> tuple[ig.Graph, sp.csr_matrix]:
    """UMAP-style weights: exp(-(rho_i - s_ij)/sigma_i), rho = nearest sim, sigma = local spread.

    Local scaling makes a point's nearest neighbour weight 1 whatever the local density; the
    fuzzy union a+b-ab symmetrises (edge kept if either side lists it). Returns the graph and its
    symmetric weighted adjacency matrix.
    """
    n, k = idx.shape
    rho = sims[:, :1]
    sigma = np.maximum((sims[:, :1] - sims[:, -1:]) / np.log2(k), 1e-3)
    w = np.exp(-np.maximum(rho - sims, 0) / sigma).ravel()
    a = sp.csr_matrix((w, (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    a = (a + a.T - a.multiply(a.T)).tocsr()
    a = (a - sp.diags(a.diagonal())).tocsr()  # IVF padding points at the row itself
    a.eliminate_zeros()
    u = sp.triu(a, 1).tocoo()
    return ig.Graph(n=n, edges=np.column_stack([u.row, u.col]).tolist(), edge_attrs={"weight": u.data}), a


def leiden(g: ig.Graph, resolution: float, seed: int, restarts: int = 1) -> np.ndarray:
    """Modularity communities at `resolution` (Leiden, iterated until stable), the best of `restarts`
    runs (seeds seed, seed+1, ...) by modularity; same seed, same partition."""
    best, best_q = None, -np.inf
    for s in range(seed, seed + restarts):
        ig.set_random_number_generator(random.Random(s))  # igraph draws from a process-wide generator
        try:
            part = g.community_leiden(
                objective_function="modularity", weights="weight", resolution=resolution, n_iterations=-1
            )
        finally:
            ig.set_random_number_generator(random)
        q = g.modularity(part.membership, weights="weight", resolution=resolution)
        if q > best_q:
            best, best_q = part.membership, q
    return np.asarray(best)


def _merge_linked(adj: sp.csr_matrix, lab: np.ndarray, tau: float) -> np.ndarray:
    """Undo splits of one well-connected group: merge community pairs where a share >= tau of the
    smaller one's edge weight links them (e.g. a dominant failure type cut by the modularity null model).
    On banking77 no pair of distinct intents reaches 0.25."""
    deg = np.asarray(adj.sum(axis=1)).ravel()
    n = len(lab)
    while True:
        kc = int(lab.max()) + 1
        onehot = sp.csr_matrix((np.ones(n), (np.arange(n), lab)), shape=(n, kc))
        c = sp.triu(onehot.T @ adj @ onehot, 1).tocoo()  # weight between communities a < b
        vol = np.bincount(lab, deg, kc)
        share = c.data / np.maximum(np.minimum(vol[c.row], vol[c.col]), 1e-12)
        if not len(share) or share.max() < tau:
            return lab
        target, used = np.arange(kc), np.zeros(kc, bool)
        for i in np.argsort(-share, kind="stable"):  # strongest links first, disjoint pairs per round
            if share[i] < tau:
                break
            x, y = c.row[i], c.col[i]
            if not (used[x] or used[y]):
                used[x] = used[y] = True
                target[max(x, y)] = min(x, y)
        lab = np.unique(target[lab], return_inverse=True)[1]


def _postprocess(adj: sp.csr_matrix, lab: np.ndarray, min_size: int, max_unclustered: float) -> np.ndarray:
    """Dissolve tiny communities: move each member to the cluster holding most of its edge weight,
    or leave it unclustered if it is not attached to any (capped at max_unclustered)."""
    n = len(lab)
    sizes = np.bincount(lab)
    tiny = sizes[lab] < min_size
    lab = np.where(tiny, -1, lab)
    for i in np.flatnonzero(tiny):
        nb, w = adj.indices[adj.indptr[i] : adj.indptr[i + 1]], adj.data[adj.indptr[i] : adj.indptr[i + 1]]
        ok = lab[nb] >= 0
        if ok.any():
            tot = np.bincount(lab[nb[ok]], w[ok])
            if tot.max() >= 0.5 * w.sum() or (lab < 0).sum() > max_unclustered * n:
                lab[i] = int(np.argmax(tot))
    return np.unique(lab, return_inverse=True)[1] - (1 if (lab < 0).any() else 0)


def partition(g: ig.Graph, adj: sp.csr_matrix, resolution: float, seed: int, restarts: int = 1) -> np.ndarray:
    """Leiden at one resolution, then re-merge and tiny-cluster dissolving: the labels a run would keep."""
    lab = _merge_linked(adj, leiden(g, resolution, seed, restarts), MERGE_LINK)
    return _postprocess(adj, lab, MIN_CLUSTER_SIZE, MAX_UNCLUSTERED)


def sweep_resolutions(
    x: np.ndarray, g: ig.Graph, adj: sp.csr_matrix, seed: int, report: Callable[[float], None]
) -> tuple[float, str | None, list[tuple[float, int, float]]]:
    """Partition at each of RESOLUTIONS, score each by silhouette, extend the sweep past an end where the best
    score sits: (resolution chosen, "finer"/"coarser" if the best stayed at that end else None,
    [(res, clusters, score)] by resolution)."""
    sample = np.random.default_rng(seed).choice(len(x), min(len(x), SILHOUETTE_SAMPLE), replace=False)
    scored: dict[float, tuple[int, float]] = {}

    def score(resolutions) -> None:
        for res in resolutions:
            lab = partition(g, adj, res, seed, grain.SWEEP_RESTARTS)
            scored[res] = (int(lab.max()) + 1, silhouette(x, lab, sample))
            report(min(len(scored) / len(RESOLUTIONS), 1.0))

    score(RESOLUTIONS)
    extended = {"finer": 0, "coarser": 0}
    limit = {"finer": grain.MAX_FINER_EXTENSIONS, "coarser": grain.MAX_COARSER_EXTENSIONS}  # read at call time
    step = np.sqrt(2.0)
    while True:
        resolutions = sorted(scored)
        chosen, edge = choose(resolutions, [scored[r][1] for r in resolutions], [scored[r][0] for r in resolutions])
        if edge is None or extended[edge] >= limit[edge]:
            break
        if edge == "coarser" and scored[resolutions[0]][0] <= 1:  # the coarsest is one group already
            break
        extended[edge] += 1
        if edge == "finer":
            score([resolutions[-1] * step**i for i in range(1, EXTEND_STEPS + 1)])
        else:
            score([resolutions[0] / step**i for i in range(1, EXTEND_STEPS + 1)])
    return chosen, edge, [(r, *scored[r]) for r in resolutions]


def canonical_order(x: np.ndarray) -> np.ndarray:
    """A permutation of the rows that depends on their values only: by two fixed random projections (smooth, so a
    vector that moved by rounding or quantisation keeps its rank among distinct neighbours), ties by the bytes."""
    directions = np.random.default_rng(1234).standard_normal((x.shape[1], 2)).astype(np.float32)
    p = np.round(x @ directions, 4)
    return np.lexsort((p[:, 1], p[:, 0]))


def cluster_embeddings(
    embeddings: np.ndarray, *, seed: int = 0, progress: Callable[[float], None] | None = None
) -> ClusteringResult:
    """Cluster L2-normalised embeddings without knowing the number of clusters."""
    report = progress or (lambda _f: None)
    x = np.array(embeddings, dtype=np.float32, copy=True)  # never normalise the caller's array
    n = len(x)
    params: dict = {"n": n, "seed": seed, "method": "knn-fuzzy-leiden-smoothed-silhouette"}
    if n < MIN_CLUSTER_SIZE:
        return ClusteringResult(np.full(n, -1), np.zeros((0, x.shape[1] if x.ndim == 2 else 0)), params)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    # Cluster in an order fixed by the vectors themselves, not by arrival: Leiden and the samples follow the order of
    # the nodes, so the same failures give the same partition however they came in and were batched.
    order = canonical_order(x)
    x = x[order]
    k = min(choose_k(n), n - 1)
    params.update(k=k, merge_link=MERGE_LINK, min_cluster_size=MIN_CLUSTER_SIZE, exact_knn=n <= EXACT_KNN_MAX_N)
    report(0.0)
    if n <= SWEEP_MAX_N:
        g, adj = fuzzy_graph(*knn(x, k, seed=seed))
        report(0.4)
        chosen, edge, sweep = sweep_resolutions(x, g, adj, seed, lambda f: report(0.4 + 0.5 * f))
        restarts = LEIDEN_RESTARTS
    else:
        # Choose the resolution on a random sample (its own kNN graph): modularity's resolution is
        # relative to the graph's total weight, so it carries over to the whole set drawn alike.
        xs = x[np.sort(np.random.default_rng(seed).choice(n, SWEEP_SAMPLE, replace=False))]
        chosen, edge, sweep = sweep_resolutions(
            xs, *fuzzy_graph(*knn(xs, k, seed=seed)), seed, lambda f: report(0.3 * f)
        )
        g, adj = fuzzy_graph(*knn(x, k, seed=seed))
        report(0.8)
        restarts = 1  # one Leiden run on 100k points costs seconds
    lab = partition(g, adj, chosen, seed, restarts)
    sample = np.random.default_rng(seed).choice(n, min(n, SILHOUETTE_SAMPLE), replace=False)
    params.update(
        resolution=round(chosen, 3),
        edge=edge,
        silhouette=round(silhouette(x, lab, sample), 4),
        sweep=[[round(r, 3), c, round(s, 4)] for r, c, s in sweep],
    )
    kc = int(lab.max()) + 1
    cent = np.zeros((kc, x.shape[1]), np.float32)
    np.add.at(cent, lab[lab >= 0], x[lab >= 0])
    lab = lab[np.argsort(order)]  # back to the caller's order
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
    params.update(clusters=kc, unclustered=int((lab < 0).sum()))
    report(1.0)
    return ClusteringResult(labels=lab, centroids=cent, params=params)


def match_clusters(
    previous: dict[int, set[Hashable]], new: list[set[Hashable]], min_jaccard: float = 0.3
) -> list[int | None]:
    """Give each new cluster the id of the previous cluster it continues, else None.

    Jaccard is computed on members known to both runs only, so a cluster that simply grew with new
    failures (or lost deleted ones) still matches. One-to-one optimal matching (Hungarian).
    """
    if not previous or not new:
        return [None] * len(new)
    prev_ids = list(previous)
    u_prev = set().union(*previous.values())
    u_new = set().union(*new)
    p_sets = [previous[i] & u_new for i in prev_ids]
    n_sets = [s & u_prev for s in new]
    jac = np.zeros((len(new), len(prev_ids)))
    for a, ns in enumerate(n_sets):
        for b, ps in enumerate(p_sets):
            inter = len(ns & ps)
            if inter:
                jac[a, b] = inter / len(ns | ps)
    rows, cols = linear_sum_assignment(-jac)
    out: list[int | None] = [None] * len(new)
    for r, c in zip(rows, cols, strict=True):
        if jac[r, c] >= min_jaccard:
            out[r] = prev_ids[c]
    return out


def join_threshold(member_sims: np.ndarray, quantile: float = 0.05) -> float:
    """Similarity a new point needs to its nearest centroid to join that cluster incrementally.

    The cluster's own 5th percentile of member-to-centroid similarity: a newcomer must look like
    at least 95% of the current members. Small clusters (<20) have no reliable tail: use the minimum.
    """
    s = np.asarray(member_sims, dtype=np.float64).ravel()
    if s.size == 0:
        return 1.0  # empty cluster: nothing can join
    return float(np.min(s) if s.size < 20 else np.quantile(s, quantile))
