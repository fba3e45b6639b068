"""Embedding failures: the embedded text, only failures, one row per failure however often it runs."""

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from core.chat import user_text
from core.embedder import embed_texts, embedder_name, get_model
from feedback.models import Embedding
from feedback.services.embeddings import (
    embedder_wait_ready,
    embedder_warm_up,
    embedding_text,
    embeddings_compute,
    embeddings_sweep,
    render_template,
)
from tests.factories import FailureFactory, FeedbackFactory, InteractionFactory


@pytest.fixture(scope="module", autouse=True)
def model():
    return get_model()


def test_user_text_is_the_last_user_message_or_the_input_itself():
    chat = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "question"}]},
    ]
    assert user_text(chat) == "second\nquestion"
    assert user_text({"messages": chat[:1]}) == "first question"
    assert user_text("plain prompt") == "plain prompt"
    assert user_text({"query": "x"}) == '{"query": "x"}'


def test_template_lines_without_values_are_dropped():
    template = "user: {user}\nfeedback: {comment}\ncorrection: {correction}"
    assert (
        render_template(template, {"user": "hi", "comment": "", "correction": "fixed"}) == "user: hi\ncorrection: fixed"
    )


def test_the_text_holds_the_question_the_comment_and_the_correction(db):
    interaction = FailureFactory(input=[{"role": "user", "content": "Can I get a refund?"}])
    feedback = FeedbackFactory(interaction=interaction, comment="Wrong policy", correction="Refunds take 14 days.")
    text = embedding_text(interaction=interaction, negative_feedback=[feedback])
    assert text == "user: Can I get a refund?\nfeedback: Wrong policy\ncorrection: Refunds take 14 days."


def test_the_stored_text_takes_the_newest_negative_comment_and_the_newest_correction(db, project):
    from datetime import timedelta

    from django.utils import timezone

    failure = FailureFactory(project=project, input={"messages": [{"role": "user", "content": "Can I get a refund?"}]})
    now = timezone.now()
    FeedbackFactory(interaction=failure, comment="old comment", correction="Refunds take 14 days.",
                    created_at=now - timedelta(minutes=3))  # fmt: skip
    FeedbackFactory(interaction=failure, comment="Wrong policy", created_at=now - timedelta(minutes=2))
    FeedbackFactory(interaction=failure, comment="", correction="", created_at=now - timedelta(minutes=1))
    FeedbackFactory(interaction=failure, comment="Nice answer", is_negative=False, value_number=1.0, created_at=now)

    embeddings_compute(interaction_ids=[failure.pk])
    assert Embedding.objects.get(interaction=failure).text == (
        "user: Can I get a refund?\nfeedback: Wrong policy\ncorrection: Refunds take 14 days."
    )


def test_failures_are_embedded_once_and_other_interactions_never(db, project, django_assert_max_num_queries):
    failures = [FailureFactory(project=project, input=f"Where is my parcel number {n}?") for n in range(5)]
    for failure in failures:
        FeedbackFactory(interaction=failure, comment="late delivery")
    fine = InteractionFactory(project=project)
    ids = [f.pk for f in failures] + [fine.pk]

    assert sorted(embeddings_compute(interaction_ids=ids)) == sorted(f.pk for f in failures)
    rows = Embedding.objects.filter(project=project)
    assert rows.count() == 5
    row = rows.get(interaction=failures[0])
    assert row.embedder == embedder_name() and "parcel number 0" in row.text and "late delivery" in row.text
    assert np.isclose(np.linalg.norm(row.vector), 1.0, atol=1e-4)

    with django_assert_max_num_queries(3):  # the second time: one look-up, nothing to embed
        assert embeddings_compute(interaction_ids=ids) == []
    assert Embedding.objects.filter(project=project).count() == 5


def test_the_sweep_embeds_what_was_missed(db, project):
    missed = [FailureFactory(project=project) for _ in range(3)]
    embeddings_compute(interaction_ids=[missed[0].pk])
    assert embeddings_sweep(batch_size=1) == 2
    assert embeddings_sweep() == 0
    assert Embedding.objects.filter(interaction__in=missed).count() == 3


def test_chunked_encoding_stores_each_failure_its_own_vector(db, project, settings):
    # Chunks of two texts: the model encodes the next chunk while this one is written, and the texts are reordered
    # longest first on the way, so a vector that landed on the wrong row would show here.
    settings.EMBEDDER_BATCH_SIZE = settings.EMBEDDER_ONNX_BATCH_SIZE = settings.EMBEDDING_CHUNK_SIZE = 2
    questions = ["Card?", "Where is my parcel, it has been two weeks", "Refund please", "How do I reset my PIN code?"]
    failures = [FailureFactory(project=project, input=question) for question in questions]

    assert embeddings_compute(interaction_ids=[f.pk for f in failures]) == sorted(f.pk for f in failures)
    rows = {row.interaction_id: row for row in Embedding.objects.filter(project=project)}
    expected = embed_texts([rows[f.pk].text for f in failures])
    stored = np.array([rows[f.pk].vector for f in failures])
    sims = stored @ expected.T
    # The qint8 graph's vectors move a little with their batch mates (cosine > 0.97), never to another text's.
    assert list(sims.argmax(axis=1)) == list(range(len(failures)))
    assert np.diag(sims).min() > 0.97


def test_the_encoding_thread_is_kept_across_calls_and_made_anew_in_a_forked_child():
    import os

    from feedback.services.embeddings import _encoder_thread

    parent = _encoder_thread()
    assert _encoder_thread() is parent
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a Celery prefork child: its parent's encoding thread does not exist here
        try:
            pool = _encoder_thread()
            ok = pool is not parent and pool.submit(lambda: 42).result(timeout=10) == 42
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 2) == b"ok"


def test_the_warm_up_runs_the_model_on_the_encoding_thread_and_then_nothing_waits_for_it(caplog):
    with caplog.at_level(logging.INFO, logger="feedback.services.embeddings"):
        assert embedder_warm_up().result(timeout=120) >= 0
    assert "loaded and warmed up" in caplog.text
    assert embedder_wait_ready() < 1.0


def test_a_failed_warm_up_is_logged(monkeypatch, caplog):
    def broken(texts):
        raise OSError("no model here")

    monkeypatch.setattr("feedback.services.embeddings.embed_texts", broken)
    with caplog.at_level(logging.ERROR, logger="feedback.services.embeddings"):
        warm_up = embedder_warm_up()
        with pytest.raises(OSError):
            warm_up.result(timeout=10)
    assert "warm-up failed" in caplog.text and "no model here" in caplog.text


@pytest.mark.parametrize(
    ("queues", "enabled", "warmed"),
    [
        ({"default", "embeddings", "clustering", "alerts"}, True, True),
        ({"clustering"}, True, True),
        ({"embeddings"}, True, True),
        ({"default", "alerts"}, True, False),
        ({"clustering"}, False, False),
    ],
)
def test_a_worker_process_warms_the_embedder_when_it_starts_if_it_takes_model_work(
    monkeypatch, settings, queues, enabled, warmed
):
    from feedback.tasks import embeddings as tasks

    settings.EMBEDDER_WARM_UP_ON_WORKER_START = enabled
    calls = []
    monkeypatch.setattr(tasks, "current_app", SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(
        consume_from={name: object() for name in queues}))))  # fmt: skip
    monkeypatch.setattr(tasks, "embedder_warm_up", lambda: calls.append(1))
    tasks.warm_up_embedder_on_process_start(sender="worker@host")
    assert calls == ([1] if warmed else [])
