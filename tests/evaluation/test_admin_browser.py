import pytest
from django.contrib.auth.models import Group
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from evaluation.models import BaselineTag, Run
from evaluation.services.outputs import outputs_add
from evaluation.services.runs import run_create
from evaluation.services.scoring import run_score_inline
from tests.evaluation.helpers import golden, outputs


@pytest.mark.browser
def test_an_ml_engineer_compares_a_run_with_its_baseline_and_tags_it(
    transactional_db, browser, admin_login, live_server, screenshot, django_user_model, project
):
    user = django_user_model.objects.create_user("ml-eng", password="pw-12345", is_staff=True)
    user.groups.add(Group.objects.get(name="ML engineer"))
    dataset, _ = golden(project, 8)
    runs = []
    for wrong in ({0}, {5, 6}):
        options = {"baseline": str(runs[0].pk), "gates": [{"max_regressions": 0}]} if runs else {}
        run = run_create(dataset=dataset, ref="prod", name=f"candidate {len(runs)}", feed_regressions=False, **options)
        outputs_add(run=run, items=outputs(8, wrong=wrong))
        runs.append(run_score_inline(run_id=run.pk))
    admin_login("ml-eng", "pw-12345")

    browser.get(f"{live_server.url}/admin/evaluation/run/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.pass-rate-chart polyline")) == 1
    screenshot("evaluation-runs")
    browser.find_element(By.LINK_TEXT, str(runs[1])).click()
    assert "regressions <= 0 failed" in browser.find_element(By.ID, "run-summary").text
    rows = browser.find_elements(By.CSS_SELECTOR, "#run-examples tbody tr")
    assert [row.find_element(By.TAG_NAME, "td").text.split()[0] for row in rows[:3]] == ["ex-5", "ex-6", "ex-0"]
    browser.find_element(By.LINK_TEXT, "regressed").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#run-examples tbody tr.regressed")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#run-examples tbody tr")) == 2
    screenshot("evaluation-run-vs-baseline")

    browser.get(f"{live_server.url}/admin/evaluation/run/")
    browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{runs[0].pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("tag_as_baseline")
    browser.find_element(By.NAME, "tag").clear()
    browser.find_element(By.NAME, "tag").send_keys("prod")
    browser.find_element(By.NAME, "index").click()
    assert "is now the 'prod' baseline" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    assert BaselineTag.objects.get(tag="prod").run_id == runs[0].pk
    assert Run.objects.count() == 2
