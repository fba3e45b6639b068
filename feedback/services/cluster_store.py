"""Writing clusters: stable ids across runs, labels, members set-based, and new failures joining between runs."""

import re
import time

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from feedback.models import Cluster, ClusteringRun
from feedback.selectors.clusters import cluster_members_current

# Template prefixes ("user:", "feedback:") would otherwise show up as keywords of every cluster.
_FIELD_PREFIX = re.compile(r"^(user|output|feedback|correction):\s*", re.MULTILINE)
_LABEL_KEYWORDS = 3
_REPRESENTATIVES = 3


def _groups(labels: np.ndarray, k: int) -> list[np.ndarray]:
    """Member indices per cluster 0..k-1, in one sort rather than k scans."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[bounds[c] : bounds[c + 1]] for c in range(k)]


def _stable_ids(previous: dict[int, set[int]], new_sets: list[set[int]]) -> list[int | None]:
    from feedback.clustering.algorithm import match_clusters

    matched = list(match_clusters(previous, new_sets)) if previous and new_sets else [None] * len(new_sets)
    seen: set[int] = set()
    for index, cluster_id in enumerate(matched):
        # A previous cluster lives on in at most one new cluster; a split's other half gets a new id.
        if cluster_id is not None and (cluster_id in seen or cluster_id not in previous):
            matched[index] = None
        elif cluster_id is not None:
            seen.add(cluster_id)
    return matched


def _label(keywords: list[str], fallback: str) -> str:
    from feedback.clustering.labels import cluster_label

    return cluster_label(keywords, n=_LABEL_KEYWORDS) if keywords else fallback


@transaction.atomic
def _write(*, run, embedder, ids, labels, centroids, groups, matched, keywords, reps, thresholds) -> dict[str, int]:
    project = run.project
    # Serialise writers of this project's clusters (a run and the joins of newly embedded failures).
    list(Cluster.objects.select_for_update().filter(project=project, is_active=True).values_list("pk", flat=True))
    survivors = Cluster.objects.in_bulk([cid for cid in matched if cid is not None])
    kept, created, updated = [], [], []
    for c, members in enumerate(groups):
        cluster = survivors.get(matched[c]) if matched[c] is not None else None
        if cluster is None:
            cluster = Cluster(project=project, size=0)
            created.append(cluster)
        else:
            updated.append(cluster)
        cluster.size_previous_run = cluster.size
        cluster.size = len(members)
        cluster.keywords = keywords.get(c, [])
        cluster.label = _label(cluster.keywords, fallback=f"cluster of {len(members)} failures")
        cluster.centroid = centroids[c]
        cluster.join_threshold = thresholds[c]
        cluster.representative_ids = [int(ids[i]) for i in reps.get(c, [])]
        cluster.embedder = embedder
        cluster.is_active = True
        cluster.last_run = run
        kept.append(cluster)
    fields = [
        "size_previous_run", "size", "keywords", "label", "centroid", "join_threshold", "representative_ids",
        "embedder", "is_active", "last_run", "updated_at",
    ]  # fmt: skip
    for cluster in updated:
        cluster.updated_at = timezone.now()
    Cluster.objects.bulk_update(updated, fields, batch_size=500)
    Cluster.objects.bulk_create(created, batch_size=500)
    kept_ids = [cluster.pk for cluster in kept]
    vanished = list(
        Cluster.objects.filter(project=project, is_active=True).exclude(pk__in=kept_ids).values_list("pk", flat=True)
    )
    Cluster.objects.filter(pk__in=vanished).update(is_active=False, updated_at=timezone.now())

    cluster_of_point = np.array([kept_ids[label] if label >= 0 else 0 for label in labels], dtype=np.int64)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE feedback_interaction i SET cluster_id = NULLIF(u.cluster_id, 0)
            FROM unnest(%s::bigint[], %s::bigint[]) AS u(interaction_id, cluster_id)
            WHERE i.id = u.interaction_id AND i.cluster_id IS DISTINCT FROM NULLIF(u.cluster_id, 0)
            """,
            [ids.tolist(), cluster_of_point.tolist()],
        )
        changed = cursor.rowcount
        # Failures that joined a cluster while this run worked, and whose cluster is gone now, wait again; an
        # interaction that is no longer a failure leaves its cluster.
        cursor.execute(
            """
            UPDATE feedback_interaction SET cluster_id = NULL
            WHERE cluster_id = ANY(%s) OR (project_id = %s AND cluster_id IS NOT NULL AND NOT is_failure)
            """,
            [vanished, project.pk],
        )
        cluster_stats_refresh(cursor=cursor, cluster_ids=kept_ids)
    return {
        "clusters": len(kept),
        "clusters_new": len(created),
        "clusters_kept": len(updated),
        "clusters_vanished": len(vanished),
        "unclustered": int((labels < 0).sum()),
        "memberships_changed": changed,
    }


def cluster_stats_refresh(*, cursor, cluster_ids: list[int]) -> None:
    """Size, first and last seen, and recent members of these clusters, from their members, in one statement."""
    cursor.execute(
        """
        UPDATE feedback_cluster c SET size = s.size, first_seen = s.first_seen, last_seen = s.last_seen,
            members_last_24h = s.last_24h, members_last_7d = s.last_7d
        FROM (
            SELECT cluster_id, count(*) AS size, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
                count(*) FILTER (WHERE occurred_at >= now() - interval '24 hours') AS last_24h,
                count(*) FILTER (WHERE occurred_at >= now() - interval '7 days') AS last_7d
            FROM feedback_interaction WHERE cluster_id = ANY(%s) GROUP BY cluster_id
        ) s
        WHERE c.id = s.cluster_id
        """,
        [cluster_ids],
    )


def clusters_save(
    *, run: ClusteringRun, embedder: str, ids, vectors, texts, labels, centroids, timings: dict | None = None
) -> dict[str, int]:
    """Turn one clustering result into Cluster rows with stable ids and set Interaction.cluster for every failure.

    `timings` receives the seconds of each step (matching, labelling, writing, latecomers)."""
    from feedback.clustering.algorithm import join_threshold
    from feedback.clustering.labels import cluster_keywords, representatives

    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 3)
        clock = now

    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    groups = _groups(labels, k)
    matched = _stable_ids(cluster_members_current(project=run.project), [set(ids[g].tolist()) for g in groups])
    lap("matching")
    keywords = cluster_keywords([_FIELD_PREFIX.sub("", text) for text in texts], labels) if k else {}
    lap("keywords")
    reps = representatives(vectors, labels, n=_REPRESENTATIVES) if k else {}
    thresholds = [float(join_threshold(vectors[g] @ centroids[c])) for c, g in enumerate(groups)]
    lap("representatives")
    counts = _write(
        run=run,
        embedder=embedder,
        ids=ids,
        labels=labels,
        centroids=centroids,
        groups=groups,
        matched=matched,
        keywords={int(c): list(words) for c, words in keywords.items()},
        reps={int(c): list(indices) for c, indices in reps.items()},
        thresholds=thresholds,
    )
    lap("writing")
    _join_latecomers(run=run, snapshot=ids, embedder=embedder)
    lap("latecomers")
    return counts


def _join_latecomers(*, run: ClusteringRun, snapshot: np.ndarray, embedder: str) -> None:
    """Failures embedded while the run worked were not in its snapshot: let them join the new clusters now."""
    with connection.cursor() as cursor:
        # Only failures embedded since the run started (a windowed run leaves older ones out on purpose); they are
        # few: subtract the snapshot here rather than hand the planner a 100k-element array.
        cursor.execute(
            """
            SELECT e.interaction_id FROM feedback_embedding e JOIN feedback_interaction i ON i.id = e.interaction_id
            WHERE e.project_id = %s AND e.embedder = %s AND i.is_failure AND i.cluster_id IS NULL
              AND e.created_at >= %s
            """,
            [run.project_id, embedder, run.started_at or run.created_at],
        )
        unclustered = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)
    latecomers = np.setdiff1d(unclustered, snapshot, assume_unique=True)
    if len(latecomers):
        clusters_join(interaction_ids=latecomers.tolist())


@transaction.atomic
def clusters_join(*, interaction_ids: list[int]) -> int:
    """Each of these embedded, unclustered failures joins its nearest active cluster when its cosine similarity
    reaches that cluster's join threshold; the others wait for the next run. Returns how many joined."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH nearest AS (
                SELECT e.interaction_id, c.id AS cluster_id
                FROM feedback_embedding e
                JOIN feedback_interaction i ON i.id = e.interaction_id AND i.cluster_id IS NULL AND i.is_failure
                CROSS JOIN LATERAL (
                    SELECT c.id, c.join_threshold, c.centroid <=> e.vector AS distance FROM feedback_cluster c
                    WHERE c.project_id = e.project_id AND c.is_active AND c.embedder = e.embedder
                    ORDER BY c.centroid <=> e.vector LIMIT 1
                ) c
                WHERE e.interaction_id = ANY(%s) AND 1 - c.distance >= c.join_threshold
            ), joined AS (
                UPDATE feedback_interaction i SET cluster_id = n.cluster_id FROM nearest n
                WHERE i.id = n.interaction_id AND i.cluster_id IS NULL
                RETURNING i.cluster_id, i.occurred_at
            )
            UPDATE feedback_cluster c SET size = c.size + j.n,
                first_seen = LEAST(c.first_seen, j.first_seen), last_seen = GREATEST(c.last_seen, j.last_seen),
                members_last_24h = c.members_last_24h + j.last_24h, members_last_7d = c.members_last_7d + j.last_7d
            FROM (
                SELECT cluster_id, count(*) AS n, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
                    count(*) FILTER (WHERE occurred_at >= now() - interval '24 hours') AS last_24h,
                    count(*) FILTER (WHERE occurred_at >= now() - interval '7 days') AS last_7d
                FROM joined GROUP BY cluster_id
            ) j
            WHERE c.id = j.cluster_id
            RETURNING j.n
            """,
            [list(interaction_ids)],
        )
        return sum(row[0] for row in cursor.fetchall())
