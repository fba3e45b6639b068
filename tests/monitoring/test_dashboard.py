"""The monitoring dashboard in the admin: rendered by Django, then drawn by Chart.js in a real browser."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from selenium.webdriver.common.by import By

from feedback.models import Cluster, Interaction
from monitoring.models import AlertRule
from tests.factories import FailureFactory, FeedbackFactory, InteractionFactory


def seed(project):
    now = timezone.now()
    for hours_ago in range(0, 30, 3):
        for model, prompt_version, negative in (("gpt-4o-mini", "refunds-v3", 1), ("gpt-4o", "refunds-v4", 0)):
            when = now - timedelta(hours=hours_ago)
            interaction = InteractionFactory(
                project=project, model=model, prompt_version=prompt_version, occurred_at=when
            )
            FeedbackFactory(interaction=interaction, created_at=when, is_negative=bool(negative and hours_ago % 2))
    grown = Cluster.objects.create(project=project, label="Wrong refund window", size=25, size_previous_run=5)
    Cluster.objects.create(project=project, label="Greeting only", size=9, size_previous_run=8)
    old = FailureFactory(project=project)
    Interaction.objects.filter(pk=old.pk).update(created_at=now - timedelta(hours=10))
    FailureFactory(project=project)
    AlertRule.objects.create(project=project, name="Negative rate", metric="negative_rate", threshold=0.3, min_volume=1)
    return grown


@pytest.fixture
def staff_client(client, db):
    get_user_model().objects.create_superuser("root", "", "pw-12345")
    client.login(username="root", password="pw-12345")
    return client


def test_the_dashboard_shows_backlog_clusters_and_chart_data(project, staff_client, django_assert_max_num_queries):
    grown = seed(project)
    with django_assert_max_num_queries(30):
        response = staff_client.get("/admin/dashboard/", {"project": project.slug, "range": "24h"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f"/admin/feedback/cluster/{grown.pk}/change/" in body
    assert "+20" in body
    backlog = response.context["backlog"]
    assert backlog["count"] == 2
    assert backlog["oldest_age_hours"] == pytest.approx(10, abs=0.1)
    assert backlog["median_age_hours"] == pytest.approx(5, abs=0.1)
    charts = response.context["charts"]
    assert len(charts["labels"]) == 25  # 24 hours back, counted in whole buckets, and the open hour
    assert set(charts["by"]["model"]) == {"gpt-4o-mini", "gpt-4o"}
    assert (
        sum(value or 0 for value in charts["by"]["prompt_version"]["refunds-v4"]["feedback"]) == 9
    )  # 0, 3, ..., 24 hours ago
    assert 'id="dashboard-data"' in body and "chart.umd.min.js" in body


def test_the_dashboard_compares_before_and_after(project, staff_client):
    seed(project)
    response = staff_client.get(
        "/admin/dashboard/",
        {"project": project.slug, "dimension": "prompt_version", "before": "refunds-v3", "after": "refunds-v4"},
    )
    compare = response.context["compare"]
    assert compare["before"]["feedback"] == 10 and compare["after"]["feedback"] == 10
    assert compare["after"]["negative_rate"] == 0
    assert "Two-proportion z-test" in response.content.decode()


def test_the_admin_index_links_to_the_dashboard_and_it_needs_staff(project, staff_client, client):
    assert 'href="/admin/dashboard/"' in staff_client.get("/admin/").content.decode()
    staff_client.logout()
    assert client.get("/admin/dashboard/").status_code == 302


def test_the_dashboard_opens_on_the_busiest_project_then_on_the_last_chosen(project, staff_client):
    from feedback.services.projects import project_get_or_create

    empty = project_get_or_create(slug="a-new-empty-project")  # first by slug, and the newest
    InteractionFactory.create_batch(2, project=project)
    assert staff_client.get("/admin/dashboard/").context["project"] == project
    assert staff_client.get("/admin/dashboard/?project=a-new-empty-project").context["project"] == empty
    assert staff_client.get("/admin/dashboard/").context["project"] == empty  # remembered in the session
    assert staff_client.get("/admin/dashboard/?project=nope").context["project"] == empty


def test_the_dashboard_copes_without_any_project(staff_client):
    response = staff_client.get("/admin/dashboard/")
    assert response.status_code == 200
    assert "No project yet" in response.content.decode()


@pytest.mark.browser
def test_the_dashboard_draws_its_charts_in_chromium(transactional_db, browser, admin_login, live_server, screenshot):
    from feedback.services.projects import project_get_or_create

    project = project_get_or_create(slug="support-bot", name="Support bot")
    seed(project)
    get_user_model().objects.create_superuser("root", "", "pw-12345")
    admin_login("root", "pw-12345")
    link = browser.find_element(By.LINK_TEXT, "Dashboard")
    assert link.size["width"] > 2 * link.size["height"]  # one line, not one letter a line
    assert screenshot("admin-index-dashboard-link").exists()
    link.click()
    assert browser.current_url.endswith("/admin/dashboard/")
    canvases = browser.find_elements(By.CSS_SELECTOR, "canvas[data-chart]")
    assert len(canvases) == 4
    assert browser.execute_script("return typeof Chart") == "function"
    assert browser.execute_script("return window.goldloopChartsRendered") == 4
    # Chart.js registers each chart on its canvas and sizes the canvas: it really drew.
    drawn = browser.execute_script(
        "return Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".map(c => Chart.getChart(c) ? Chart.getChart(c).data.datasets.length : 0)"
    )
    assert drawn == [2, 3, 2, 3]  # the two backlog failures are prompt version "v1"
    assert all(canvas.size["height"] > 100 for canvas in canvases)
    assert "Wrong refund window" in browser.find_element(By.ID, "growing-clusters").text

    browser.get(f"{live_server.url}/admin/dashboard/?project=support-bot&range=24h")
    assert browser.execute_script("return window.goldloopChartsRendered") == 4
    browser.set_window_size(1400, 2000)
    assert screenshot("monitoring-dashboard").exists()


def fake_panel(*, project):
    return [{"name": "refund-answers", "examples": 42, "project": project.slug}]


def test_each_panel_is_shown_as_a_table(project, staff_client, monkeypatch):
    from monitoring.selectors import dashboard

    monkeypatch.setattr(dashboard, "PANELS", (("Fake panel", fake_panel),))
    response = staff_client.get("/admin/dashboard/", {"project": project.slug})
    assert response.status_code == 200
    assert response.context["panels"] == [
        {
            "title": "Fake panel",
            "columns": ["name", "examples", "project"],
            "rows": [["refund-answers", 42, "support-bot"]],
        }
    ]
    assert "refund-answers" in response.content.decode()


def test_the_real_golden_sets_panel_renders(project, staff_client):
    response = staff_client.get("/admin/dashboard/", {"project": project.slug})
    assert response.status_code == 200
    titles = [panel["title"] for panel in response.context["panels"]]
    assert titles == ["Golden sets"]


def test_monitoring_changelists_need_few_queries(project, staff_client, django_assert_max_num_queries):
    from monitoring.models import Alert, WebhookDelivery

    for index in range(5):
        rule = AlertRule.objects.create(project=project, name=f"rule {index}", metric="negative_rate", threshold=0.5)
        alert = Alert.objects.create(rule=rule, opened_at=timezone.now(), value=0.9)
        WebhookDelivery.objects.create(alert=alert, event="alert.firing", url="http://x", attempt=1, status_code=200)
    for url in ("/admin/monitoring/alertrule/", "/admin/monitoring/alert/", "/admin/monitoring/webhookdelivery/"):
        with django_assert_max_num_queries(12):
            assert staff_client.get(url).status_code == 200
    assert staff_client.get(f"/admin/monitoring/alert/{alert.pk}/change/").status_code == 200
    assert staff_client.get(f"/admin/monitoring/alertrule/{rule.pk}/change/").status_code == 200
