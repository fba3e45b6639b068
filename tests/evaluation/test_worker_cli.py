"""End to end on a real Celery worker, driven by the `goldloop` command in-process against a live server."""

import json
from xml.etree import ElementTree as ET

import pytest
from django.test import override_settings
from goldloop import Client
from goldloop.cli import main

from evaluation.models import Run
from feedback.models import Interaction
from feedback.services.api_keys import api_key_create
from tests.evaluation.helpers import golden, outputs

pytestmark = pytest.mark.usefixtures("transactional_db")

N = 12


def write(path, rows) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


@override_settings(EVALUATION_CHUNK_SIZE=5)  # 12 examples: three chunk tasks per run
def test_the_cli_gates_a_candidate_on_a_worker(celery_worker, live_server, project, tmp_path, capsys):
    golden(project, N, tag="prod")
    _, key = api_key_create(project=project, scopes=["ingest", "read", "curate"])
    common = ["--url", live_server.url, "--key", key, "eval", "run", "--dataset", "support-answers@prod"]
    scorers = ["--scorer", "exact", "--scorer", "semantic:0.9", "--poll", "0.2", "--timeout", "240"]

    # The baseline: no gates, nothing to compare with; it passes.
    assert main([*common, "--outputs", write(tmp_path / "base.jsonl", outputs(N)), *scorers]) == 0
    baseline = Run.objects.get()
    assert baseline.status == "succeeded" and len(baseline.chunks_done) == 3
    assert baseline.summary["scorers"]["semantic"]["pass_rate"] == 1.0
    Client(live_server.url, key).set_baseline("support-answers", "prod", str(baseline.pk))
    capsys.readouterr()

    gates = ["--baseline", "prod", "--gate", "exact.drop<=0.1", "--gate", "regressions<=1"]
    worse = write(tmp_path / "worse.jsonl", outputs(N, wrong={3, 7}))
    junit = tmp_path / "eval.xml"
    assert main([*common, "--outputs", worse, *scorers, *gates, "--junit", str(junit)]) == 1
    printed = capsys.readouterr().out
    assert "Regressed examples (2):\n  ex-3  (exact, semantic)\n  ex-7  (exact, semantic)" in printed
    assert "Verdict: FAIL" in printed and "regressions <= 1 failed: regressed examples is 2." in printed
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "4"  # both gates (a drop of 2/12 > 0.1; 2 regressions > 1), both examples
    assert {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None} >= {
        "ex-3",
        "ex-7",
    }
    assert Interaction.objects.filter(project=project, is_failure=True).count() == 2

    equal = write(tmp_path / "equal.jsonl", outputs(N))
    assert main([*common, "--outputs", equal, *scorers, *gates, "--no-feed-regressions"]) == 0
    assert "Verdict: PASS" in capsys.readouterr().out


def test_usage_and_connection_errors_exit_2(tmp_path, capsys):
    rows = write(tmp_path / "o.jsonl", outputs(2))
    base = ["--url", "http://127.0.0.1:9", "--key", "k", "eval", "run", "--outputs", rows]
    assert main([*base, "--dataset", "d@1", "--gate", "exact.pass_rate<=2"]) == 2
    assert "Cannot read the gate" in capsys.readouterr().err
    assert main([*base, "--dataset", "d@1"]) == 2
    assert "Cannot reach http://127.0.0.1:9" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["eval", "run"])
    assert usage.value.code == 2
