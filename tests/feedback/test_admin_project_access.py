"""Access in the admin per project: an SME of `support-bot` sees and reviews only `support-bot`."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from feedback.models import ProjectMembership, Review
from feedback.services.roles import ML_ENGINEER, SME
from monitoring.models import AlertRule
from tests.examples_lib.helpers import dataset_with
from tests.factories import ProjectFactory
from tests.feedback.review_fixtures import PASSWORD, make_failures, make_user


def _two_projects():
    mine, theirs = ProjectFactory(slug="support-bot"), ProjectFactory(slug="sales-bot")
    (own,) = make_failures(mine, 1, external_id="mine-1")
    (other,) = make_failures(theirs, 1, external_id="theirs-1")
    return mine, theirs, own, other


def _login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_a_member_sees_only_their_project_everywhere_in_the_admin(settings):
    mine, theirs, own, other = _two_projects()
    sme = make_user("sme-jane", SME)
    engineer = make_user("ml-eng", ML_ENGINEER)
    engineer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_dataset", "view_alertrule"]),
    )
    for user in (sme, engineer):
        ProjectMembership.objects.create(user=user, project=mine)
    dataset_with(mine, 1, name="mine-set")
    theirs_set = dataset_with(theirs, 1, name="theirs-set")
    rule = AlertRule.objects.create(project=theirs, name="theirs-rule", metric="negative_rate", threshold=0.5)

    client = _login(sme)
    queue = client.get("/admin/feedback/reviewitem/").content.decode()
    assert "mine-1" in queue and "theirs-1" not in queue and "sales-bot" not in queue  # rows and filter choices
    assert client.get(f"/admin/feedback/reviewitem/{own.pk}/review/").status_code == 200
    assert client.get(f"/admin/feedback/reviewitem/{other.pk}/review/").status_code == 404
    assert client.post(f"/admin/feedback/reviewitem/{other.pk}/review/", {"verdict": "invalid"}).status_code == 404
    assert client.post(f"/admin/feedback/reviewitem/{other.pk}/claim/").status_code == 404
    assert not Review.objects.filter(interaction=other).exists()
    other.refresh_from_db()
    assert other.claimed_by_id is None

    engineer_client = _login(engineer)
    for url, shown, hidden in [
        ("/admin/feedback/interaction/", "mine-1", "theirs-1"),
        ("/admin/feedback/project/", "support-bot", "sales-bot"),
        ("/admin/examples_lib/dataset/", "mine-set", "theirs-set"),
        ("/admin/monitoring/alertrule/", "0 alert rules", "theirs-rule"),
    ]:
        page = engineer_client.get(url)
        assert page.status_code == 200, url
        assert shown in page.content.decode() and hidden not in page.content.decode(), url
    assert engineer_client.get(f"/admin/feedback/interaction/{other.pk}/change/").status_code == 302  # "not found"
    assert engineer_client.get(f"/admin/examples_lib/dataset/{theirs_set.pk}/diff/").status_code == 404
    assert engineer_client.get(f"/admin/monitoring/alertrule/{rule.pk}/change/").status_code == 302


@pytest.mark.django_db
def test_superusers_see_all_and_staff_without_membership_follow_the_setting(settings):
    _, _, own, other = _two_projects()
    admin = make_user("root", is_superuser=True)
    queue = _login(admin).get("/admin/feedback/reviewitem/").content.decode()
    assert "mine-1" in queue and "theirs-1" in queue

    loner = make_user("loner", SME)
    settings.ADMIN_STAFF_WITHOUT_PROJECTS_SEE_ALL = True
    assert "theirs-1" in _login(loner).get("/admin/feedback/reviewitem/").content.decode()
    settings.ADMIN_STAFF_WITHOUT_PROJECTS_SEE_ALL = False
    queue = _login(loner).get("/admin/feedback/reviewitem/").content.decode()
    assert "mine-1" not in queue and "theirs-1" not in queue


@pytest.mark.browser
def test_an_sme_of_one_project_reviews_it_and_cannot_reach_another_in_the_browser(
    transactional_db, browser, admin_login, live_server
):
    mine, _, own, other = _two_projects()
    sme = make_user("sme-jane", SME)
    ProjectMembership.objects.create(user=sme, project=mine)
    # The body is read while the page after a click may replace it: a stale body is read again.
    wait = WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,))

    admin_login(sme.username, PASSWORD)
    browser.get(f"{live_server.url}/admin/feedback/reviewitem/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert [own.external_id in row.text for row in rows] == [True]
    assert "sales-bot" not in browser.find_element(By.TAG_NAME, "body").text

    browser.find_element(By.ID, "review-next").click()
    wait.until(EC.url_contains(f"/{own.pk}/review/"))
    browser.find_element(By.ID, "verdict-correct").click()
    browser.find_element(By.ID, "save").click()
    wait.until(lambda d: "Verdict saved" in d.find_element(By.TAG_NAME, "body").text)
    assert Review.objects.get(interaction=own).reviewer == sme

    browser.get(f"{live_server.url}/admin/feedback/reviewitem/{other.pk}/review/")
    assert "theirs-1" not in browser.page_source and "Not Found" in browser.page_source
    assert not Review.objects.filter(interaction=other).exists()
