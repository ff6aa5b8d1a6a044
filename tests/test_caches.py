"""The caches under $RANKLENS_HOME: measured, emptied in place while held open, and an upgrade's exports removed."""

import hashlib
import json
import re
import shutil
import sqlite3
from dataclasses import asdict

from conftest import STAND_IN_CE
from ranklens import caches
from ranklens.backends.exports import LAYOUTS, MANIFEST, cached_export, export, export_key, library_versions
from ranklens.cli import main
from ranklens.index.lexical import BM25Retriever
from ranklens.index.milvus import MilvusCollection, MilvusRetriever, MilvusSettings, client, close_clients, lite_file
from ranklens.models.files import fingerprint
from ranklens.models.pair_tokens import PairTokenizer
from ranklens.models.tokens import Tokens
from ranklens.ranking.score_cache import ScoreCache
from ranklens.speed import calibration


def test_a_cache_is_emptied_in_place_and_a_process_holding_it_goes_on(tmp_path, monkeypatch, adi):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    path = tmp_path / "cache" / "ce_scores.sqlite"
    scores = ScoreCache(path)
    scores.put_many({bytes([n]) * 20: (float(n), False) for n in range(3)})
    texts = [doc.full_text for doc in adi.documents[:7]]
    PairTokenizer.of(Tokens(STAND_IN_CE)).passage_ids(texts)
    sizes = {cache.name: cache for cache in caches.measure_all()}
    assert sizes["scores"].entries == 3 and sizes["passage-tokens"].entries == len(texts)
    assert sizes["scores"].size > 0 and sizes["indexes"].entries == 0

    held = sqlite3.connect(path)  # another process with the file open
    assert held.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 3
    assert caches.clear("scores").entries == 3, "what it held"
    assert held.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0, "the same file, still a database"
    assert caches.measure("scores").entries == 0 and caches.measure("passage-tokens").entries == len(texts)
    again = ScoreCache(path)  # a new process
    again.put_many({b"x" * 20: (0.5, True)})
    assert ScoreCache(path).get_many([b"x" * 20]) == {b"x" * 20: (0.5, True)}


def test_a_damaged_cache_file_is_said_and_cleared_and_the_cache_made_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    path = tmp_path / "cache" / "passage_tokens.sqlite"
    path.parent.mkdir()
    path.write_bytes(b"not a database " * 100)
    assert caches.measure("passage-tokens").damaged
    assert main(["cache"]) == 0 and "damaged" in capsys.readouterr().out
    assert main(["cache", "--clear", "passage-tokens"]) == 0
    assert not path.exists()
    PairTokenizer.of(Tokens(STAND_IN_CE)).passage_ids(["a passage kept in a cache made again"])
    after = caches.measure("passage-tokens")
    assert not after.damaged and after.entries == 1


def test_exports_of_other_library_versions_or_an_earlier_layout_are_removed_alone(
    tmp_path, monkeypatch, reranker, capsys
):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    model = reranker.model
    made, _ = export(model.transformers_model, model.tokenizer, fingerprint(reranker.name), "onnx", 64, pair=True)
    manifest = json.loads((made.parent / MANIFEST).read_text())
    assert (
        manifest["libraries"] == library_versions()
        and manifest["window"] == 64
        and manifest["layout"] == LAYOUTS["onnx"] == 2
    )
    assert made.with_name("model.onnx.data").stat().st_size > 50 * made.stat().st_size, "the weights beside the graph"
    # what an upgrade leaves behind: the same export under the key of other library versions, or of an earlier layout
    upgraded = made.parent.with_name("made-before-an-upgrade")
    shutil.copytree(made.parent, upgraded)
    (upgraded / MANIFEST).write_text(json.dumps({**manifest, "libraries": "torch=2.0.0"}))
    before_layouts = {k: v for k, v in manifest.items() if k != "layout"}
    earlier = made.parent.with_name("made-in-the-first-layout")
    shutil.copytree(made.parent, earlier)
    (earlier / MANIFEST).write_text(json.dumps(before_layouts))
    int8 = made.parent.with_name("int8-made-before-layouts")  # its format's layout never changed: still read
    shutil.copytree(made.parent, int8)
    (int8 / MANIFEST).write_text(json.dumps({**before_layouts, "format": "onnx-int8"}))
    unknown = made.parent.with_name("made-before-manifests")  # cannot tell: kept
    shutil.copytree(made.parent, unknown)
    (unknown / MANIFEST).unlink()

    exports = caches.measure("exports")
    assert (exports.entries, exports.stale) == (5, 2) and 0 < exports.stale_size < exports.size
    assert main(["cache", "--stale"]) == 0
    out = capsys.readouterr().out
    assert "removed 2 stale exports" in out and "exports" in out
    assert not upgraded.exists() and not earlier.exists() and unknown.exists() and int8.exists()
    assert cached_export(fingerprint(reranker.name), "onnx", 64) == made, "this version's export stays"
    assert main(["cache", "--clear", "exports"]) == 0
    assert caches.measure("exports").entries == 0 and cached_export(fingerprint(reranker.name), "onnx", 64) is None


def test_a_format_whose_layout_never_changed_keeps_the_key_it_had_before_layouts():
    """An upgrade must not re-make an int8 export (NNCF's static quantization takes 12-13 s) for nothing."""
    before = hashlib.sha256(f"model|onnx-int8|192|{library_versions()}".encode()).hexdigest()[:24]
    assert export_key("model", "onnx-int8", 192) == before
    assert (
        export_key("model", "onnx", 192)
        != hashlib.sha256(f"model|onnx|192|{library_versions()}".encode()).hexdigest()[:24]
    )


def test_bm25_indexes_and_milvus_lite_collections_are_listed_and_only_ours_are_cleared(
    tmp_path, monkeypatch, adi, adi_embeddings, embedder, capsys
):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    BM25Retriever(adi, adi_embeddings.passages)
    MilvusRetriever(adi_embeddings, embedder, "milvus")  # into the Milvus Lite file under the home
    client(lite_file()).create_collection("made_by_someone_else", dimension=4)
    close_clients()
    sizes = {cache.name: cache for cache in caches.measure_all()}
    assert sizes["bm25-indexes"].entries == 1 and sizes["bm25-indexes"].size > 0
    assert sizes["milvus-lite"].entries == 1 and sizes["milvus-lite"].size > 0
    assert main(["cache"]) == 0 and "milvus-lite" in capsys.readouterr().out

    assert main(["cache", "--clear", "milvus-lite", "bm25-indexes"]) == 0
    assert "cleared milvus-lite: 1 entries" in capsys.readouterr().out
    assert caches.measure("milvus-lite").entries == 0 and caches.measure("bm25-indexes").entries == 0
    assert client(lite_file()).list_collections() == ["made_by_someone_else"]
    close_clients()
    again = MilvusCollection(adi_embeddings, MilvusSettings())
    assert again.ingest() == adi_embeddings.passage_count == again.rows(), "ingested afresh, not taken as done"
    close_clients()


def test_a_backend_choice_is_forgotten_alone_or_all_of_them_so_the_next_load_measures_again(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("RANKLENS_HOME", str(tmp_path))
    measured = [calibration.Measured("torch-bf16", 1.0, 1.0), calibration.Measured("torch", 2.0, 1.0)]
    stored = {"backend": "torch-bf16", "machine": "this machine", "measured": [asdict(m) for m in measured]}
    calibration.choices_file().parent.mkdir(parents=True)
    calibration.choices_file().write_text(json.dumps({calibration.choice_key(m): stored for m in ("a", "b", "c")}))
    assert caches.measure(caches.BACKEND_CHOICES).entries == 3
    assert calibration.forget_choice("a") and not calibration.forget_choice("a"), "forgotten once"
    assert calibration.cached_choice("a") is None and calibration.cached_choice("b").backend == "torch-bf16"
    assert main(["cache"]) == 0 and re.search(r"backend-choices\s+2 entries", capsys.readouterr().out)
    assert main(["cache", "--clear", "backend-choices"]) == 0
    assert calibration.cached_choice("b") is None and caches.measure(caches.BACKEND_CHOICES).entries == 0
    assert caches.measure("scores").entries == 0, "nothing else was made or touched"
