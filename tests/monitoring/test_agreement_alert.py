"""An "agreement below threshold" rule fires when the SMEs' Krippendorff's alpha in its window drops under it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import Review
from feedback.services.reviews import review_create
from monitoring.admin.alerts import AlertRuleForm
from monitoring.models import Alert, AlertRule
from monitoring.services.alerts import alert_rule_evaluate
from tests.factories import InteractionFactory
from tests.feedback.review_fixtures import make_user


def judge_pairs(project, a, b, pairs):
    for first, second in pairs:
        item = InteractionFactory(project=project)
        review_create(interaction=item, verdict=first, reviewer=a)
        review_create(interaction=item, verdict=second, reviewer=b)


@pytest.fixture
def rule(project):
    return AlertRule.objects.create(
        project=project,
        name="SMEs disagree",
        metric=AlertRule.Metric.AGREEMENT,
        window_minutes=7 * 24 * 60,
        comparison=AlertRule.Comparison.LT,
        threshold=0.667,
        min_volume=6,
    )


def test_the_rule_fires_when_alpha_drops_and_ignores_old_verdicts(project, rule):
    a, b = make_user("sme-a", "SME"), make_user("sme-b", "SME")
    judge_pairs(project, a, b, [("correct", "correct"), ("invalid", "invalid")] * 3)
    assert alert_rule_evaluate(rule=rule) is None  # six agreeing items: alpha 1
    rule.refresh_from_db()
    assert rule.last_value == pytest.approx(1.0)

    judge_pairs(project, a, b, [("correct", "invalid"), ("invalid", "correct")] * 3)
    alert = alert_rule_evaluate(rule=rule)
    assert alert is not None and alert.status == Alert.Status.FIRING
    assert alert.value < 0.667 and alert.details["items_with_two_verdicts"] == 12

    # Those verdicts age out of the window; new ones agree: alpha is 1 again and the alert resolves.
    Review.objects.update(created_at=timezone.now() - timedelta(days=30))
    judge_pairs(project, a, b, [("correct", "correct"), ("invalid", "invalid")] * 3)
    assert alert_rule_evaluate(rule=rule) is None
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


def test_the_form_keeps_the_threshold_within_alpha_range(project):
    form = AlertRuleForm(
        data={
            "project": project.pk,
            "name": "x",
            "metric": "agreement",
            "window_minutes": 60,
            "comparison": "lt",
            "threshold": 1.5,
            "min_volume": 5,
            "enabled": True,
        }  # fmt: skip
    )
    assert not form.is_valid() and "threshold" in form.errors
