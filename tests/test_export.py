"""Each export goes straight into the tool it is for."""

import pytest
import pytrec_eval
from ranx import Qrels

from conftest import STAND_IN_CE
from ranklens.corpus.beir import load_beir
from ranklens.corpus.loading import load_builtin
from ranklens.labelling.export import beir_zip, export_text, trec_qrels, write_beir
from ranklens.labelling.imports import import_qrels, import_raw
from ranklens.labelling.labels import LabelError, LabelStore


@pytest.fixture
def store(tmp_path):
    """Two raters judging a built-in corpus's query, one of them twice as 'can't rate'."""
    corpus = load_builtin("python")
    store = LabelStore(tmp_path / "project")
    query = corpus.queries["q3"]
    for doc_id, grade in corpus.qrels["q3"].items():
        store.judge("python", "q3", query, corpus.get(doc_id), grade, "ann", note="from the qrels")
    store.judge("python", "q3", query, corpus.get("snake-07"), 2, "bob")
    store.judge("python", "q3", query, corpus.get("prog-13"), None, "bob", note="unsure")
    store.judge("python", "q7", corpus.queries["q7"], corpus.get("snake-04"), 3, "bob")
    store.judge("python", "q7", corpus.queries["q7"], corpus.get("prog-02"), 0, "bob")
    return store


def test_pairs_train_a_cross_encoder_for_one_step(store, tmp_path):
    from datasets import Dataset, load_dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    (tmp_path / "pairs.csv").write_text(export_text(store, "python", "pairs-csv"))
    (tmp_path / "pairs.jsonl").write_text(export_text(store, "python", "pairs-jsonl"))
    from_csv = load_dataset("csv", data_files=str(tmp_path / "pairs.csv"), split="train")
    from_jsonl = Dataset.from_json(str(tmp_path / "pairs.jsonl"))
    assert from_csv.column_names == from_jsonl.column_names == ["query", "passage", "label"]
    assert from_csv["label"] == from_jsonl["label"]
    assert sorted(from_csv["label"]) == sorted([0.8333, 0.6667, 0.3333, 0.3333, 0.0, 0.0, 1.0, 0.0]), (
        "snake-07: ann 3 and bob 2 average 2.5 -> 0.8333; bob's can't rate is left out"
    )
    model = CrossEncoder(str(STAND_IN_CE))
    args = CrossEncoderTrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=1,
        per_device_train_batch_size=4,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
    )
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=from_csv, loss=BinaryCrossEntropyLoss(model))
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0


def test_triplets(store):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(export_text(store, "python", "triplets"))))
    assert rows and set(rows[0]) == {"query", "positive", "negative"}
    assert all(r["positive"] != r["negative"] for r in rows)
    assert any("No python species produces venom" in r["positive"] for r in rows)


def test_trec_qrels_load_in_ranx_and_pytrec_eval(store, tmp_path):
    path = tmp_path / "labels.qrels"
    path.write_text(export_text(store, "python", "qrels"))
    ranx_qrels = Qrels.from_file(str(path), kind="trec").to_dict()
    with path.open() as handle:
        trec = pytrec_eval.parse_qrel(handle)
    assert ranx_qrels == trec == store.qrels("python")
    assert ranx_qrels["q3"]["snake-07"] == 3  # 2.5 rounds half up


def test_beir_folder_loads_with_the_engine(store, tmp_path):
    corpus = load_beir(write_beir(store, "python", tmp_path / "beir"))
    assert corpus.qrels == store.qrels("python")
    assert set(corpus.queries) == {"q3", "q7"}
    assert {d.id for d in corpus.documents} == set(store.documents("python"))
    assert corpus.get("snake-07").title == "Are pythons venomous?"
    assert len(beir_zip(store, "python")) > 200


def test_raw_export_import_round_trip(store, tmp_path):
    raw = export_text(store, "python", "raw").encode()
    fresh = LabelStore(tmp_path / "other")
    assert import_raw(fresh, "raw.csv", raw) == len(store.judgements())
    assert fresh.judgements() == store.judgements(), "the same judgements, raters, notes and times"


def test_import_trec_and_beir_qrels(tmp_path):
    corpus = load_builtin("negation")
    store = LabelStore(tmp_path)
    trec = trec_qrels(corpus.qrels).encode()
    assert import_qrels(store, "n.qrels", trec, corpus, "trec") == 35
    tsv = "query-id\tcorpus-id\tscore\nn1\thotel-02\t1\n"
    assert import_qrels(store, "test.tsv", tsv.encode(), corpus, "beir") == 1
    assert store.qrels(corpus.key) == {q: dict(d) for q, d in corpus.qrels.items()} | {
        "n1": {**corpus.qrels["n1"], "hotel-02": 2}
    }  # trec 3 and beir 1 average 2
    assert store.corpora() == {corpus.key: "negation"}
    before = store.judgements()
    refusals = {
        b"n1 0 no-such-doc 2\n": "name a query or document this corpus does not have .* nothing was imported",
        b"n1 0 hotel-02 high\n": "x.qrels, line 1: score 'high' is not a number",
        b"n1 0 hotel-02 1\nn1 0 hotel-03 2.5\n": "x.qrels, line 2: score '2.5' is not a whole number",
        b"n1 0 hotel-02 7\n": "x.qrels, line 1: grade 7 is outside 0-3",
        b"n1 0 hotel-02 -1\n": "x.qrels, line 1: grade -1 is outside 0-3",
    }
    for data, message in refusals.items():
        with pytest.raises(LabelError, match=message):
            import_qrels(store, "x.qrels", data, corpus, "x")
    assert store.judgements() == before, "a refused import stores nothing"


def test_csv_exports_neutralise_formulas_and_the_raw_import_restores_them(tmp_path):
    import csv
    import io

    from ranklens.corpus.corpus import Document

    store = LabelStore(tmp_path / "a")
    texts = [
        '=HYPERLINK("http://x","click")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "-2 degrees",
        "'=already quoted",
        "plain text",
        "'just an apostrophe",
    ]
    for i, text in enumerate(texts):
        store.judge("c", "q", "=query?", Document(id=f"d{i}", text=text), i % 4, "ann", note="@note", later=i == 2)
    pairs = list(csv.DictReader(io.StringIO(export_text(store, "c", "pairs-csv"))))
    assert {row["query"] for row in pairs} == {"'=query?"}
    cells = {row["passage"] for row in pairs}
    assert '\'=HYPERLINK("http://x","click")' in cells and "'+cmd|' /C calc'!A0" in cells and "'-2 degrees" in cells
    assert "plain text" in cells and "'just an apostrophe" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in pairs for cell in row.values())
    jsonl = export_text(store, "c", "pairs-jsonl")
    assert '"passage": "=HYPERLINK' in jsonl, "JSONL keeps every text exactly"
    fresh = LabelStore(tmp_path / "b")
    import_raw(fresh, "raw.csv", export_text(store, "c", "raw").encode())
    assert fresh.judgements() == store.judgements(), "texts, notes and the judge-later mark come back exactly"
    assert {d.text for d in fresh.documents("c").values()} == set(texts)
