import pytest

from evaluation.models import Run, RunScore
from evaluation.services.scoring import run_score_inline
from tests.evaluation.helpers import golden, outputs

pytestmark = pytest.mark.django_db


def create(api, body=None, ref="prod", name="support-answers"):
    return api.post(f"/api/v1/datasets/{name}/versions/{ref}/runs", body or {}, format="json")


def finish(api, run_id: str) -> dict:
    assert api.post(f"/api/v1/runs/{run_id}/complete").status_code == 202
    run_score_inline(run_id=int(run_id))
    return api.get(f"/api/v1/runs/{run_id}").json()


def test_a_run_pins_its_version_and_scores_its_outputs(api, project):
    _, version = golden(project, 10)
    response = create(api, {"name": "v4", "model": "gpt", "scorers": [{"kind": "exact"}, {"kind": "contains"}]})
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["version"] == {"number": 1, "sha256": version.sha256, "ref": "prod"}
    assert run["status"] == "collecting" and "judge_secret" not in run
    answer = api.post(
        f"/api/v1/runs/{run['id']}/outputs", {"outputs": outputs(10, wrong={3}, missing={9})}, format="json"
    )
    assert answer.status_code == 207
    assert [r["status"] for r in answer.json()["outputs"]] == [201] * 9
    body = finish(api, run["id"])
    assert body["status"] == "succeeded" and body["progress"] == 1.0
    exact = body["scorers"]["exact"]
    assert (exact["n"], exact["passed"], exact["pass_rate"]) == (10, 8, 0.8)
    assert exact["ci95"][0] < 0.8 < exact["ci95"][1]
    assert body["counts"] == {"examples": 10, "outputs": 9, "missing": 1}
    assert body["verdict"]["result"] == "pass"
    missing = RunScore.objects.get(run_id=run["id"], example__stable_id="ex-9", scorer="contains")
    assert not missing.passed and "No output" in missing.error


def test_outputs_are_idempotent_per_example_with_per_item_errors(api, project):
    golden(project, 5)
    run_id = create(api, {"split": ""}).json()["id"]
    url = f"/api/v1/runs/{run_id}/outputs"
    first = api.post(url, {"outputs": outputs(2)}, format="json").json()["outputs"]
    assert [r["status"] for r in first] == [201, 201]
    batch = [
        {"example_id": "ex-0", "output": "answer 0", "latency_ms": 100},  # the same again
        {"example_id": "ex-1", "output": "something else"},  # different again
        {"example_id": "nope", "output": "x"},
        {"example_id": "ex-2"},
        "not an object",
        {"example_id": "ex-3", "output": "a"},
        {"example_id": "ex-3", "output": "a"},
        {"example_id": "ex-3", "output": "b"},
    ]
    results = api.post(url, {"outputs": batch}, format="json").json()["outputs"]
    assert [r["status"] for r in results] == [200, 409, 404, 400, 400, 201, 200, 409]
    assert results[1]["error"]["code"] == "conflict"
    assert results[2]["error"]["code"] == "example_not_found" and results[2]["example_id"] == "nope"
    assert results[3]["error"]["fields"] == {"output": ["Required: the candidate's output, a string or JSON."]}
    assert api.post(url, {"outputs": "x"}, format="json").status_code == 400
    api.post(f"/api/v1/runs/{run_id}/complete")
    closed = api.post(url, {"outputs": outputs(1)}, format="json")
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "run_not_collecting"


def test_a_split_run_refuses_examples_of_other_splits(api, project):
    _, version = golden(project, 30)
    run_id = create(api, {"split": "test"}).json()["id"]
    results = api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": outputs(30)}, format="json").json()["outputs"]
    in_test = version.examples.filter(split="test").count()
    assert sum(r["status"] == 201 for r in results) == in_test
    assert {r["error"]["code"] for r in results if r["status"] == 404} == {"example_not_in_split"}
    assert finish(api, run_id)["counts"]["examples"] == in_test


def test_a_worse_candidate_fails_its_gates_against_the_baseline(api, project):
    golden(project, 20)
    base_id = create(api).json()["id"]
    api.post(f"/api/v1/runs/{base_id}/outputs", {"outputs": outputs(20, wrong={0})}, format="json")
    finish(api, base_id)
    tag = api.put("/api/v1/datasets/support-answers/baselines/prod", {"run": base_id}, format="json")
    assert tag.status_code == 200 and tag.json() == {"tag": "prod", "run": base_id}
    gates = [{"scorer": "exact", "max_drop": 0.05}, {"max_regressions": 1}, {"scorer": "exact", "min_pass_rate": 0.5}]
    run_id = create(api, {"baseline": "prod", "gates": gates}).json()["id"]
    api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": outputs(20, wrong={3, 4, 5})}, format="json")
    body = finish(api, run_id)
    comparison = body["scorers"]["exact"]["baseline"]
    assert comparison["run"] == base_id
    assert (comparison["regressions"], comparison["improvements"]) == (3, 1)
    assert comparison["delta"] == pytest.approx(-0.1)
    assert 0 < comparison["p_value"] <= 1
    assert body["regressions"] == 3
    assert body["verdict"]["result"] == "fail"
    assert body["verdict"]["reasons"] == [
        "exact.drop <= 0.05 failed: drop against the baseline is 0.1.",
        "regressions <= 1 failed: regressed examples is 3.",
    ]
    regressed = api.get(f"/api/v1/runs/{run_id}/results?filter=regressed&limit=2").json()
    assert [r["example_id"] for r in regressed["results"]] == ["ex-3", "ex-4"]
    assert regressed["results"][0]["baseline"]["exact"]["passed"] is True
    rest = api.get(regressed["next"]).json()
    assert [r["example_id"] for r in rest["results"]] == ["ex-5"] and rest["next"] is None
    improved = api.get(f"/api/v1/runs/{run_id}/results?filter=improved").json()["results"]
    assert [r["example_id"] for r in improved] == ["ex-0"]
    runs = api.get("/api/v1/datasets/support-answers/runs").json()["results"]
    assert [r["id"] for r in runs] == [run_id, base_id] and runs[1]["baseline_tags"] == ["prod"]


def test_a_run_pinned_to_a_tag_keeps_its_version_when_the_tag_moves(api, project):
    from examples_lib.services.examples import examples_add
    from examples_lib.services.versions import version_create

    dataset, first = golden(project, 5)
    run_id = create(api, ref="prod").json()["id"]
    examples_add(dataset=dataset, examples=[{"id": "ex-new", "input": "q", "expected_output": "a"}])
    second = version_create(dataset=dataset, tag="prod")
    assert second.number == 2
    api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": outputs(5)}, format="json")
    new = api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": [{"example_id": "ex-new", "output": "a"}]},
                   format="json")  # fmt: skip
    assert new.json()["outputs"][0]["status"] == 404
    body = finish(api, run_id)
    assert body["version"]["number"] == 1 and body["version"]["sha256"] == first.sha256
    assert body["counts"]["examples"] == 5 and body["scorers"]["exact"]["pass_rate"] == 1.0
    assert create(api, ref="prod").json()["version"]["number"] == 2


def test_invalid_runs_and_foreign_keys_get_the_error_shape(api, project, make_client):
    from tests.factories import ProjectFactory

    golden(project, 3)
    bad = create(api, {"scorers": [{"kind": "nope"}, {"kind": "regex", "pattern": "("}], "gates": [{"max_drop": 2}]})
    assert bad.status_code == 400
    fields = bad.json()["error"]["fields"]
    assert set(fields) == {"scorers[0]", "scorers[1]", "gates[0]"}
    assert create(api, {"baseline": "prod"}).json()["error"]["code"] == "baseline_not_found"
    assert create(api, ref="7").status_code == 404
    run_id = create(api).json()["id"]
    other = make_client(ProjectFactory(slug="other"))
    assert other.get(f"/api/v1/runs/{run_id}").status_code == 404
    reader = make_client(project, scopes=["read"])
    assert reader.post(f"/api/v1/runs/{run_id}/complete").status_code == 403
    assert api.put("/api/v1/datasets/support-answers/baselines/prod", {"run": run_id}, format="json").status_code == 409
    assert Run.objects.count() == 1


def test_a_baseline_on_another_version_is_compared_on_the_examples_both_hold(api, project):
    from examples_lib.services.examples import examples_add
    from examples_lib.services.versions import version_create

    dataset, _ = golden(project, 6)
    base_id = create(api, ref="1").json()["id"]
    api.post(f"/api/v1/runs/{base_id}/outputs", {"outputs": outputs(6)}, format="json")
    finish(api, base_id)
    examples_add(dataset=dataset, examples=[{"id": "ex-new", "input": "q", "expected_output": "a"}])
    version_create(dataset=dataset)
    run_id = create(api, {"baseline": base_id, "gates": [{"max_regressions": 0}]}, ref="2").json()["id"]
    batch = [*outputs(6, wrong={2}), {"example_id": "ex-new", "output": "a"}]
    api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": batch}, format="json")
    body = finish(api, run_id)
    exact = body["scorers"]["exact"]
    assert exact["n"] == 7 and exact["baseline"]["n"] == 6
    assert (exact["baseline"]["regressions"], body["regressions"]) == (1, 1)
    assert exact["baseline"]["delta"] == pytest.approx(-1 / 6, abs=1e-6)
    assert body["verdict"]["result"] == "fail"
    rows = api.get(f"/api/v1/runs/{run_id}/results?filter=regressed").json()["results"]
    assert [r["example_id"] for r in rows] == ["ex-2"]


def test_lists_read_in_constant_queries(api, project, django_assert_max_num_queries):
    golden(project, 30)
    ids = []
    for _ in range(3):
        run_id = create(api, {"baseline": ids[0]} if ids else {}).json()["id"]
        api.post(f"/api/v1/runs/{run_id}/outputs", {"outputs": outputs(30, wrong={len(ids)})}, format="json")
        finish(api, run_id)
        ids.append(run_id)
    with django_assert_max_num_queries(6):
        runs = api.get("/api/v1/datasets/support-answers/runs?limit=2").json()
    assert len(runs["results"]) == 2 and runs["next"]
    with django_assert_max_num_queries(6):
        page = api.get(f"/api/v1/runs/{ids[2]}/results?limit=25").json()
    assert len(page["results"]) == 25 and page["results"][2]["regressed"] == ["exact"]


def test_a_run_without_scorers_takes_its_baselines(api, project):
    golden(project, 4)
    scorers = [{"kind": "contains", "value": "answer"}, {"kind": "regex", "pattern": r"\d"}]
    base_id = create(api, {"scorers": scorers}).json()["id"]
    api.post(f"/api/v1/runs/{base_id}/outputs", {"outputs": outputs(4)}, format="json")
    finish(api, base_id)
    run = create(api, {"baseline": base_id}).json()
    assert [c["name"] for c in run["scorer_configs"]] == ["contains", "regex"]
    assert [c["kind"] for c in create(api).json()["scorer_configs"]] == ["exact"]


def test_a_scorer_that_raises_fails_the_run_with_the_reason(api, project, monkeypatch):
    from evaluation.scorers.exact import ExactScorer
    from evaluation.tasks import score_run_chunk

    golden(project, 3)
    run_id = create(api).json()["id"]
    api.post(f"/api/v1/runs/{run_id}/complete")

    def broken(self, items):
        raise RuntimeError("model server gone")

    monkeypatch.setattr(ExactScorer, "score_batch", broken)
    with pytest.raises(RuntimeError):
        score_run_chunk(int(run_id), 0)
    body = api.get(f"/api/v1/runs/{run_id}").json()
    assert body["status"] == "failed" and body["error"] == "Scoring chunk 0 failed: model server gone"
    assert body["progress"] == 1.0
