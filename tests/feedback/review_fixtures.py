"""Fixtures of the review tests (imported by tests/feedback/test_review_*.py)."""

import pytest
from django.contrib.auth import get_user_model

from feedback.services.roles import ML_ENGINEER, SME, roles_ensure
from tests.factories import FailureFactory, FeedbackFactory, ProjectFactory

PASSWORD = "review-pw-123"


def make_user(username: str, group: str | None = None, **extra):
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True, **extra)
    if group:
        user.groups.add(roles_ensure()[group])
    return user


@pytest.fixture(name="sme")
def sme_fixture(db):
    return make_user("sme-jane", SME)


@pytest.fixture(name="sme2")
def sme2_fixture(db):
    return make_user("sme-omar", SME)


@pytest.fixture(name="engineer")
def engineer_fixture(db):
    return make_user("ml-eng", ML_ENGINEER)


@pytest.fixture(name="review_project")
def review_project_fixture(db):
    return ProjectFactory(slug="support-bot")


def make_failures(project, count: int, **extra):
    """Failures with one negative thumbs each; the i-th has i+1 negative feedback so the queue order is known."""
    items = []
    for i in range(count):
        item = FailureFactory(project=project, negative_count=i + 1, feedback_count=i + 1, **extra)
        FeedbackFactory(interaction=item, comment=f"wrong answer {i}")
        items.append(item)
    return items
