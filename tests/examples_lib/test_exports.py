import csv
import hashlib
import io
import json
import os

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from examples_lib.canonical import split_for
from examples_lib.exports import export_stream
from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_add, examples_promote
from examples_lib.services.versions import version_create

pytestmark = pytest.mark.django_db
RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}
CHAT = [{"role": "user", "content": "Can I get a refund?"}]


def export(version, fmt, split=None) -> bytes:
    return b"".join(export_stream(version_id=version.pk, fmt=fmt, split=split))


@pytest.fixture
def mixed(project, reviewed):
    """A version with a corrected chat interaction, a correct one, and direct examples of other input shapes."""
    dataset = dataset_create(project=project, name="refund-answers")
    corrected = reviewed(
        "corrected",
        correction="Refunds take 14 days.",
        input=CHAT,
        output="Refunds take 30 days.",
        external_id="chat-1",
    )
    correct = reviewed("correct", input="Opening hours?", output="9 to 5.", external_id="chat-2")
    examples_promote(dataset=dataset, external_ids=[corrected.external_id, correct.external_id])
    examples_add(
        dataset=dataset,
        examples=[
            {
                "id": "ex-1",
                "input": {"messages": CHAT, "tools": []},
                "expected_output": {"days": 14},
                "metadata": {"locale": "en"},
            },
        ],
    )
    return version_create(dataset=dataset)


def test_jsonl_lines_are_the_canonical_rows(mixed):
    lines = export(mixed, "jsonl").decode().splitlines()
    assert len(lines) == 3
    assert lines[2] == (
        f'{{"id": "ex-1", "split": "{split_for("ex-1", RATIOS)}", '
        '"input": {"tools": [], "messages": [{"role": "user", "content": "Can I get a refund?"}]}, '
        '"expected_output": {"days": 14}, "metadata": {"locale": "en"}, "lineage": {"source": "api"}}'
    )
    first = json.loads(lines[0])
    assert list(first) == ["id", "split", "input", "expected_output", "metadata", "lineage"]
    assert (first["input"], first["expected_output"]) == (CHAT, "Refunds take 14 days.")
    assert first["lineage"]["interaction_id"] == "chat-1"


def test_openai_chat_lines(mixed):
    lines = export(mixed, "openai-chat").decode().splitlines()
    assert lines == [
        '{"messages": [{"role": "user", "content": "Can I get a refund?"}, '
        '{"role": "assistant", "content": "Refunds take 14 days."}]}',
        '{"messages": [{"role": "user", "content": "Opening hours?"}, {"role": "assistant", "content": "9 to 5."}]}',
        '{"messages": [{"role": "user", "content": "Can I get a refund?"}, '
        '{"role": "assistant", "content": "{\\"days\\": 14}"}]}',
    ]


def test_openai_dpo_lines_hold_corrected_examples_only(mixed):
    lines = export(mixed, "openai-dpo").decode().splitlines()
    assert lines == [
        '{"input": {"messages": [{"role": "user", "content": "Can I get a refund?"}]}, '
        '"preferred_output": [{"role": "assistant", "content": "Refunds take 14 days."}], '
        '"non_preferred_output": [{"role": "assistant", "content": "Refunds take 30 days."}]}'
    ]


def test_csv_rows_hold_json_encoded_cells(mixed):
    text = export(mixed, "csv").decode()
    assert text.splitlines()[0] == "id,split,input,expected_output,metadata,lineage"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["id"] for row in rows][2] == "ex-1"
    assert json.loads(rows[1]["input"]) == "Opening hours?"
    assert json.loads(rows[2]["expected_output"]) == {"days": 14}
    assert json.loads(rows[0]["lineage"])["verdict"] == "corrected"
    assert text.splitlines()[3] == (
        f'"ex-1","{split_for("ex-1", RATIOS)}","{{""tools"": [], ""messages"": [{{""role"": ""user"", '
        '""content"": ""Can I get a refund?""}]}","{""days"": 14}","{""locale"": ""en""}","{""source"": ""api""}"'
    )


def test_parquet_has_the_same_rows_in_the_same_order(mixed, tmp_path):
    path = tmp_path / "v1.parquet"
    path.write_bytes(export(mixed, "parquet"))
    table = pq.read_table(path)
    assert table.column_names == ["id", "split", "input", "expected_output", "metadata", "lineage"]
    jsonl = [json.loads(line) for line in export(mixed, "jsonl").decode().splitlines()]
    assert table.column("id").to_pylist() == [row["id"] for row in jsonl]
    assert [json.loads(v) for v in table.column("expected_output").to_pylist()] == [r["expected_output"] for r in jsonl]


def test_the_hash_is_the_sha256_of_the_jsonl_export_and_stable(mixed):
    first, second = export(mixed, "jsonl"), export(mixed, "jsonl")
    assert first == second
    assert hashlib.sha256(first).hexdigest() == mixed.sha256
    # Freezing the same draft into another dataset gives the same bytes: the hash is a function of content only.
    mixed.refresh_from_db()
    assert hashlib.sha256(export(mixed, "jsonl")).hexdigest() == mixed.sha256


def test_split_filter_keeps_order_and_only_that_split(project):
    dataset = dataset_create(project=project, name="many")
    examples_add(
        dataset=dataset, examples=[{"id": f"e{i}", "input": f"q{i}", "expected_output": "a"} for i in range(60)]
    )
    version = version_create(dataset=dataset)
    for split in ("train", "validation", "test"):
        rows = [json.loads(line) for line in export(version, "jsonl", split).decode().splitlines()]
        assert len(rows) == version.counts[split]
        assert {row["split"] for row in rows} <= {split}
        assert [row["id"] for row in rows] == [f"e{i}" for i in range(60) if split_for(f"e{i}", RATIOS) == split]


@pytest.fixture
def chat_version(project, reviewed):
    dataset = dataset_create(project=project, name="chat-set")
    ids = [
        reviewed(
            "corrected", correction=f"Answer {i}.", input=[{"role": "user", "content": f"Question {i}?"}]
        ).external_id
        for i in range(12)
    ]
    examples_promote(dataset=dataset, external_ids=ids)
    return version_create(dataset=dataset)


def test_huggingface_datasets_and_pandas_load_the_exports(chat_version, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets
    import pandas as pd

    files = {}
    for fmt, name in (("jsonl", "v.jsonl"), ("parquet", "v.parquet"), ("openai-chat", "chat.jsonl"), ("csv", "v.csv")):
        files[fmt] = tmp_path / name
        files[fmt].write_bytes(export(chat_version, fmt))
    cache = str(tmp_path / "cache")

    from_jsonl = datasets.load_dataset("json", data_files=str(files["jsonl"]), split="train", cache_dir=cache)
    assert from_jsonl.num_rows == 12
    assert from_jsonl[0]["input"] == [{"role": "user", "content": "Question 0?"}]
    assert from_jsonl[0]["expected_output"] == "Answer 0."
    assert from_jsonl[0]["lineage"]["verdict"] == "corrected"

    from_parquet = datasets.load_dataset("parquet", data_files=str(files["parquet"]), split="train", cache_dir=cache)
    assert from_parquet.column_names == ["id", "split", "input", "expected_output", "metadata", "lineage"]
    assert from_parquet["id"] == from_jsonl["id"]

    chat = datasets.load_dataset("json", data_files=str(files["openai-chat"]), split="train", cache_dir=cache)
    assert chat[3]["messages"][-1] == {"role": "assistant", "content": "Answer 3."}

    frame = pd.read_json(files["jsonl"], lines=True)
    assert list(frame["id"]) == from_jsonl["id"] and frame.shape == (12, 6)
    assert list(pd.read_parquet(files["parquet"])["id"]) == from_jsonl["id"]
    assert list(pd.read_csv(files["csv"])["id"]) == from_jsonl["id"]
    assert os.environ["HF_DATASETS_OFFLINE"] == "1"


def _command(tmp_path, version, *extra) -> tuple[str, io.StringIO]:
    output = tmp_path / "out.jsonl"
    stderr = io.StringIO()
    call_command(
        "export_dataset",
        version.dataset.name,
        "--project",
        version.dataset.project.slug,
        "--version",
        str(version.number),
        "--output",
        str(output),
        *extra,
        stderr=stderr,
    )
    return output, stderr


def test_export_dataset_writes_the_file_and_verifies_the_hash(mixed, tmp_path, capsys):
    output, stderr = _command(tmp_path, mixed, "--format", "jsonl")
    assert hashlib.sha256(output.read_bytes()).hexdigest() == mixed.sha256
    assert "verified" in stderr.getvalue()
    assert "3/3" in capsys.readouterr().err  # the tqdm progress bar
    output, _ = _command(tmp_path, mixed, "--format", "parquet", "--split", "train")
    assert pq.read_table(output).num_rows == mixed.counts["train"]


def test_export_dataset_fails_when_the_rows_do_not_match_the_manifest(mixed, tmp_path):
    with connection.cursor() as cursor:  # only a superuser bypassing the trigger could do this; the test is one
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off, for this transaction
        cursor.execute("UPDATE examples_lib_versionexample SET expected_output = '\"tampered\"' WHERE ordinal = 2")
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(CommandError, match="Hash mismatch"):
        _command(tmp_path, mixed, "--format", "jsonl")


def test_export_dataset_names_unknown_things(mixed, tmp_path):
    with pytest.raises(CommandError, match="no version '9'"):
        call_command(
            "export_dataset",
            "refund-answers",
            "--project",
            "support-bot",
            "--version",
            "9",
            "--output",
            str(tmp_path / "x"),
        )
    with pytest.raises(CommandError, match="No project"):
        call_command("export_dataset", "refund-answers", "--project", "nope", "--output", str(tmp_path / "x"))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_start_with_a_quote(project, start):
    dataset = dataset_create(project=project, name="formulas")
    formula = f'{start}HYPERLINK("http://x")'
    examples_add(
        dataset=dataset,
        examples=[
            {"id": formula, "input": -1, "expected_output": formula, "metadata": {}},
            {"id": "plain", "input": "q", "expected_output": 2},
        ],
    )
    version = version_create(dataset=dataset, created_by_name="test")
    rows = list(csv.DictReader(io.StringIO(export(version, "csv").decode())))
    by_id = {row["id"].lstrip("'"): row for row in rows}
    assert by_id[formula]["id"] == "'" + formula
    assert by_id[formula]["input"] == "'-1"
    assert json.loads(by_id[formula]["expected_output"]) == formula  # a JSON string starts with '"' already
    assert by_id["plain"]["id"] == "plain" and by_id["plain"]["expected_output"] == "2"
    assert all(not cell.startswith(tuple("=+-@\t\r")) for row in rows for cell in row.values())
