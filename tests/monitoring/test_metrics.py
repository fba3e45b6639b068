"""The metrics series and the before/after comparison against values computed by hand."""

import math
from datetime import UTC, datetime

import pytest
from scipy import stats

from feedback.models import Feedback
from monitoring.models import FeedbackRollup
from monitoring.services.rollups import rollups_refresh
from tests.factories import FeedbackFactory, InteractionFactory

T = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def at(hour: int, minute: int) -> datetime:
    return T.replace(hour=hour, minute=minute)


@pytest.fixture
def data(project):
    """Four interactions, seven feedback items over the hours 10:00 and 11:00 of one day."""

    def interaction(model, prompt_version, when):
        return InteractionFactory(project=project, model=model, prompt_version=prompt_version, occurred_at=when)

    def feedback(interaction, when, *, name="thumbs", number=0.0, negative=False, numeric=False):
        data_type = Feedback.DataType.NUMERIC if numeric else Feedback.DataType.BOOLEAN
        return FeedbackFactory(
            interaction=interaction,
            created_at=when,
            name=name,
            data_type=data_type,
            value_number=number,
            is_negative=negative,
        )

    i1 = interaction("A", "v1", at(10, 5))
    i2 = interaction("A", "v1", at(10, 40))
    i3 = interaction("B", "v2", at(10, 30))
    i4 = interaction("A", "v2", at(11, 10))
    feedback(i1, at(10, 10), negative=True)  # thumbs down
    feedback(i1, at(10, 20), name="helpfulness", number=4, numeric=True)
    feedback(i2, at(10, 50), number=1)  # thumbs up
    feedback(i3, at(10, 35), name="helpfulness", number=2, numeric=True, negative=True)
    feedback(i3, at(11, 5), name="accuracy", number=0.5, numeric=True)  # its interaction is in hour 10
    feedback(i4, at(11, 20), negative=True)
    feedback(i2, at(11, 30), name="helpfulness", number=5, numeric=True)
    return project


def rows_by_key(response, group_by):
    assert response.status_code == 200, response.content
    return {(row["bucket"], row[group_by]): row for row in response.json()["results"]}


def get_series(api, **params):
    params = {"since": "2026-11-20T00:00:00Z", "until": "2026-11-21T00:00:00Z", **params}
    return api.get("/api/v1/metrics/feedback", params)


HOUR_BY_MODEL = {
    ("2026-11-20T10:00:00Z", "A"): (2, 3, 1, 1 / 3, 1, 4.0),
    ("2026-11-20T10:00:00Z", "B"): (1, 1, 1, 1.0, 1, 2.0),
    ("2026-11-20T11:00:00Z", "A"): (1, 2, 1, 0.5, 1, 5.0),
    ("2026-11-20T11:00:00Z", "B"): (0, 1, 0, 0.0, 1, 0.5),
}


def assert_hour_by_model(api):
    rows = rows_by_key(get_series(api, group_by="model", bucket="hour"), "model")
    assert set(rows) == set(HOUR_BY_MODEL)
    for key, (interactions, feedback, negative, rate, score_count, mean) in HOUR_BY_MODEL.items():
        row = rows[key]
        assert (row["interactions"], row["feedback"], row["negative"], row["score_count"]) == (
            interactions,
            feedback,
            negative,
            score_count,
        ), key
        assert row["negative_rate"] == pytest.approx(rate)
        assert row["mean_score"] == pytest.approx(mean)


def test_hourly_series_by_model_live_from_base_tables(data, api):
    assert_hour_by_model(api)


@pytest.mark.parametrize("now", [at(11, 45), at(12, 30)], ids=["hour-11-open", "all-closed"])
def test_hourly_series_by_model_is_the_same_from_rollups(data, api, now):
    rollups_refresh(project=data, now=now)
    assert FeedbackRollup.objects.filter(project=data).exists()
    # The rollups, not the base tables, answer for closed hours: prove it by breaking a rollup row.
    assert_hour_by_model(api)
    FeedbackRollup.objects.filter(project=data, bucket_start=at(10, 0), model="B", name="").update(interactions=99)
    rows = rows_by_key(get_series(api, group_by="model", bucket="hour"), "model")
    assert rows[("2026-11-20T10:00:00Z", "B")]["interactions"] == 99


def test_daily_series_by_prompt_version_and_score_filter(data, api):
    rollups_refresh(project=data, now=at(11, 45))
    rows = rows_by_key(get_series(api, group_by="prompt_version", bucket="day"), "prompt_version")
    v1, v2 = rows[("2026-11-20T00:00:00Z", "v1")], rows[("2026-11-20T00:00:00Z", "v2")]
    assert (v1["interactions"], v1["feedback"], v1["negative"]) == (2, 4, 1)
    assert v1["negative_rate"] == pytest.approx(0.25)
    assert v1["mean_score"] == pytest.approx(4.5)  # helpfulness 4 and 5
    assert (v2["interactions"], v2["feedback"], v2["negative"]) == (2, 3, 2)
    assert v2["negative_rate"] == pytest.approx(2 / 3)
    assert v2["mean_score"] == pytest.approx(1.25)  # helpfulness 2, accuracy 0.5

    rows = rows_by_key(get_series(api, group_by="model", bucket="hour", score="helpfulness"), "model")
    assert rows[("2026-11-20T11:00:00Z", "B")]["mean_score"] is None  # only accuracy there
    assert rows[("2026-11-20T11:00:00Z", "B")]["score_count"] == 0
    assert rows[("2026-11-20T10:00:00Z", "A")]["mean_score"] == pytest.approx(4.0)
    assert rows[("2026-11-20T11:00:00Z", "A")]["feedback"] == 2  # the score filter leaves counts alone


def test_a_backfilled_interaction_reaches_old_rollups(data, api, settings):
    settings.METRICS_ROLLUP_RECENT_HOURS = 1
    rollups_refresh(project=data, now=at(12, 30))
    InteractionFactory(project=data, model="B", prompt_version="v2", occurred_at=at(10, 59))
    rollups_refresh(project=data, now=T.replace(day=22, hour=9))  # hour 10 of the 20th is far outside "recent"
    rows = rows_by_key(get_series(api, group_by="model", bucket="hour"), "model")
    assert rows[("2026-11-20T10:00:00Z", "B")]["interactions"] == 2


def test_model_filter_and_project_isolation(data, api, make_client):
    from feedback.services.projects import project_get_or_create

    rows = rows_by_key(get_series(api, group_by="prompt_version", bucket="day", model="B"), "prompt_version")
    assert list(rows) == [("2026-11-20T00:00:00Z", "v2")]
    assert rows[("2026-11-20T00:00:00Z", "v2")]["feedback"] == 2

    other = make_client(project_get_or_create(slug="other-bot", name="Other"))
    assert get_series(other, group_by="model", bucket="hour").json()["results"] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"group_by": "colour"}, "group_by"),
        ({"bucket": "week"}, "bucket"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-21T00:00:00Z", "until": "2026-11-20T00:00:00Z"}, "since"),
        ({"bucket": "hour", "since": "2026-01-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"}, "since"),
    ],
)
def test_bad_parameters_are_400_with_the_field(api, params, field):
    response = api.get("/api/v1/metrics/feedback", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_metrics_need_a_read_key(project, make_client, client):
    assert client.get("/api/v1/metrics/feedback").status_code == 401
    ingest_only = make_client(project, scopes=["ingest"])
    assert ingest_only.get("/api/v1/metrics/feedback").status_code == 403
    assert ingest_only.get("/api/v1/metrics/compare").status_code == 403


def test_compare_prompt_versions_matches_hand_computed_tests(data, api):
    rollups_refresh(project=data, now=at(11, 45))
    response = api.get(
        "/api/v1/metrics/compare",
        {"dimension": "prompt_version", "before": "v1", "after": "v2", "since": "2026-11-20T00:00:00Z"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["before"]["feedback"], body["before"]["negative"]) == (4, 1)
    assert (body["after"]["feedback"], body["after"]["negative"]) == (3, 2)
    pooled = 3 / 7
    z = (2 / 3 - 1 / 4) / math.sqrt(pooled * (1 - pooled) * (1 / 4 + 1 / 3))
    assert body["negative_rate"]["difference"] == pytest.approx(2 / 3 - 1 / 4)
    assert body["negative_rate"]["z"] == pytest.approx(z)
    assert body["negative_rate"]["p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert body["negative_rate"]["significant"] is False  # 7 judgements are noise

    welch = stats.ttest_ind([2, 0.5], [4, 5], equal_var=False)
    assert body["before"]["mean_score"] == pytest.approx(4.5)
    assert body["after"]["mean_score"] == pytest.approx(1.25)
    assert body["mean_score"]["t"] == pytest.approx(welch.statistic)
    assert body["mean_score"]["p_value"] == pytest.approx(welch.pvalue)


def test_compare_flags_a_real_regression(project, api):
    for version, negatives in (("v1", 10), ("v2", 60)):
        interactions = InteractionFactory.create_batch(100, project=project, prompt_version=version)
        for index, interaction in enumerate(interactions):
            FeedbackFactory(interaction=interaction, is_negative=index < negatives)
    response = api.get("/api/v1/metrics/compare", {"dimension": "prompt_version", "before": "v1", "after": "v2"})
    body = response.json()
    assert body["before"]["negative_rate"] == pytest.approx(0.1)
    assert body["after"]["negative_rate"] == pytest.approx(0.6)
    assert body["negative_rate"]["significant"] is True
    assert body["negative_rate"]["p_value"] < 1e-6
    assert body["mean_score"]["difference"] is None  # no scores on either side


def test_the_beat_task_and_the_command_refresh_rollups(data, capsys):
    from django.core.management import call_command

    from monitoring.models import RollupCursor
    from monitoring.tasks import refresh_feedback_rollups

    refresh_feedback_rollups.apply()
    cursor = RollupCursor.objects.get(project=data)
    assert FeedbackRollup.objects.filter(project=data, bucket_start=at(10, 0)).exists()
    call_command("refresh_rollups", "--project", data.slug, "--rebuild")
    assert "support-bot: rollups complete" in capsys.readouterr().out
    assert RollupCursor.objects.get(project=data).refreshed_at > cursor.refreshed_at
    totals = FeedbackRollup.objects.filter(project=data).values_list("interactions", "feedback")
    assert (sum(i for i, _ in totals), sum(f for _, f in totals)) == (4, 7)


def test_compare_needs_a_dimension_and_both_sides(api):
    response = api.get("/api/v1/metrics/compare", {"before": "v1"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"dimension", "after"}
    response = api.get("/api/v1/metrics/compare", {"dimension": "colour", "before": "a", "after": "b"})
    assert response.status_code == 400 and "dimension" in response.json()["error"]["fields"]


def test_compare_sees_only_its_own_project(data, make_client):
    from feedback.services.projects import project_get_or_create

    other = make_client(project_get_or_create(slug="other-bot", name="Other"))
    params = {"dimension": "prompt_version", "before": "v1", "after": "v2", "since": "2026-11-20T00:00:00Z"}
    body = other.get("/api/v1/metrics/compare", params).json()
    assert body["before"]["feedback"] == 0 and body["after"]["feedback"] == 0
    assert body["negative_rate"]["p_value"] is None
