"""Fixtures of the agreement tests: a project whose every failure goes to two SMEs."""

import pytest

from feedback.models import ReviewPolicy
from feedback.services.roles import ADJUDICATOR
from tests.feedback.review_fixtures import make_user


def overlap_policy(project, *, reviewers: int = 2, share: float = 1.0) -> ReviewPolicy:
    policy, _ = ReviewPolicy.objects.update_or_create(
        project=project, defaults={"reviewers_per_item": reviewers, "overlap_share": share}
    )
    return policy


@pytest.fixture(name="adjudicator")
def adjudicator_fixture(db):
    return make_user("adj-ana", ADJUDICATOR)
