"""Clusters that do not depend on luck: the same failures in any order give the same partition, and a grown project
keeps the ids of the clusters that survive. Real labelled queries (Banking77, else chatterbot-corpus)."""

import random

import pytest
from sklearn.metrics import adjusted_rand_score

from core.embedder import get_model
from feedback.models import Cluster, Interaction, Project
from feedback.services.clustering import clustering_run_execute, clustering_run_start
from feedback.services.embeddings import embeddings_compute
from tests.feedback.cluster_fixtures import make_real_failures, real_queries


@pytest.fixture(scope="module", autouse=True)
def model():
    return get_model()


def recluster(project):
    run, _ = clustering_run_start(project=project, enqueue=False)
    run = clustering_run_execute(run_id=run.pk)
    assert run.status == "succeeded", run.error
    return run


def partition(project) -> dict[str, str]:
    """external id without prefix -> cluster (unclustered: a singleton of its own)."""
    rows = Interaction.objects.filter(project=project).values_list("external_id", "cluster_id")
    return {ext.split(":", 1)[1]: f"c{cid}" if cid else f"single-{ext}" for ext, cid in rows}


def test_the_same_failures_in_another_order_and_batching_give_the_same_clusters(db):
    rows = real_queries(intents=12, per_intent=20)
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    first, second = (Project.objects.create(slug=slug, name=slug) for slug in ("order-a", "order-b"))
    made_first = make_real_failures(first, rows, prefix="a:")
    # The second project gets them in another order (so other ids), embedded first in small uneven batches.
    index = {text: n for n, (text, _) in enumerate(rows)}
    keys = [f"{label}~{index[text]}" for text, label in shuffled]
    made_second = make_real_failures(second, shuffled, prefix="b:", keys=keys)
    ids = [f.pk for f in made_second]
    for start in range(0, len(ids), 37):
        embeddings_compute(interaction_ids=ids[start : start + 37], join_clusters=False)
    assert len(made_first) == len(made_second) == len(rows)

    recluster(first)
    recluster(second)
    a = partition(first)
    b = partition(second)
    keys = sorted(a)
    assert sorted(b) == keys
    agreement = adjusted_rand_score([a[k] for k in keys], [b[k] for k in keys])
    assert agreement >= 0.95, agreement
    truth = [k.split("~")[0] for k in keys]
    assert adjusted_rand_score(truth, [a[k] for k in keys]) >= 0.5  # and the clusters follow the intents


def test_a_grown_project_keeps_the_ids_of_the_clusters_that_survive(db):
    rows = real_queries(intents=12, per_intent=22)
    by_label: dict[str, list] = {}
    for text, label in rows:
        by_label.setdefault(label, []).append((text, label))
    old_rows = [r for label_rows in by_label.values() for r in label_rows[:20]]
    new_rows = [r for label_rows in by_label.values() for r in label_rows[20:]]  # +10%, the same intents
    project = Project.objects.create(slug="growing", name="growing")
    make_real_failures(project, old_rows, prefix="old:")
    recluster(project)
    before = {
        cid: set(Interaction.objects.filter(cluster_id=cid).values_list("pk", flat=True))
        for cid in Cluster.objects.filter(project=project, is_active=True).values_list("pk", flat=True)
    }

    make_real_failures(project, new_rows, prefix="new:")
    run = recluster(project)
    after = {
        cid: set(Interaction.objects.filter(cluster_id=cid).values_list("pk", flat=True))
        for cid in Cluster.objects.filter(project=project, is_active=True).values_list("pk", flat=True)
    }
    # A cluster survives when a new cluster holds most of its members and they are the most of that cluster's old
    # ones (a small cluster merged whole into a bigger one lives on under the bigger one's id); it must then carry
    # the same id.
    survivors = 0
    for old_id, members in before.items():
        holder = max(after, key=lambda cid: len(after[cid] & members))
        largest_part = max(before, key=lambda cid: len(after[holder] & before[cid]))
        if len(after[holder] & members) >= 0.6 * len(members) and largest_part == old_id:
            survivors += 1
            assert holder == old_id, (old_id, holder)
    assert survivors >= 0.8 * len(before)
    assert run.counts["clusters_kept"] >= survivors


def test_a_large_project_clusters_its_most_recent_failures_only(db, settings):
    from datetime import timedelta

    from django.utils import timezone

    rows = real_queries(intents=4, per_intent=15)
    project = Project.objects.create(slug="windowed", name="windowed")
    made = make_real_failures(project, rows)
    now = timezone.now()
    for age, failure in enumerate(made):  # made[0] is the newest
        Interaction.objects.filter(pk=failure.pk).update(occurred_at=now - timedelta(minutes=age))
    settings.CLUSTERING_MAX_FAILURES = 45
    run = recluster(project)
    assert run.counts["failures"] == 45
    oldest = [f.pk for f in made[45:]]
    assert not Interaction.objects.filter(pk__in=oldest, cluster__isnull=False).exists()
    assert Interaction.objects.filter(pk__in=[f.pk for f in made[:45]], cluster__isnull=False).count() >= 40

    settings.CLUSTERING_MAX_FAILURES, settings.CLUSTERING_WINDOW_DAYS = 0, 1
    Interaction.objects.filter(pk__in=oldest).update(occurred_at=now - timedelta(days=3))
    assert recluster(project).counts["failures"] == 45
