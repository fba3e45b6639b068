import pytest
from django.contrib.auth.models import Group
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from examples_lib.models import DatasetVersion, Example
from examples_lib.services.datasets import dataset_create
from feedback.models import Review
from tests.factories import InteractionFactory


@pytest.mark.browser
def test_an_ml_engineer_promotes_freezes_and_compares_in_the_admin(
    transactional_db, browser, admin_login, live_server, screenshot, django_user_model, project, settings
):
    settings.EXAMPLES_EMBEDDER = "tests.examples_lib.conftest.fake_embed_texts"
    user = django_user_model.objects.create_user("ml-eng", password="pw-12345", is_staff=True)
    user.groups.add(Group.objects.get(name="ML engineer"))
    dataset_create(project=project, name="refund-answers")
    interactions = [InteractionFactory(project=project, is_failure=True, negative_count=1) for _ in range(3)]
    for index, interaction in enumerate(interactions):
        Review.objects.create(
            project=project,
            interaction=interaction,
            verdict="corrected",
            correction=f"Refunds take {10 + index} days.",
            reviewer_name="sme-jane",
        )
    admin_login("ml-eng", "pw-12345")

    browser.get(f"{live_server.url}/admin/feedback/reviewitem/")
    for box in browser.find_elements(By.CSS_SELECTOR, "input.action-select")[:2]:
        box.click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("promote_to_dataset")
    browser.find_element(By.NAME, "index").click()
    Select(browser.find_element(By.ID, "id_dataset")).select_by_visible_text("refund-answers (support-bot)")
    screenshot("golden-promote")
    browser.find_element(By.CSS_SELECTOR, "#promote-form input[type=submit]").click()
    assert "2 added to 'refund-answers'" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    assert Example.objects.count() == 2

    for _ in range(2):
        browser.get(f"{live_server.url}/admin/examples_lib/dataset/")
        browser.find_element(By.CSS_SELECTOR, "input.action-select").click()
        Select(browser.find_element(By.NAME, "action")).select_by_value("freeze_draft")
        browser.find_element(By.NAME, "index").click()
        assert "version" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text  # the freeze is done
        Example.objects.filter(pk=Example.objects.order_by("id").first().pk).delete()
    assert list(DatasetVersion.objects.order_by("number").values_list("example_count", flat=True)) == [2, 1]

    version = DatasetVersion.objects.get(number=1)
    browser.get(f"{live_server.url}/admin/examples_lib/datasetversion/{version.pk}/change/")
    assert version.sha256 in browser.page_source
    assert not browser.find_elements(By.NAME, "_save")
    screenshot("golden-version")

    browser.get(f"{live_server.url}/admin/examples_lib/dataset/{version.dataset_id}/diff/?a=1&b=2")
    assert "1 removed" in browser.find_element(By.ID, "diff-summary").text
    screenshot("golden-diff")
