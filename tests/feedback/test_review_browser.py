"""An SME works the queue in headless Chromium: queue, next, correction with a live diff, save and next."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from feedback.models import ErrorCategory, Review
from feedback.services.roles import SME
from tests.factories import FeedbackFactory
from tests.feedback.review_fixtures import PASSWORD, make_failures, make_user


@pytest.mark.browser
def test_sme_reviews_in_the_browser(transactional_db, browser, admin_login, live_server, screenshot):
    sme = make_user("sme-jane", SME)
    from tests.factories import ProjectFactory

    project = ProjectFactory(slug="support-bot")
    ErrorCategory.objects.create(project=project, name="wrong_policy")
    low, high = make_failures(project, 2, output="Refunds take 30 days to process.")
    FeedbackFactory(interaction=high, comment="Wrong policy: refunds take 14 days", correction="Refunds take 14 days.")
    wait = WebDriverWait(browser, 10)

    admin_login(sme.username, PASSWORD)
    browser.get(f"{live_server.url}/admin/feedback/reviewitem/")
    assert "review queue" in browser.title.lower()
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 2 and high.external_id in rows[0].text
    screenshot("review-queue")

    browser.find_element(By.ID, "review-next").click()
    wait.until(EC.url_contains(f"/{high.pk}/review/"))
    assert "You hold this item" in browser.find_element(By.ID, "claim-status").text
    assert "Wrong policy: refunds take 14 days" in browser.find_element(By.ID, "feedback-list").text

    correction = browser.find_element(By.ID, "correction")
    correction.clear()
    correction.send_keys("Refunds take 14 days to process, by bank transfer.")
    wait.until(lambda d: "14" in d.find_element(By.CSS_SELECTOR, "#diff").get_attribute("innerHTML"))
    inserted = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#diff ins"))
    deleted = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#diff del"))
    assert "14" in inserted and "bank transfer." in inserted and "30" in deleted

    correction.send_keys(Keys.ESCAPE)  # leave the text box, so that keys are shortcuts again
    browser.find_element(By.TAG_NAME, "body").send_keys("2")
    assert browser.find_element(By.ID, "verdict-corrected").is_selected()
    browser.find_element(By.ID, "error_category").send_keys("wrong_policy")
    screenshot("review-page")

    correction.send_keys(Keys.CONTROL, Keys.ENTER)  # save and next
    wait.until(EC.url_contains(f"/{low.pk}/review/"))
    review = Review.objects.get(interaction=high)
    assert review.reviewer == sme and review.verdict == "corrected"
    assert review.correction == "Refunds take 14 days to process, by bank transfer."
    assert review.error_category.name == "wrong_policy"
    assert "Verdict saved" in browser.find_element(By.TAG_NAME, "body").text
