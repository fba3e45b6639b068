"""load_demo ends with a golden dataset of the demo SME's reviewed cases, frozen once as v1 tagged prod."""

import pytest
from django.core.management import call_command

from examples_lib.models import Dataset
from feedback.models import Review

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_frozen_golden_set_of_its_reviewed_cases():
    call_command("load_demo")
    dataset = Dataset.objects.get(project__slug="support-bot", name="support-answers")
    # The demo SME's own verdicts: the golden set is frozen before the agreement part adds second opinions.
    vouched = Review.objects.filter(
        project=dataset.project,
        reviewer__username="sme",
        superseded_at__isnull=True,
        verdict__in=["correct", "corrected"],
    )
    assert dataset.examples.count() == vouched.values("interaction").distinct().count() > 20
    corrected = dataset.examples.filter(lineage__verdict="corrected")
    assert corrected.exists() and all(e.lineage["reviewer"] == "sme" for e in corrected)
    assert all(e.expected_output != e.lineage["original_output"] for e in corrected)

    version = dataset.versions.get()
    assert version.number == 1 and [tag.name for tag in version.tags.all()] == ["prod"]
    assert len(version.sha256) == 64 and sum(version.counts.values()) == dataset.examples.count()

    call_command("load_demo")  # a rerun leaves the dataset and its version alone
    assert dataset.versions.count() == 1
