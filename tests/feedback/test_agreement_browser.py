"""Two SMEs in two real browsers never see each other's verdict on an overlap item before giving their own."""

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from feedback.models import Review
from feedback.services.roles import SME
from tests.factories import ProjectFactory
from tests.feedback.agreement_fixtures import overlap_policy
from tests.feedback.review_fixtures import PASSWORD, make_failures, make_user


@pytest.fixture
def second_browser(tmp_path):
    """A second headless Chromium with its own profile (its own session), like the `browser` fixture."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile-2'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def _login(driver, live_server, username: str) -> None:
    driver.get(f"{live_server.url}/admin/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    submit = driver.find_element(By.CSS_SELECTOR, "input[type=submit]")
    submit.click()
    WebDriverWait(driver, 15).until(EC.staleness_of(submit))


def _give_verdict(driver, verdict: str, notes: str) -> None:
    driver.find_element(By.ID, f"verdict-{verdict}").click()
    driver.find_element(By.ID, "notes").send_keys(notes)
    save = driver.find_element(By.ID, "save")
    save.click()
    WebDriverWait(driver, 15).until(EC.staleness_of(save))


@pytest.mark.browser
def test_two_smes_are_blind_to_each_other_on_an_overlap_item(
    transactional_db, browser, second_browser, live_server, screenshot
):
    jane, omar = make_user("sme-jane", SME), make_user("sme-omar", SME)
    project = ProjectFactory(slug="support-bot")
    overlap_policy(project)
    (item,) = make_failures(project, 1, output="Refunds take 30 days.")
    review_url = f"{live_server.url}/admin/feedback/reviewitem/{item.pk}/review/"
    _login(browser, live_server, jane.username)
    _login(second_browser, live_server, omar.username)

    # Jane takes the item and gives her verdict first.
    browser.get(f"{live_server.url}/admin/feedback/reviewitem/")
    browser.find_element(By.ID, "review-next").click()
    WebDriverWait(browser, 10).until(EC.url_contains(f"/{item.pk}/review/"))
    _give_verdict(browser, "invalid", "jane-secret-note")
    assert "jane-secret-note" in browser.find_element(By.ID, "review-list").text  # her own verdict, shown to her

    # Omar is handed the same item (overlap: two SMEs), and sees nothing of Jane's verdict.
    second_browser.get(f"{live_server.url}/admin/feedback/reviewitem/")
    queue = second_browser.find_element(By.ID, "result_list").text
    assert "hidden (overlap)" in queue and "invalid" not in queue
    second_browser.find_element(By.ID, "review-next").click()
    WebDriverWait(second_browser, 10).until(EC.url_contains(f"/{item.pk}/review/"))
    page = second_browser.find_element(By.TAG_NAME, "body").text
    assert "jane-secret-note" not in page and "sme-jane" not in second_browser.find_element(By.ID, "review-list").text
    assert "1 verdict of other SMEs hidden" in second_browser.find_element(By.ID, "overlap-status").text
    assert not second_browser.find_element(By.ID, "verdict-invalid").is_selected()  # nothing pre-filled from Jane
    screenshot("agreement-blind-review")

    _give_verdict(second_browser, "correct", "omar-note")
    assert Review.objects.filter(interaction=item, superseded_at__isnull=True).count() == 2
    # Both verdicts in: now each sees the other's.
    assert "jane-secret-note" in second_browser.find_element(By.ID, "review-list").text
    browser.get(review_url)
    assert "omar-note" in browser.find_element(By.ID, "review-list").text


@pytest.mark.browser
def test_the_agreement_page_in_a_browser(transactional_db, browser, admin_login, live_server, screenshot):
    import io

    from demo import agreement, reviews
    from feedback.services.roles import ML_ENGINEER
    from tests.factories import FailureFactory

    project = ProjectFactory(slug="support-bot")
    for quality in ("good", "generic", "wrong") * 20:
        FailureFactory(project=project, metadata={"intent": "card_arrival", "demo_quality": quality})
    reviews.load(project=project, stdout=io.StringIO())
    agreement.load(project=project, stdout=io.StringIO())
    engineer = make_user("ml-eng", ML_ENGINEER)
    admin_login(engineer.username, PASSWORD)

    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.LINK_TEXT, "Agreement").click()
    figures = browser.find_element(By.ID, "agreement-figures").text
    assert "percent agreement" in figures and "Krippendorff" in figures
    reviewers = browser.find_element(By.ID, "reviewer-table").text
    assert "sme" in reviewers and "sme2" in reviewers
    assert len(browser.find_elements(By.CSS_SELECTOR, "#trend-chart circle")) > 1
    assert "faithfulness" in browser.find_element(By.ID, "judge-table").text
    screenshot("agreement-page")
    browser.find_element(By.CSS_SELECTOR, "#disagreements a").click()
    assert "The SMEs' verdicts" in browser.find_element(By.TAG_NAME, "body").text
