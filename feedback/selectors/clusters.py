"""Reads of embeddings and clusters: nearest failures, cluster lists, runs, and vectors in bulk for clustering."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psycopg
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from pgvector.django import CosineDistance
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

from core.embedder import embedder_name
from feedback.models import Cluster, ClusteringRun, Embedding, Interaction, Project

# HNSW candidates examined per query (at least the neighbours asked for).
_HNSW_EF_SEARCH = 100


@contextmanager
def vector_cursor() -> Iterator[psycopg.Cursor]:
    """A server-binding psycopg cursor on Django's connection that sends and reads vectors in binary.

    The adapters are registered on this cursor only, so no other code on the connection sees numpy arrays
    turned into vectors.
    """
    connection.ensure_connection()
    raw = connection.connection
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        register_vector_info(cursor, TypeInfo.fetch(raw, "vector"))
        yield cursor


def interaction_embedding(*, interaction: Interaction, embedder: str | None = None) -> Embedding | None:
    return Embedding.objects.filter(interaction=interaction, embedder=embedder or embedder_name()).first()


SIMILARITY_INDEX_PREFIX = "embedding_hnsw_p"


def similarity_index_name(*, project_id: int, embedder: str) -> str:
    """The name of a project's partial HNSW index (services/similarity_index.py); within PostgreSQL's 63 bytes."""
    return f"{SIMILARITY_INDEX_PREFIX}{int(project_id)}_{hashlib.sha1(embedder.encode()).hexdigest()[:10]}"


def similarity_indexes(*, name: str | None = None) -> dict[str, bool]:
    """The projects' HNSW indexes on feedback_embedding (or the one of this name): name -> valid. Invalid means a
    concurrent build still running, or one that died."""
    if name is None:
        match, value = "starts_with(c.relname, %s)", SIMILARITY_INDEX_PREFIX
    else:
        match, value = "c.relname = %s", name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            f"WHERE x.indrelid = 'feedback_embedding'::regclass AND {match}",
            [value],
        )
        return dict(cursor.fetchall())


def similarity_index_state(*, name: str) -> str | None:
    """ "valid", "invalid" or None when there is no such index."""
    valid = similarity_indexes(name=name).get(name)
    return None if valid is None else ("valid" if valid else "invalid")


def similar_failures(*, interaction: Interaction, k: int = 5) -> list[tuple[Interaction, float]]:
    """The k failures of the same project nearest to this interaction, with cosine distance; [] if not embedded.

    Through the project's HNSW index when it has one, else by an exact scan of the project's embeddings."""
    embedding = interaction_embedding(interaction=interaction)
    if embedding is None:
        return []
    nearest = (
        Embedding.objects.filter(project_id=interaction.project_id, embedder=embedding.embedder)
        .exclude(interaction_id=interaction.pk)
        .annotate(distance=CosineDistance("vector", embedding.vector))
        .order_by("distance")
        .values_list("interaction_id", "distance")
    )
    indexed = similarity_index_state(
        name=similarity_index_name(project_id=interaction.project_id, embedder=embedding.embedder)
    )
    # Ids and distances only, and no join: carrying rows through the sort, or joining each candidate to check it is
    # still a failure, tripled the exact scan. The rare embedded interaction that is no longer a failure is dropped
    # after, asking for more neighbours if it left fewer than k.
    wanted = k + 8
    while True:
        with transaction.atomic():  # SET LOCAL lasts for this transaction only
            if indexed == "valid":
                with connection.cursor() as cursor:
                    # pgvector's ceiling is 1,000: beyond it the scan returns fewer than wanted, and the loop ends.
                    cursor.execute(f"SET LOCAL hnsw.ef_search = {min(max(_HNSW_EF_SEARCH, wanted), 1000)}")
            pairs = list(nearest[:wanted])
        failures = (
            Interaction.objects.filter(is_failure=True)
            .select_related("cluster")
            .defer("cluster__centroid")  # 384 floats parsed per neighbour, for a label
            .in_bulk([pk for pk, _ in pairs])
        )
        found = [(failures[pk], float(distance)) for pk, distance in pairs if pk in failures]
        if len(found) >= k or len(pairs) < wanted:
            # Sorted again (cheap): the order then holds whichever plan served the query.
            return sorted(found, key=lambda pair: pair[1])[:k]
        wanted *= 4


def failure_ids_unembedded(*, project: Project | None = None, embedder: str | None = None, limit: int = 1000):
    """Ids of failures that have no embedding by this embedder yet, oldest first."""
    embedded = Embedding.objects.filter(interaction=OuterRef("pk"), embedder=embedder or embedder_name())
    failures = Interaction.objects.filter(is_failure=True).filter(~Exists(embedded))
    if project is not None:
        failures = failures.filter(project=project)
    return list(failures.order_by("id").values_list("id", flat=True)[:limit])


def failure_vectors(
    *, project: Project, embedder: str, limit: int | None = None, since=None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(interaction ids, unit vectors, embedded texts) of the project's embedded failures, by id: every one, or the
    `limit` most recent (by occurred_at) among those that occurred at or after `since`."""
    window, params = "", [project.pk, embedder]
    if since is not None:
        window += " AND i.occurred_at >= %s"
        params.append(since)
    order = "ORDER BY e.interaction_id"
    if limit:
        order = "ORDER BY i.occurred_at DESC, e.interaction_id DESC LIMIT %s"
        params.append(int(limit))
    with vector_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT e.interaction_id, e.vector, e.text
            FROM feedback_embedding e JOIN feedback_interaction i ON i.id = e.interaction_id
            WHERE e.project_id = %s AND e.embedder = %s AND i.is_failure{window}
            {order}
            """,
            params,
            binary=True,
        )
        rows = cursor.fetchall()
    if limit:
        rows.sort(key=lambda row: row[0])
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32), []
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    vectors = np.stack([row[1].to_numpy() for row in rows]).astype(np.float32, copy=False)
    return ids, vectors, [row[2] for row in rows]


def cluster_members_current(*, project: Project) -> dict[int, set[int]]:
    """Active cluster id -> ids of its member failures, as the last run and later joins left them."""
    members: dict[int, set[int]] = {}
    rows = Interaction.objects.filter(project=project, cluster__is_active=True).values_list("cluster_id", "id")
    for cluster_id, interaction_id in rows.iterator(chunk_size=10_000):
        members.setdefault(cluster_id, set()).add(interaction_id)
    return members


def cluster_list(*, project: Project) -> QuerySet[Cluster]:
    return Cluster.objects.filter(project=project, is_active=True).order_by("-size", "-id")


def cluster_get(*, project: Project, cluster_id: int) -> Cluster:
    cluster = Cluster.objects.filter(project=project, pk=cluster_id).first()
    if cluster is None:
        raise Http404("No such cluster in this project.")
    return cluster


def cluster_members(*, cluster: Cluster) -> QuerySet[Interaction]:
    return Interaction.objects.filter(cluster=cluster).select_related("cluster")


def representative_external_ids(*, clusters: list[Cluster]) -> dict[int, str]:
    """Interaction pk -> external id for the representatives of these clusters, in one query."""
    pks = {pk for cluster in clusters for pk in cluster.representative_ids}
    return dict(Interaction.objects.filter(pk__in=pks).values_list("pk", "external_id"))


def clustering_run_get(*, project: Project, run_id: int) -> ClusteringRun:
    run = ClusteringRun.objects.filter(project=project, pk=run_id).first()
    if run is None:
        raise Http404("No such clustering run in this project.")
    return run


def clustering_run_in_flight(*, project: Project) -> ClusteringRun | None:
    in_flight = [ClusteringRun.Status.QUEUED, ClusteringRun.Status.RUNNING]
    return ClusteringRun.objects.filter(project=project, status__in=in_flight).first()


def projects_with_failures() -> QuerySet[Project]:
    return Project.objects.filter(Exists(Interaction.objects.filter(project=OuterRef("pk"), is_failure=True)))
