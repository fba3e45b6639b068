"""Presigned feedback tokens: made with a key, used with none (at most max_uses times, never once expired), CORS
for configured origins, rate limits; and a real browser on a page of another origin clicking the thumbs snippet."""

import functools
import http.server
import json
import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from feedback.models import Feedback, FeedbackToken, Interaction
from feedback.services.capture import capture_ingest
from feedback.services.feedback_tokens import feedback_token_create

PAGE_ORIGIN_HOST = "127.0.0.1"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def interaction(project):
    item = {"id": "chat-8812", "input": "Can I get a refund?", "output": "Refunds take 30 days."}
    capture_ingest(project_id=project.id, interactions=[item], feedback=[])
    return Interaction.objects.get(external_id="chat-8812")


def use(token: str, body: dict, **headers):
    return Client().post(
        f"/api/v1/feedback/tokens/{token}", json.dumps(body), content_type="application/json", **headers
    )


@pytest.mark.django_db
def test_a_token_is_made_with_an_ingest_key_and_used_without_one(api, interaction):
    response = api.post(
        "/api/v1/feedback/tokens", {"interaction_id": "chat-8812", "name": "thumbs", "expires_in": 600}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"].endswith(f"/api/v1/feedback/tokens/{body['token']}") and body["expires_at"]
    assert not FeedbackToken.objects.filter(token_hash=body["token"]).exists()  # only its hash is kept

    used = use(body["token"], {"value": "down", "comment": "Wrong policy", "correction": "Refunds take 14 days."})

    assert used.status_code == 201, used.content
    assert used.json()["is_negative"] is True
    feedback = Feedback.objects.get(interaction=interaction)
    assert (feedback.name, feedback.value_number, feedback.source) == ("thumbs", 0.0, "end_user")
    assert (feedback.comment, feedback.correction) == ("Wrong policy", "Refunds take 14 days.")
    interaction.refresh_from_db()
    assert interaction.is_failure
    # max_uses 1: a second post is refused and stores nothing.
    again = use(body["token"], {"value": "up"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "used_up"
    assert Feedback.objects.count() == 1


@pytest.mark.django_db
def test_expired_unknown_and_invalid(project, interaction):
    token, raw = feedback_token_create(project_id=project.id, interaction_external_id="chat-8812", max_uses=3)
    assert use(raw, {"value": "sideways"}).status_code == 400  # invalid feedback does not spend a use
    token.refresh_from_db()
    assert token.uses == 0
    FeedbackToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert use(raw, {"value": "up"}).status_code == 410
    assert use("gft_unknown", {"value": "up"}).status_code == 404
    assert not Feedback.objects.exists()


@pytest.mark.django_db
def test_token_creation_errors(api, make_client, project, interaction):
    assert api.post("/api/v1/feedback/tokens", {"interaction_id": "nope"}, format="json").status_code == 404
    assert (
        api.post("/api/v1/feedback/tokens", {"interaction_id": "chat-8812", "max_uses": 0}, format="json").status_code
        == 400
    )
    reader = make_client(project, scopes=["read"])
    assert reader.post("/api/v1/feedback/tokens", {"interaction_id": "chat-8812"}, format="json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_max_uses_is_enforced_by_the_database_under_concurrency(project, interaction):
    _, raw = feedback_token_create(project_id=project.id, interaction_external_id="chat-8812", max_uses=3)
    statuses = []

    def post():
        try:
            statuses.append(use(raw, {"value": "up"}, REMOTE_ADDR=f"10.0.0.{threading.get_ident() % 250}").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(201) == 3 and statuses.count(409) == 5
    assert Feedback.objects.count() == 3


@pytest.mark.django_db
def test_cors_preflight_and_origins(settings, project, interaction):
    settings.FEEDBACK_TOKEN_CORS_ORIGINS = ["https://shop.example"]
    _, raw = feedback_token_create(project_id=project.id, interaction_external_id="chat-8812")
    preflight = Client().options(
        f"/api/v1/feedback/tokens/{raw}",
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Content-Type" in preflight["Access-Control-Allow-Headers"]
    assert Client().options(f"/api/v1/feedback/tokens/{raw}", HTTP_ORIGIN="https://evil.example").status_code == 403
    refused = use(raw, {"value": "up"}, HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    allowed = use(raw, {"value": "up"}, HTTP_ORIGIN="https://shop.example")
    assert allowed.status_code == 201 and allowed["Access-Control-Allow-Origin"] == "https://shop.example"


@pytest.mark.django_db
def test_rate_limited_per_ip_with_retry_after(settings, project, interaction):
    settings.FEEDBACK_TOKEN_RATE_PER_MINUTE = 2
    _, raw = feedback_token_create(project_id=project.id, interaction_external_id="chat-8812", max_uses=10)
    assert [use(raw, {"value": "up"}).status_code for _ in range(2)] == [201, 201]
    limited = use(raw, {"value": "up"})
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert Feedback.objects.count() == 2


def test_the_snippet_is_served():
    response = Client().get("/api/v1/feedback/thumbs.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert b"data-goldloop-url" in response.content and b"fetch(" in response.content


# --- A real browser, on a page of another origin -------------------------------------------------------------------
@pytest.fixture
def other_origin(tmp_path):
    """A second HTTP server (another port, so another origin) that serves tmp_path."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer((PAGE_ORIGIN_HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://{PAGE_ORIGIN_HOST}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_a_browser_on_another_origin_clicks_the_thumbs(browser, live_server, other_origin, settings, project):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    directory, origin = other_origin
    settings.FEEDBACK_TOKEN_CORS_ORIGINS = [origin]
    capture_ingest(
        project_id=project.id,
        interactions=[{"id": f"chat-{n}", "input": "Can I get a refund?", "output": "30 days."} for n in (1, 2, 3)],
        feedback=[],
    )
    _, fresh = feedback_token_create(project_id=project.id, interaction_external_id="chat-1")
    _, expired = feedback_token_create(project_id=project.id, interaction_external_id="chat-2")
    FeedbackToken.objects.filter(interaction__external_id="chat-2").update(expires_at=timezone.now())
    _, used = feedback_token_create(project_id=project.id, interaction_external_id="chat-3")
    FeedbackToken.objects.filter(interaction__external_id="chat-3").update(uses=1)
    base = f"{live_server.url}/api/v1/feedback/tokens"
    (directory / "chat.html").write_text(
        f"""<!doctype html><html><body>
        <p>Refunds take 30 days.</p><div id="fresh" data-goldloop-url="{base}/{fresh}"></div>
        <div id="expired" data-goldloop-url="{base}/{expired}"></div>
        <div id="used" data-goldloop-url="{base}/{used}"></div>
        <script src="{live_server.url}/api/v1/feedback/thumbs.js"></script></body></html>"""
    )
    browser.get(f"{origin}/chat.html")
    wait = WebDriverWait(browser, 15)

    def click(element_id: str, value: str) -> str:
        browser.find_element(By.CSS_SELECTOR, f"#{element_id} button[data-value={value}]").click()
        element = browser.find_element(By.ID, element_id)
        wait.until(lambda _: element.get_attribute("data-goldloop-state") not in ("ready", "sending"))
        return element.get_attribute("data-goldloop-state")

    assert click("fresh", "down") == "sent"
    assert browser.find_element(By.CSS_SELECTOR, "#fresh .goldloop-status").text == "Thanks for the feedback."
    feedback = Feedback.objects.get()
    assert (feedback.interaction.external_id, feedback.name, feedback.value_number) == ("chat-1", "thumbs", 0.0)
    assert click("expired", "up") == "error:410"
    assert click("used", "up") == "error:409"
    assert "already sent" in browser.find_element(By.CSS_SELECTOR, "#used .goldloop-status").text.lower()
    assert Feedback.objects.count() == 1


def test_the_openapi_schema_describes_the_connect_endpoints(client):
    import yaml

    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    scores = paths["/api/public/scores"]["post"]
    assert {"200", "202", "207"} <= set(scores["responses"])
    assert {"ApiKeyAsBasicPassword": []} in scores["security"]
    assert "207" in paths["/api/public/ingestion"]["post"]["responses"]
    assert "application/x-protobuf" in paths["/v1/traces"]["post"]["requestBody"]["content"]
    assert "application/x-protobuf" in paths["/api/public/otel/v1/traces"]["post"]["requestBody"]["content"]
    assert "201" in paths["/api/v1/feedback/tokens"]["post"]["responses"]
    use_token = paths["/api/v1/feedback/tokens/{token}"]["post"]
    assert {"201", "404", "409", "410", "429"} <= set(use_token["responses"])
    assert use_token.get("security") in ([], [{}], None)


@pytest.mark.django_db
def test_the_admin_lists_tokens_and_pending_scores_read_only(
    client, django_user_model, project, interaction, django_assert_max_num_queries
):
    from feedback.services.connect_scores import scores_ingest

    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    for n in range(3):
        feedback_token_create(project_id=project.id, interaction_external_id="chat-8812")
        scores_ingest(project_id=project.id, scores=[{"id": f"s{n}", "traceId": f"t{n}", "name": "q", "value": 1}])
    for url in ("/admin/feedback/feedbacktoken/", "/admin/feedback/pendingscore/"):
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200
        assert client.get(url + "add/").status_code == 403
    assert "s2" in client.get("/admin/feedback/pendingscore/").content.decode()
    token = FeedbackToken.objects.first()
    assert token.token_hash not in client.get(f"/admin/feedback/feedbacktoken/{token.pk}/change/").content.decode()
