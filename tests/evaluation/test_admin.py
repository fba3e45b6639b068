import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from evaluation.models import BaselineTag, Run
from tests.evaluation.helpers import golden, outputs
from tests.evaluation.test_runs_api import create, finish

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(api, project):
    golden(project, 12)
    base_id = create(api, {"scorers": [{"kind": "exact"}, {"kind": "contains"}]}).json()["id"]
    api.post(f"/api/v1/runs/{base_id}/outputs", {"outputs": outputs(12, wrong={1})}, format="json")
    finish(api, base_id)
    scorers = [{"kind": "exact"}, {"kind": "contains"}]
    body = {"baseline": base_id, "scorers": scorers, "gates": [{"max_regressions": 0}], "feed_regressions": False}
    run_id = create(api, body).json()["id"]
    api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": outputs(12, wrong={1, 8, 10})}, format="json")
    finish(api, run_id)
    return Run.objects.get(pk=base_id), Run.objects.get(pk=run_id)


@pytest.fixture
def engineer(django_user_model, client):
    user = django_user_model.objects.create_user("ml-eng", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="ML engineer"))
    client.force_login(user)
    return client


def test_the_runs_list_shows_verdicts_and_a_pass_rate_chart(engineer, runs, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        page = engineer.get(reverse("admin:evaluation_run_changelist"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<polyline") == 2 and "Pass rate across the latest runs of support-answers" in html
    assert ">FAIL<" in html and ">PASS<" in html
    assert "exact&nbsp;75.0%" in html


def test_a_run_beside_its_baseline_shows_regressions_first(engineer, runs):
    _, candidate = runs
    page = engineer.get(reverse("admin:evaluation_run_change", args=[candidate.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "regressions &lt;= 0 failed" in html
    rows = html.split('id="run-examples"')[1]
    order = [rows.index(f"ex-{i}<") for i in (8, 10, 0)]
    assert order == sorted(order)  # ex-8 and ex-10 regressed: listed before ex-0
    regressed_only = engineer.get(reverse("admin:evaluation_run_change", args=[candidate.pk]) + "?filter=regressed")
    assert "ex-0<" not in regressed_only.content.decode().split('id="run-examples"')[1]


def test_the_action_tags_a_run_as_baseline(engineer, runs):
    baseline, candidate = runs
    url = reverse("admin:evaluation_run_changelist")
    engineer.post(url, {"action": "tag_as_baseline", "_selected_action": [candidate.pk], "tag": "prod"})
    assert BaselineTag.objects.get(tag="prod").run == candidate
    response = engineer.post(
        url, {"action": "tag_as_baseline", "_selected_action": [baseline.pk, candidate.pk], "tag": "prod"}, follow=True
    )
    assert "Select exactly one run" in response.content.decode()
    assert BaselineTag.objects.get(tag="prod").run == candidate


def test_staff_of_another_project_see_none_of_its_runs(django_user_model, client, runs):
    from feedback.models import ProjectMembership
    from tests.factories import ProjectFactory

    user = django_user_model.objects.create_user("other-eng", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="ML engineer"))
    ProjectMembership.objects.create(user=user, project=ProjectFactory(slug="other"))
    client.force_login(user)
    html = client.get(reverse("admin:evaluation_run_changelist")).content.decode()
    assert "support-answers" not in html and "<polyline" not in html
    _, candidate = runs
    assert client.get(reverse("admin:evaluation_run_change", args=[candidate.pk])).status_code == 302
