"""The hostile-input suite: every generated file through `ranklens check` and through the app's uploader code
path, with the same exact outcome from both."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from streamlit.proto.Common_pb2 import FileURLs
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec
from test_corpus import never_opened

from conftest import ROOT
from hostile import CASES, Case
from ranklens.cli import main
from ranklens.corpus.corpus import CorpusError
from ranklens.corpus.readers import MAX_FILES, MAX_TOTAL_BYTES, load_uploads
from ranklens.corpus.textclean import clean_name


def upload(name: str, data: bytes) -> UploadedFile:
    """What st.file_uploader hands the app."""
    return UploadedFile(UploadedFileRec(f"id-{name}", name, "application/octet-stream", data), FileURLs())


def check(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["check", *args])
    return code, out.getvalue(), err.getvalue()


def test_fixtures_the_hostile_cases_cover_every_class_with_enough_files():
    """A check of this suite's own fixtures (tests/hostile.py), not of RankLens: the cases below are many enough."""
    assert len(CASES) >= 45
    assert len({case.id for case in CASES}) == len(CASES)
    assert (
        sum(case.refused is not None for case in CASES) >= 25
        and sum(case.documents is not None for case in CASES) >= 15
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_check_and_the_uploader_give_the_same_exact_outcome(case: Case, tmp_path):
    path = tmp_path / clean_name(case.name)
    path.write_bytes(case.data)
    code, out, err = check("--corpus", str(path), "--json")
    err, out = err.replace(f"{tmp_path}{os.sep}", ""), out.replace(f"{tmp_path}{os.sep}", "")  # the file's own name
    try:
        uploaded = load_uploads([upload(case.name, case.data)])
        refusal = None
    except CorpusError as error:
        uploaded, refusal = None, str(error)
    if case.refused is not None:
        assert code == 2 and out == "", out
        assert err == f"error: {refusal}\n", "the same refusal, word for word, from the command and the uploader"
        assert case.refused in refusal and "\n" not in refusal and "Traceback" not in err
        return
    assert code == 0 and refusal is None, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["documents"] == case.documents == len(uploaded)
    assert summary["warnings"] == uploaded.warnings, "the same warnings from the command and the uploader"
    for expected in case.warnings:
        assert any(expected in w for w in uploaded.warnings), uploaded.warnings
    if not case.warnings:
        assert [w for w in summary["warnings"] if "no header" not in w] == [], summary["warnings"]
    if case.holds is not None:
        assert case.holds(uploaded), "the uploaded corpus does not hold what it must"
    assert "\x1b" not in out, "no control character reaches the terminal"


def test_sizes_are_refused_from_what_the_upload_says_before_reading():
    big = upload("big.jsonl", b'{"_id": "1", "text": "x"}\n')
    big.size = MAX_TOTAL_BYTES + 1  # what the browser reported; nothing that large is read or held
    with pytest.raises(CorpusError, match=r"more than the limit of 200 MiB"):
        load_uploads([big])
    many = [upload(f"f{i}.txt", b"text") for i in range(MAX_FILES + 1)]
    with pytest.raises(CorpusError, match=rf"{MAX_FILES + 1} files is more than the limit of {MAX_FILES}"):
        load_uploads(many)


def test_a_huge_file_on_disk_is_refused_before_it_is_read(tmp_path, monkeypatch):
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as handle:  # sparse: costs no disk, and would cost the memory if it were read
        handle.truncate(MAX_TOTAL_BYTES + 1)
    never_opened(monkeypatch, huge)
    code, _, err = check("--corpus", str(huge))
    assert code == 2 and "more than the limit of 200 MiB" in err


def test_beir_folders_are_validated_as_a_whole(tmp_path):
    def folder(name: str, corpus: bytes, queries: bytes | None, qrels: str | None):
        root = tmp_path / name
        (root / "qrels").mkdir(parents=True)
        (root / "corpus.jsonl").write_bytes(corpus)
        if queries is not None:
            (root / "queries.jsonl").write_bytes(queries)
        if qrels is not None:
            (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
        return str(root)

    docs = b'{"_id": "d1", "text": "one"}\n{"_id": "d2", "text": "two"}\n'
    queries = b'{"_id": "q1", "text": "first query"}\n'
    expectations = [
        (folder("noqueries", docs, None, "q1\td1\t1\n"), "has qrels (test.tsv) but no queries.jsonl"),
        (folder("unknowndoc", docs, queries, "q1\td9\t1\n"), "judgements name documents that are not in corpus.jsonl"),
        (folder("unknownquery", docs, queries, "q7\td1\t1\n"), "judged queries are not in queries.jsonl"),
        (folder("fraction", docs, queries, "q1\td1\t1.5\n"), "line 2: score '1.5' is not a whole number"),
        (folder("word", docs, queries, "q1\td1\tvery\n"), "line 2: score 'very' is not a number"),
        (folder("queryid", docs, b'{"text": "no id"}\n', None), "a query needs '_id'"),
    ]
    for path, message in expectations:
        code, _, err = check("--corpus", path)
        assert code == 2 and message in err, (path, err)
    code, out, _ = check("--corpus", folder("good", docs, queries, "q1\td1\t1\n"), "--json")
    assert code == 0 and json.loads(out.splitlines()[-1]) == {"documents": 2, "queries": 1, "qrels": 1, "warnings": []}


def test_the_real_command_refuses_in_one_line_and_prints_json_last(tmp_path):
    """The same outcomes from a fresh process: exit codes, one line on stderr, JSON on the last stdout line."""
    bad, good = tmp_path / "num.jsonl", tmp_path / "ok.jsonl"
    bad.write_text('{"_id": "1", "text": 12345}\n')
    good.write_text('{"_id": "1", "text": "caf\\u00e9 \\u001b[31m"}\n{"text": "no id"}\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    refused = subprocess.run(
        [sys.executable, "-m", "ranklens", "check", "--corpus", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [f"error: {bad}, line 1: 'text' must be a string, got a number"]
    loaded = subprocess.run(
        [sys.executable, "-m", "ranklens", "check", "--corpus", str(good), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    summary = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert summary["documents"] == 2 and len(summary["warnings"]) == 2 and "\x1b" not in loaded.stdout
