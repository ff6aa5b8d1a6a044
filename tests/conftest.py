"""Shared fixtures: the real models and datasets from ../shared, loaded once per test session."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest

pytest_plugins = ["browser"]  # the app server fixture for the real-browser tests

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RANKLENS_SHARED", ROOT.parent / "shared"))
DATASETS = Path(os.environ.get("RANKLENS_DATASETS", SHARED / "datasets"))
STAND_IN_CE = SHARED / "models" / "cross-encoders" / "minilm-l6-bootstrap"

# The same setup the Makefile does, so `pytest` alone works too.
if (SHARED / "models" / "hf-cache").is_dir():
    os.environ.setdefault("HF_HUB_CACHE", str(SHARED / "models" / "hf-cache"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
if STAND_IN_CE.is_dir():
    os.environ.setdefault("RANKLENS_CE_FALLBACKS", str(STAND_IN_CE))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def ranklens_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Indexes and databases of a test session go to a fresh folder, never the user's."""
    home = tmp_path_factory.mktemp("ranklens-home")
    os.environ["RANKLENS_HOME"] = str(home)
    return home


def dataset(name: str) -> Path:
    path = DATASETS / name
    assert (path / "corpus.jsonl").is_file(), (
        f"dataset {name} not found at {path}: ../shared/datasets must sit beside the repo"
    )
    return path


@pytest.fixture(scope="session")
def embedder():
    from ranklens.models.loading import load_embedder

    return load_embedder("sentence-transformers/all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def reranker():
    from ranklens.models.loading import load_reranker

    assert STAND_IN_CE.is_dir(), f"the stand-in cross-encoder is missing at {STAND_IN_CE}"
    return load_reranker(str(STAND_IN_CE), fallbacks=[])


@pytest.fixture(scope="session")
def adi():
    from ranklens.corpus.beir import load_beir

    return load_beir(dataset("adi"))


@pytest.fixture(scope="session")
def adi_embeddings(adi, embedder, ranklens_home):
    from ranklens.index.embeddings import embed_corpus

    return embed_corpus(adi, embedder)


@pytest.fixture(scope="session")
def adi_dense(adi_embeddings, embedder):
    from ranklens.index.dense import DenseRetriever

    return DenseRetriever(adi_embeddings, embedder)


@pytest.fixture(scope="session")
def adi_searcher(adi_dense, reranker):
    from ranklens.ranking.score_cache import ScoreCache
    from ranklens.ranking.search import Searcher

    return Searcher(adi_dense, reranker, score_cache=ScoreCache())  # its own, in memory: calls are counted


def measured_backend_of(name: str) -> str:
    """The cross-encoder backend "auto" chose for model `name` on this machine (the app must have measured it)."""
    from ranklens.models.files import fingerprint
    from ranklens.models.loading import in_use
    from ranklens.speed.calibration import cached_choice

    choice = cached_choice(fingerprint(in_use(name)[0]))
    assert choice is not None, f"no measured backend for {name} yet"
    return choice.backend


def kept_passages(home: Path) -> int:
    """How many passages' token ids the cache file in `home` holds (ranklens.models.pair_tokens)."""
    path = home / "cache" / "passage_tokens.sqlite"
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]


def make_project(name: str):
    """A project that exists (its database made), so the app's project picker lists it; returns its folder."""
    from ranklens.labelling.labels import LabelStore
    from ranklens.labelling.projects import project_folder

    folder = project_folder(name)
    LabelStore(folder)
    return folder


def open_tab(at, name: str):
    """Switch the app's main tabs (only the open tab runs), as a click on the tab would."""
    at.session_state["tab"] = name
    return at.run()
