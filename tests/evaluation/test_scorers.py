import pytest

from evaluation.scorers import Item, ScorerConfigError, scorer_build, scorer_kinds


def score(config: dict, pairs: list[tuple]) -> list[tuple]:
    scorer = scorer_build(config)
    items = [Item(f"ex-{i}", "q", expected, output) for i, (output, expected) in enumerate(pairs)]
    return [(r.score, r.passed) for r in scorer.score_batch(items)]


def test_every_kind_is_registered_from_its_own_module():
    assert scorer_kinds() == ["contains", "exact", "json_schema", "json_valid", "judge", "numeric", "regex", "semantic"]


def test_exact_with_normalisation_options():
    pairs = [("Refunds take 14 days.", "Refunds take 14 days."), ("refunds  take 14 days", "Refunds take 14 days.")]
    assert score({"kind": "exact"}, pairs) == [(1.0, True), (0.0, False)]
    loose = {"kind": "exact", "ignore_case": True, "strip_punctuation": True}
    assert score(loose, pairs) == [(1.0, True), (1.0, True)]
    chat = [{"role": "assistant", "content": "Yes."}]
    assert score({"kind": "exact"}, [("Yes.", chat)]) == [(1.0, True)]


def test_contains_regex_json_and_numeric():
    assert score({"kind": "contains"}, [("It takes 14 days, sorry", "14 DAYS")]) == [(1.0, True)]
    assert score({"kind": "contains", "value": "refund"}, [("no", "x")]) == [(0.0, False)]
    assert score({"kind": "regex", "pattern": r"\d+ days"}, [("in 14 days", ""), ("soon", "")]) == [
        (1.0, True),
        (0.0, False),
    ]
    assert score({"kind": "json_valid"}, [('{"a": 1}', ""), ({"a": 1}, ""), ("{a:", "")]) == [
        (1.0, True),
        (1.0, True),
        (0.0, False),
    ]
    schema = {"type": "object", "required": ["days"], "properties": {"days": {"type": "integer"}}}
    checked = scorer_build({"kind": "json_schema", "schema": schema}).score_batch(
        [Item("a", "", "", {"days": 14}), Item("b", "", "", '{"days": "x"}')]
    )
    assert [r.passed for r in checked] == [True, False] and "days" in checked[1].error
    assert score({"kind": "numeric", "tolerance": 0.5}, [("14.4", 14), ("1,200", "1200"), ("15", 14)]) == [
        (1.0, True),
        (1.0, True),
        (0.0, False),
    ]


@pytest.mark.parametrize(
    "config",
    [
        {"kind": "regex"},
        {"kind": "regex", "pattern": "("},
        {"kind": "exact", "ignore_case": "yes"},
        {"kind": "exact", "nope": 1},
        {"kind": "json_schema", "schema": {"type": "nonsense"}},
        {"kind": "semantic", "threshold": 3},
        {"kind": "judge", "url": "ftp://x"},
        {"kind": "exact", "name": "a.b"},
    ],
)
def test_bad_configs_are_refused_before_any_work(config):
    with pytest.raises(ScorerConfigError):
        scorer_build(config)


def test_semantic_scores_paraphrases_above_unrelated_text():
    scorer = scorer_build({"kind": "semantic", "threshold": 0.7})
    results = scorer.score_batch(
        [
            Item("a", "", "Refunds take 14 days.", "Refunds take 14 days."),
            Item("b", "", "Refunds take 14 days.", "A refund takes fourteen days."),
            Item("c", "", "Refunds take 14 days.", "The weather in Paris is sunny."),
        ]
    )
    assert results[0].score == pytest.approx(1.0, abs=1e-4)
    assert results[0].score > results[1].score > results[2].score
    assert [r.passed for r in results] == [True, True, False]
