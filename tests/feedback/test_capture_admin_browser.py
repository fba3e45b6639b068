"""In a real browser: an admin creates an API key, sees it once, and the Interactions page lists captured rows."""

import re

import pytest
from selenium.webdriver.common.by import By

from feedback.models import ApiKey
from feedback.services.capture import capture_ingest
from feedback.services.projects import project_get_or_create


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_creates_a_key_shown_once_and_browses_interactions(
    browser, live_server, admin_login, screenshot, django_user_model
):
    django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    project = project_get_or_create(slug="support-bot", name="Support bot")
    capture_ingest(
        project_id=project.pk,
        interactions=[{"id": "chat-1", "input": "Refund?", "output": "30 days.", "model": "gpt-4o-mini"}],
        feedback=[{"id": "fb-1", "interaction_id": "chat-1", "name": "thumbs", "value": "down"}],
    )
    admin_login("root", "pw-root-123")

    browser.get(f"{live_server.url}/admin/feedback/apikey/add/")
    browser.find_element(By.CSS_SELECTOR, f"select[name=project] option[value='{project.pk}']").click()
    browser.find_element(By.NAME, "name").send_keys("chat backend")
    browser.find_element(By.CSS_SELECTOR, "input[name=scopes][value=review]").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=_save]").click()
    message = browser.find_element(By.CSS_SELECTOR, ".messagelist").text
    screenshot("capture_api_key_created")
    raw_key = re.search(r"not shown again: (gl_[A-Za-z0-9_-]+)", message).group(1)
    api_key = ApiKey.objects.get(name="chat backend")
    assert sorted(api_key.scopes) == ["ingest", "read", "review"]
    assert raw_key.startswith(api_key.prefix)
    # Shown once: the next page view lists the key by its prefix, without its secret.
    browser.get(f"{live_server.url}/admin/feedback/apikey/")
    assert api_key.prefix in browser.page_source and raw_key not in browser.page_source

    browser.get(f"{live_server.url}/admin/feedback/interaction/?is_failure__exact=1")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    screenshot("capture_interactions_admin")
    assert len(rows) == 1 and "chat-1" in rows[0].text
