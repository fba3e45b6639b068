import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.common.by import By


@pytest.mark.browser
def test_admin_login_in_headless_chromium(transactional_db, browser, admin_login, live_server, screenshot):
    get_user_model().objects.create_superuser("root", "", "pw-12345")
    admin_login("root", "pw-12345")
    assert "Site administration" in browser.find_element(By.TAG_NAME, "body").text
    assert screenshot("admin-index").exists()
