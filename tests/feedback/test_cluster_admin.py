"""Clusters and clustering runs in the admin: lists without N+1, members, progress, starting a run."""

import pytest
from django.contrib.auth import get_user_model

from feedback.admin.clusters import ClusterAdmin
from feedback.models import Cluster, ClusteringRun
from tests.factories import FailureFactory


@pytest.fixture
def admin_client_logged_in(client, db):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")
    client.force_login(user)
    return client


@pytest.fixture
def clusters(project):
    made = []
    for n in range(5):
        cluster = Cluster.objects.create(
            project=project, label=f"topic {n}", keywords=["topic", str(n)], size=3, size_previous_run=1
        )
        members = [FailureFactory(project=project, cluster=cluster, input=f"question {n}-{m}") for m in range(3)]
        cluster.representative_ids = [members[0].pk]
        cluster.save()
        made.append(cluster)
    return made


def test_the_cluster_list_needs_a_fixed_number_of_queries(
    admin_client_logged_in, clusters, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = admin_client_logged_in.get("/admin/feedback/cluster/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "topic 4" in page and "+2" in page  # growth since the previous run
    assert f"?cluster={clusters[0].pk}" in page  # link to the review queue filtered by the cluster


def test_a_cluster_page_shows_its_members_representatives_first(admin_client_logged_in, clusters):
    response = admin_client_logged_in.get(f"/admin/feedback/cluster/{clusters[2].pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "question 2-0" in page and "question 2-2" in page and "question 3-0" not in page
    assert page.index("question 2-0") < page.index("question 2-1")


def test_cluster_actions_are_a_plain_list_others_can_extend():
    assert isinstance(ClusterAdmin.actions, list)


def test_runs_show_progress_and_start_from_the_admin(admin_client_logged_in, project):
    ClusteringRun.objects.create(project=project, status="succeeded", progress=1.0, counts={"clusters": 4})
    page = admin_client_logged_in.get("/admin/feedback/clusteringrun/").content.decode()
    assert "Start a clustering run" in page and 'value="100"' in page and 'http-equiv="refresh"' not in page

    response = admin_client_logged_in.post("/admin/feedback/clusteringrun/add/", {"project": project.pk})
    assert response.status_code == 302
    run = ClusteringRun.objects.get(project=project, status="queued")
    again = admin_client_logged_in.post("/admin/feedback/clusteringrun/add/", {"project": project.pk}, follow=True)
    assert "already queued" in again.content.decode()
    assert ClusteringRun.objects.filter(project=project, status="queued").get() == run
    page = admin_client_logged_in.get("/admin/feedback/clusteringrun/").content.decode()
    assert 'http-equiv="refresh"' in page  # refreshes itself while a run is in flight
    assert admin_client_logged_in.get(f"/admin/feedback/clusteringrun/{run.pk}/change/").status_code == 200


@pytest.mark.browser
def test_an_sme_starts_a_run_and_reads_a_cluster_in_the_browser(
    transactional_db, browser, admin_login, live_server, screenshot, project
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    get_user_model().objects.create_superuser("sme", "", "pw-sme-123")
    cluster = Cluster.objects.create(project=project, label="card · declined · payment", keywords=["card"], size=2)
    for n in range(2):
        FailureFactory(project=project, cluster=cluster, input=f"my card was declined {n}")
    admin_login("sme", "pw-sme-123")

    browser.get(f"{live_server.url}/admin/feedback/cluster/")
    browser.find_element(By.LINK_TEXT, "card · declined · payment").click()
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "my card was declined 0" in body and "review 2 failures" in body, body
    screenshot("cluster-detail")

    browser.get(f"{live_server.url}/admin/feedback/clusteringrun/")
    start = browser.find_element(By.CSS_SELECTOR, ".object-tools a")
    assert start.text.lower() == "start a clustering run"
    start.click()
    Select(browser.find_element(By.NAME, "project")).select_by_visible_text(project.slug)
    browser.find_element(By.NAME, "_save").click()
    runs = browser.find_element(By.ID, "result_list").text.lower()
    assert any(status in runs for status in ("queued", "running", "succeeded"))  # a leftover worker may be quick
    screenshot("clustering-runs")
