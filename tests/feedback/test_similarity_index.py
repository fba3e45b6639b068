"""Per-project HNSW indexes: built once a project has enough embeddings, used by the similar endpoint, pruned."""

import numpy as np
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.embedder import embedder_name, get_model
from feedback.models import Embedding, Interaction, Project
from feedback.selectors.clusters import similar_failures, similarity_index_name, similarity_index_state
from feedback.services.embeddings import embeddings_compute
from feedback.services.projects import project_get_or_create
from feedback.services.similarity_index import (
    similarity_index_ensure,
    similarity_indexes_prune,
    similarity_indexes_schedule,
)
from tests.feedback.cluster_fixtures import make_failures


@pytest.fixture(scope="module", autouse=True)
def model():
    return get_model()


@pytest.fixture
def drop_after():
    """Names of indexes that transactional tests leave on the test database's table: dropped at the end."""
    names: list[str] = []
    yield names
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def embedded_failures(project):
    made = make_failures(project)
    embeddings_compute(interaction_ids=[f.pk for group in made.values() for f in group])
    return made


def index_name(project) -> str:
    return similarity_index_name(project_id=project.pk, embedder=embedder_name())


def exact_neighbours(interaction, k: int) -> list[int]:
    """The k nearest failures of the interaction's project by brute force in numpy."""
    rows = list(
        Embedding.objects.filter(project_id=interaction.project_id)
        .exclude(interaction=interaction)
        .values_list("interaction_id", "vector")
    )
    query = Embedding.objects.get(interaction=interaction).vector
    distances = [1 - float(np.dot(query, vector)) for _, vector in rows]
    return [rows[n][0] for n in np.argsort(distances, kind="stable")[:k]]


def plan_of_similar(interaction) -> str:
    """The plan of the very statement similar_failures sends for its neighbours."""
    with CaptureQueriesContext(connection) as queries:
        similar_failures(interaction=interaction, k=10)
    statement = next(q["sql"] for q in queries.captured_queries if "<=>" in q["sql"])
    # A test's table is tiny, and the analyzed planner rightly scans it; turning off the plans that scan and sort
    # shows what it picks where the table is large: the project's index, if the statement matches its predicate.
    with transaction.atomic(), connection.cursor() as cursor:
        for plan in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {plan} = off")
        cursor.execute("EXPLAIN " + statement)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_small_project_has_no_index_and_its_neighbours_are_exact(project):
    failures = embedded_failures(project)
    assert similarity_index_ensure(project=project, embedder=embedder_name()) is None
    assert similarity_index_state(name=index_name(project)) is None
    card = failures["card"][0]
    assert [n.pk for n, _ in similar_failures(interaction=card, k=10)] == exact_neighbours(card, 10)


def test_embedded_interactions_that_are_no_longer_failures_are_skipped_and_k_still_found(project):
    failures = embedded_failures(project)
    card = failures["card"][0]
    nearest = exact_neighbours(card, 13)
    Interaction.objects.filter(pk__in=nearest[:13]).update(is_failure=False)  # more than the first fetch's margin

    found = [n.pk for n, _ in similar_failures(interaction=card, k=10)]
    assert len(found) == 10 and not set(found) & set(nearest)
    remaining = [pk for pk in exact_neighbours(card, 47) if pk not in nearest]
    assert found == remaining[:10]


@pytest.mark.django_db(transaction=True)
@override_settings(SIMILARITY_INDEX_MIN_EMBEDDINGS=40)
def test_a_project_past_the_threshold_gets_its_own_index_once_and_queries_use_it(drop_after):
    project = project_get_or_create(slug="big-bot", name="Big")
    drop_after.append(index_name(project))
    other = project_get_or_create(slug="other-bot", name="Other")
    failures = embedded_failures(project)
    embedded_failures(other)  # the same texts in another project: the nearest of all, were it not filtered out
    card = failures["card"][0]
    before = [n.pk for n, _ in similar_failures(interaction=card, k=10)]

    seconds = similarity_index_ensure(project=project, embedder=embedder_name())
    assert seconds is not None and seconds >= 0
    assert similarity_index_state(name=index_name(project)) == "valid"
    assert similarity_index_ensure(project=project, embedder=embedder_name()) is None  # nothing left to do
    assert index_name(project) in plan_of_similar(card)
    assert index_name(project) not in plan_of_similar(Interaction.objects.filter(project=other).first())

    after = similar_failures(interaction=card, k=10)
    assert {n.project_id for n, _ in after} == {project.pk}
    assert [n.pk for n, _ in after] == before  # 48 vectors: the graph finds the exact neighbours


@pytest.mark.django_db(transaction=True)
@override_settings(SIMILARITY_INDEX_MIN_EMBEDDINGS=40)
def test_a_build_that_died_is_dropped_and_built_again(drop_after):
    project = project_get_or_create(slug="big-bot", name="Big")
    drop_after.append(index_name(project))
    embedded_failures(project)
    similarity_index_ensure(project=project, embedder=embedder_name())
    with connection.cursor() as cursor:  # what a killed CREATE INDEX CONCURRENTLY leaves behind
        cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [index_name(project)])
    assert similarity_index_state(name=index_name(project)) == "invalid"

    assert similarity_index_ensure(project=project, embedder=embedder_name()) is not None
    assert similarity_index_state(name=index_name(project)) == "valid"


@override_settings(SIMILARITY_INDEX_MIN_EMBEDDINGS=40)
def test_the_schedule_queues_only_projects_past_the_threshold_without_a_valid_index(project):
    embedded_failures(project)
    small = project_get_or_create(slug="small-bot", name="Small")
    made = make_failures(small)
    embeddings_compute(interaction_ids=[f.pk for f in made["card"]])  # 12 embeddings, under the threshold

    assert similarity_indexes_schedule() == [(project.pk, embedder_name())]
    similarity_index_ensure(project=project, embedder=embedder_name())
    assert similarity_indexes_schedule() == []


@override_settings(SIMILARITY_INDEX_MIN_EMBEDDINGS=40)
def test_the_index_of_a_deleted_project_is_dropped_and_a_live_ones_kept(project):
    embedded_failures(project)
    similarity_index_ensure(project=project, embedder=embedder_name())
    kept = project_get_or_create(slug="kept-bot", name="Kept")
    embedded_failures(kept)
    similarity_index_ensure(project=kept, embedder=embedder_name())
    name = index_name(project)
    Project.objects.filter(pk=project.pk).delete()

    pruned = similarity_indexes_prune()
    assert name in pruned and index_name(kept) not in pruned
    assert similarity_index_state(name=name) is None
    assert similarity_index_state(name=index_name(kept)) == "valid"
