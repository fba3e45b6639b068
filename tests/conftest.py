"""Shared fixtures: API clients with real keys, a real Celery worker process, a headless browser."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from feedback.services.api_keys import api_key_create
from feedback.services.projects import project_get_or_create

ALL_SCOPES = ["ingest", "read", "review", "curate"]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(db):
    return project_get_or_create(slug="support-bot", name="Support bot")


@pytest.fixture
def make_client(db):
    """make_client(project, scopes=[...]) -> an APIClient that sends that project's key."""

    def _make(project, scopes=ALL_SCOPES):
        _, raw_key = api_key_create(project=project, scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return _make


@pytest.fixture
def api(project, make_client):
    """A client with every scope on the `project` fixture."""
    return make_client(project)


def database_url() -> str:
    """A URL for the database the tests run on (the test database), for subprocesses."""
    db = connection.settings_dict
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host", "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgresql://{quote(db['USER'])}{password}@{quote(host, safe='')}{port}/{db['NAME']}"


def _wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


@pytest.fixture(scope="session")
def wait_until():
    return _wait_until


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery worker` process on the test database and the configured broker (Redis in CI).

    Tests that use it must use `transactional_db`, so that the worker sees their rows.
    """
    with django_db_blocker.unblock():
        url = database_url()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
        # A test's few dozen embeddings make a project large enough for its own HNSW index on the worker.
        "SIMILARITY_INDEX_MIN_EMBEDDINGS": "40",
    }
    queues = ",".join(settings.GOLDLOOP_QUEUES)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
        "-n",
        f"test-{os.getpid()}@%h",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    ready = _wait_until(lambda: "ready" in log_path.read_text() or process.poll() is not None, timeout=60)
    if not ready or process.poll() is not None:
        process.kill()
        pytest.fail(f"The Celery worker did not start:\n{log_path.read_text()[-3000:]}")
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    print(f"\n--- celery worker log (tail) ---\n{log_path.read_text()[-2000:]}")


@pytest.fixture
def purge_broker():
    """Drop tasks left in the broker's queues by earlier tests (Redis is shared across a run)."""
    from config.celery import app

    app.control.purge()


def pytest_sessionfinish(session, exitstatus):
    """Stop the embedded PostgreSQL if this test run started it (it was not running before)."""
    if os.environ.get("GOLDLOOP_STARTED_EMBEDDED_PG") == str(os.getpid()) and not os.environ.get("DATABASE_URL"):
        from core import embedded_postgres

        embedded_postgres.stop(ROOT / ".pgdata")


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium driven by Selenium (no browser download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture
def screenshot(browser):
    """screenshot("name") saves the current page to artifacts/screenshots/name.png (git-ignored)."""

    def _save(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return _save


@pytest.fixture
def admin_login(browser, live_server):
    """admin_login(username, password): log in through the real admin login form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def _login(username: str, password: str) -> None:
        browser.get(f"{live_server.url}/admin/login/")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        # Returns once the next page has replaced the form and loaded, so callers never read the login page's
        # elements. Asked of the URL, not of the old button: Chromium may answer a query on a node of the replaced
        # page with "Node with given id does not belong to the document" rather than a stale-element error.
        WebDriverWait(browser, 15).until(
            lambda driver: (
                "/admin/login/" not in driver.current_url
                and driver.execute_script("return document.readyState") == "complete"
            )
        )

    return _login
