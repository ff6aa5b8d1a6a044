import json
from pathlib import Path

import pytest

from conftest import dataset
from pdfmaker import make_pdf
from ranklens.corpus import readers as corpus_module
from ranklens.corpus.beir import load_beir
from ranklens.corpus.corpus import CorpusError
from ranklens.corpus.loading import load_paths
from ranklens.corpus.readers import load_files
from ranklens.corpus.sources import Source
from ranklens.corpus.tables import TableColumns, preview_table


def jsonl(*records) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode()


# ---- formats -------------------------------------------------------------------------------------


def test_text_and_markdown_files_are_one_document_each():
    corpus = load_files([("notes/a.txt", b"first doc"), ("b.md", "# Zweite\n\nTe\u00dft".encode())])
    assert [d.id for d in corpus.documents] == ["a.txt", "b.md"], "uploaded names are reduced to a base name"
    assert corpus.get("b.md").text == "# Zweite\n\nTe\u00dft"
    assert corpus.get("a.txt").title == "a"
    assert corpus.name == "a.txt + 1 more"


def test_csv_with_named_columns():
    data = b'key,heading,body\n7,Snakes,Pythons are constrictors\n8,Code,"Python, the language"\n'
    corpus = load_files([("docs.csv", data)], columns=TableColumns(text="body", id="key", title="heading"))
    assert [(d.id, d.title, d.text) for d in corpus.documents] == [
        ("7", "Snakes", "Pythons are constrictors"),
        ("8", "Code", "Python, the language"),
    ]
    assert preview_table(Source.from_bytes("docs.csv", data)).header == ["key", "heading", "body"]


def test_tsv_without_id_column_gets_content_hash_ids():
    corpus = load_files([("docs.tsv", b"text\nalpha\nbeta\n")])
    ids = [d.id for d in corpus.documents]
    assert len(set(ids)) == 2 and all(i.startswith("h") for i in ids)
    again = load_files([("other.tsv", b"text\nalpha\nbeta\n")])
    assert [d.id for d in again.documents] == ids, "content-hash ids are stable across loads"


def test_jsonl_in_beir_and_plain_form():
    corpus = load_files(
        [
            ("beir.jsonl", jsonl({"_id": "d1", "title": "T", "text": "x"})),
            ("plain.jsonl", jsonl({"id": 2, "text": "y"})),
        ]
    )
    assert [(d.id, d.title, d.full_text) for d in corpus.documents] == [("d1", "T", "T x"), ("2", "", "y")]


def test_utf8_bom_and_utf16_are_decoded():
    corpus = load_files([("bom.txt", "\ufeffcaf\u00e9".encode("utf-8")), ("wide.txt", "na\u00efve".encode("utf-16"))])
    assert [d.text for d in corpus.documents] == ["caf\u00e9", "na\u00efve"]


def test_pdf_is_one_document_per_page():
    pdf = make_pdf(["Reranking with cross encoders", "Dense retrieval with FAISS"])
    per_page = load_files([("paper.pdf", pdf)])
    assert [d.id for d in per_page.documents] == ["paper#p1", "paper#p2"]
    assert "cross encoders" in per_page.documents[0].text
    assert per_page.documents[1].source == "paper.pdf:page 2"


def test_beir_folder_yields_queries_and_qrels():
    adi = load_beir(dataset("adi"))
    assert (len(adi), len(adi.queries), sum(len(v) for v in adi.qrels.values())) == (82, 35, 170)
    assert set(adi.judged_queries()) == set(adi.qrels)


def test_scifact_judged_queries_are_the_test_split_only():
    scifact = load_beir(dataset("scifact"))
    assert len(scifact.queries) > 300 and len(scifact.judged_queries()) == 300


def test_paths_folder_of_files(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("two")
    (tmp_path / "ignored.bin").write_bytes(b"\x00\x01")
    corpus = load_paths([tmp_path])
    assert sorted(d.text for d in corpus.documents) == ["one", "two"]


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "files, message",
    [
        ([("empty.txt", b"")], "empty.txt: the file is empty"),
        ([("blank.csv", b"  \n\n")], "blank.csv: the file is empty"),
        ([("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")], "image.txt: looks like a binary file"),
        ([("latin1.txt", "line one\ncaf\u00e9".encode("latin-1"))], "latin1.txt: not valid UTF-8 (byte 0xe9 at line 2"),
        (
            [("bad.jsonl", b'{"_id": "1", "text": "ok"}\n{"_id": "2", "text": oops}\n')],
            "bad.jsonl, line 2: not valid JSON",
        ),
        ([("list.jsonl", b'{"_id": "1", "text": "ok"}\n[1, 2]\n')], "list.jsonl, line 2: expected a JSON object"),
        ([("notext.jsonl", b'{"_id": "1"}\n')], "notext.jsonl, line 1: no 'text'"),
        (
            [("a.jsonl", jsonl({"_id": "1", "text": "x"})), ("b.jsonl", jsonl({"_id": "1", "text": "y"}))],
            "duplicate document id '1': in a.jsonl:1 and b.jsonl:1",
        ),
        ([("rows.csv", b'text\nfine\n""\nalso fine\n')], "rows.csv, line 3: the 'text' column is empty"),
        ([("wide.csv", b"text\nok\nok,extra\n")], "wide.csv, line 3: more fields than the header"),
        ([("header.csv", b"text\n")], "header.csv: a header but no rows"),
        ([("doc.docx", b"PK\x03\x04")], "doc.docx: unsupported file type .docx"),
        ([("broken.pdf", b"%PDF-1.4 this is not really a pdf")], "broken.pdf: not a readable PDF"),
        ([("blank.pdf", make_pdf([""]))], "blank.pdf: no extractable text"),
        ([], "no files given"),
    ],
)
def test_bad_files_get_a_clear_message(files, message):
    with pytest.raises(CorpusError) as caught:
        load_files(files)
    assert message in str(caught.value)


def test_missing_csv_column_lists_the_columns():
    with pytest.raises(CorpusError, match=r"no column 'body' for the text; the columns are 'id', 'content'"):
        load_files([("docs.csv", b"id,content\n1,x\n")], columns=TableColumns(text="body"))


def test_too_many_files_and_bytes():
    with pytest.raises(CorpusError, match="3 files is more than the limit of 2"):
        load_files([("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")], max_files=2)
    with pytest.raises(CorpusError, match="more than the limit of 1 MiB"):
        load_files([("big.txt", b"x" * (2 * 2**20))], max_total_bytes=2**20)


def never_opened(monkeypatch, path: Path) -> None:
    """Opening `path` fails the test: what is refused by its size must be refused before a byte is read."""
    opened = Path.open

    def guarded(self, *args, **kwargs):
        assert self != path, f"{path} was opened"
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)


def test_huge_file_on_disk_is_refused_before_it_is_read(tmp_path, monkeypatch):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:  # sparse: costs no disk, and would cost the memory if it were read
        f.truncate(corpus_module.MAX_TOTAL_BYTES + 1)
    never_opened(monkeypatch, huge)
    with pytest.raises(CorpusError, match="more than the limit"):
        load_paths([huge])


def test_one_bad_file_loads_nothing():
    good = ("good.txt", b"a perfectly fine document")
    with pytest.raises(CorpusError, match="bad.jsonl, line 1"):
        load_files([good, ("bad.jsonl", b"{not json")])


def test_bad_beir_qrels_line(tmp_path):
    (tmp_path / "corpus.jsonl").write_bytes(jsonl({"_id": "d", "text": "x"}))
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td\tvery\n")
    with pytest.raises(CorpusError, match=r"test.tsv, line 2: score 'very' is not a number"):
        load_beir(tmp_path)
