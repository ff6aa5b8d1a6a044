"""What the subcommands share: their common options, resolving inputs into a corpus, models and judgements,
and progress bars. About 300 lines, all of it option groups and their resolution, kept together so that every
subcommand spells an option the same way."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ranklens.backends.registry import BACKENDS
from ranklens.corpus.beir import load_beir, parse_qrels
from ranklens.corpus.corpus import Corpus, CorpusError, Qrels, builtin_names
from ranklens.corpus.loading import load_builtin, load_paths
from ranklens.corpus.stored import open_corpus
from ranklens.corpus.tables import TableColumns
from ranklens.corpus.textclean import decode
from ranklens.index.base import FirstStage
from ranklens.index.dense import AnnSettings
from ranklens.index.lexical import BM25Settings
from ranklens.index.milvus import URI_ENV, MilvusSettings
from ranklens.index.passage_tokens import fill_passage_tokens
from ranklens.index.registry import (
    DEFAULT_FIRST_STAGE,
    FIRST_STAGES,
    NEEDS_EMBEDDINGS,
    FirstStageSettings,
    build_first_stage,
)
from ranklens.labelling.labels import LabelStore
from ranklens.models.embedder import Embedder
from ranklens.models.loading import DEFAULT_BI_ENCODER, DEFAULT_CROSS_ENCODER, load_embedder, load_reranker
from ranklens.models.reranker import BUDGETS, DEFAULT_CE_BATCH, Reranker
from ranklens.progress import OnProgress
from ranklens.ranking import fusion
from ranklens.ranking.search import DEFAULT_TOP_N, Searcher, load_ahead
from ranklens.settings import DATASETS_ENV, datasets_dir
from ranklens.speed.calibration import AUTO, measured_backend


def say(message: str) -> None:
    """A status line on stderr, so stdout holds only the command's result."""
    print(message, file=sys.stderr)


def progress_bar(description: str, unit: str = "") -> OnProgress:
    """A tqdm bar on stderr (count, rate and time left) fed by `on_progress(done, total)` calls."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def add_column_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", help="CSV/TSV column with the text (default: text, body, content, ...)")
    parser.add_argument("--id-column", help="CSV/TSV column with the document id")
    parser.add_argument("--title-column", help="CSV/TSV column with the title")
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the first CSV/TSV row names the columns (default: recognised from the rows)",
    )


def add_corpus_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    names = ", ".join(builtin_names())
    parser.add_argument(
        "--corpus",
        nargs="+",
        required=required,
        help=f"a BEIR folder, a folder of files, files, a built-in corpus ({names}), or stored:KEY (a corpus "
        "ingested or uploaded before)",
    )
    add_column_options(parser)


def add_bi_encoder_options(parser: argparse.ArgumentParser) -> None:
    """The bi-encoder and its backend; and the first stage, whose dense engines it feeds."""
    parser.add_argument("--bi-model", default=DEFAULT_BI_ENCODER, help="bi-encoder id or path")
    parser.add_argument(
        "--bi-backend",
        choices=list(BACKENDS),
        default="torch",
        help="what runs the bi-encoder (another backend builds an index of its own)",
    )
    add_first_stage_options(parser)


def searching_parser(commands, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand that searches a corpus: its parser with the corpus, bi-encoder and search options."""
    parser = commands.add_parser(name, help=help)
    add_corpus_options(parser)
    add_bi_encoder_options(parser)
    add_search_options(parser)
    return parser


def add_search_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ce-model", default=DEFAULT_CROSS_ENCODER, help="cross-encoder id or path")
    parser.add_argument("--top-n", type=int, default=DEFAULT_TOP_N, help="candidates the cross-encoder reranks")
    parser.add_argument("--alpha", type=float, default=fusion.DEFAULT_ALPHA, help="bi-encoder weight in the hybrid")
    parser.add_argument("--fusion", choices=list(fusion.METHODS), default="hybrid")
    parser.add_argument(
        "--backend",
        choices=[AUTO, *BACKENDS],
        default=AUTO,
        help="what runs the cross-encoder; auto: the fastest backend that keeps the ranking, measured on this "
        "CPU on pairs of the corpus the first time (seconds) and remembered",
    )
    parser.add_argument(
        "--ce-max-tokens",
        type=int,
        choices=BUDGETS,
        help="the cross-encoder's token budget per pair (default: the model's window); fewer tokens, less work",
    )
    parser.add_argument(
        "--ce-passages",
        choices=["best", "max"],
        default="best",
        help="cross-encoder reads the best bi-encoder passage, or every passage (max)",
    )
    parser.add_argument(
        "--ce-batch-size",
        type=int,
        default=DEFAULT_CE_BATCH,
        help="pairs per cross-encoder forward pass, sorted by token length",
    )


def columns(args: argparse.Namespace) -> TableColumns:
    return TableColumns(text=args.text_column, id=args.id_column, title=args.title_column, header=args.header)


def load_corpus(args: argparse.Namespace, quiet: bool = False) -> Corpus:
    """The corpus `--corpus` names: a built-in name, a BEIR folder, a folder of files, or files; what loading
    repaired is said on stderr (unless `quiet`)."""
    if len(args.corpus) == 1 and args.corpus[0].startswith("stored:"):
        corpus = open_corpus(args.corpus[0].removeprefix("stored:"))
    elif len(args.corpus) == 1 and args.corpus[0] in builtin_names() and not Path(args.corpus[0]).exists():
        corpus = load_builtin(args.corpus[0])
    else:
        corpus = load_paths(args.corpus, columns=columns(args))
    for warning in [] if quiet else corpus.warnings:
        say(f"warning: {warning}")
    return corpus


def embedder(args: argparse.Namespace) -> Embedder:
    loaded = load_embedder(args.bi_model, backend=args.bi_backend, notify=say)
    for note in (loaded.fallback_reason, loaded.backend_note):
        if note:
            say(f"note: {note}")
    return loaded


def reranker(args: argparse.Namespace, corpus: Corpus) -> Reranker:
    """The cross-encoder `--ce-model` names on `--backend` (auto: measured here, and the choice said)."""
    backend = args.backend
    if backend == AUTO:
        queries = list(corpus.queries.values())
        choice = measured_backend(args.ce_model, queries, [d.text for d in corpus.documents[:400]], notify=say)
        say(f"cross-encoder backend: {choice.reason()}")
        backend = choice.backend
    loaded = load_reranker(args.ce_model, backend=backend, notify=say)
    if loaded.backend_note:
        say(f"note: {loaded.backend_note}")
    return loaded


def add_first_stage_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("first stage")
    group.add_argument(
        "--first-stage",
        choices=list(FIRST_STAGES),
        default=DEFAULT_FIRST_STAGE,
        help="; ".join(f"{name}: {what}" for name, what in FIRST_STAGES.items()),
    )
    group.add_argument("--hnsw-m", type=int, default=AnnSettings.hnsw_m, help="faiss-hnsw: links per node")
    group.add_argument("--ef-search", type=int, default=AnnSettings.ef_search, help="HNSW: candidates kept searching")
    group.add_argument("--nlist", type=int, default=AnnSettings.nlist, help="faiss-ivf: cells (0: about sqrt(N))")
    group.add_argument("--nprobe", type=int, default=AnnSettings.nprobe, help="faiss-ivf: cells searched")
    group.add_argument(
        "--bm25-level",
        choices=["document", "passage"],
        default="document",
        help="bm25: index whole documents (BEIR's way) or passages",
    )
    group.add_argument("--no-stemming", action="store_true", help="bm25: no Snowball stemming")
    group.add_argument("--no-stopwords", action="store_true", help="bm25: keep English stopwords")
    group.add_argument(
        "--milvus-uri",
        help=f"a Milvus server or cluster (default: ${URI_ENV}, else Milvus Lite in "
        "$RANKLENS_HOME/milvus); token from $RANKLENS_MILVUS_TOKEN",
    )
    group.add_argument("--milvus-index", default="FLAT", help="Milvus dense index type (FLAT, HNSW, IVF_FLAT, ...)")
    group.add_argument(
        "--run", type=Path, dest="run_file", help="run: a TREC run or a query,doc_id,score CSV from any engine"
    )


def first_stage_settings(args: argparse.Namespace, name: str | None = None) -> FirstStageSettings:
    """The first stage's settings from the command's options (`name` overrides --first-stage)."""
    stemming, stopwords = not args.no_stemming, not args.no_stopwords
    ann = AnnSettings(hnsw_m=args.hnsw_m, ef_search=args.ef_search, nlist=args.nlist, nprobe=args.nprobe)
    bm25 = BM25Settings(stemming=stemming, stopwords=stopwords, level=args.bm25_level)
    milvus = MilvusSettings(
        uri=args.milvus_uri,
        index_type=args.milvus_index,
        ef_search=args.ef_search,
        bm25=BM25Settings(stemming=stemming, stopwords=stopwords, level="passage"),
    )
    return FirstStageSettings(name or args.first_stage, ann=ann, bm25=bm25, milvus=milvus, run_file=args.run_file)


def first_stage(args: argparse.Namespace, corpus: Corpus, bi_encoder: Embedder, name: str | None = None) -> FirstStage:
    """The first stage the options name, over the corpus (embedding it, with a progress bar, when needed)."""
    started = time.perf_counter()
    stage = build_first_stage(
        first_stage_settings(args, name),
        corpus,
        bi_encoder,
        progress=progress_bar("embedding passages", unit="passages"),
    )
    say(
        f"first stage {stage.name} ready: {len(corpus)} documents, {len(stage.passages)} passages, "
        f"{time.perf_counter() - started:.1f} s"
    )
    return stage


def passage_tokens(stage: FirstStage, ce_model: str) -> None:
    """The index's passages tokenized for the cross-encoder and cached with it, where not done before."""
    started = time.perf_counter()
    tokenized = fill_passage_tokens(stage, ce_model, progress_bar("tokenizing passages", unit="passages"))
    if tokenized:
        say(
            f"cross-encoder token ids of {tokenized} passages cached with the index, "
            f"{time.perf_counter() - started:.1f} s"
        )


def searcher(args: argparse.Namespace, corpus: Corpus, rerank: bool = True, query: str | None = None) -> Searcher:
    """First stage, bi-encoder and (unless `rerank` is False) cross-encoder for the command's options. `query`: the
    one query the command searches, whose models load ahead while the index loads (ranklens.ranking.search.load_ahead)."""
    bi_encoder = embedder(args)
    cross_encoder = reranker(args, corpus) if rerank else None
    if query is not None and args.first_stage in NEEDS_EMBEDDINGS:
        load_ahead(query, bi_encoder, cross_encoder)
    stage = first_stage(args, corpus, bi_encoder)
    if rerank:
        passage_tokens(stage, args.ce_model)
    return Searcher(stage, cross_encoder, ce_batch_size=args.ce_batch_size, ce_max_tokens=args.ce_max_tokens)


def project_store(labels: str, corpus: Corpus | None = None) -> LabelStore:
    """The labels database `--labels` names (a project folder or a .sqlite file); with a corpus, that corpus is
    recorded in it and claims the judgements stored under its name before corpora had identities."""
    store = LabelStore(labels)
    if corpus is not None:
        store.register(corpus)
        moved = store.adopt_same_name(corpus)
        if moved:
            say(f"note: {moved} judgements stored under the name {corpus.name!r} now belong to this corpus")
    return store


@dataclass
class Judged:
    """A corpus with the queries and judgements to evaluate or train on, and where the judgements came from."""

    corpus: Corpus
    queries: dict[str, str]
    qrels: Qrels
    source: str
    grade_scale: int | None  # the grade that means "perfect"; None: the highest grade in the qrels


def add_judgement_options(parser: argparse.ArgumentParser, split: str) -> None:
    parser.add_argument(
        "--dataset",
        help=f"BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv), or its name under ${DATASETS_ENV}",
    )
    parser.add_argument("--split", default=split, help="which qrels/<split>.tsv to use")
    add_corpus_options(parser, required=False)
    parser.add_argument("--labels", help="with --corpus: the labels of this project folder")
    parser.add_argument("--qrels", help="with --corpus: this TREC or BEIR qrels file")
    parser.add_argument("--max-queries", type=int, help="the first N judged queries only")


def dataset_folder(name: str) -> Path:
    """A BEIR folder given by path, or by name under $RANKLENS_DATASETS."""
    if Path(name).is_dir():
        return Path(name)
    root = datasets_dir()
    if root is None:
        raise CorpusError(f"{name} is not a folder, and ${DATASETS_ENV} is not set to look it up by name")
    return root / name


def judged_inputs(args: argparse.Namespace) -> Judged:
    """The corpus and judgements of `--dataset`, or of `--corpus` with `--labels`, `--qrels` or its own qrels;
    only queries with a relevant judgement, the first `--max-queries` of them."""
    from ranklens.evaluation.evaluate import (
        judged,  # not at the top: it imports pandas, and `search` should start without it
    )

    if args.dataset:
        folder = dataset_folder(args.dataset)
        corpus = load_beir(folder, split=args.split)
        chosen = Judged(corpus, corpus.queries, corpus.qrels, f"{folder}/qrels/{args.split}.tsv", None)
    elif not args.corpus:
        raise CorpusError("give --dataset DIR, or --corpus with --labels PROJECT or --qrels FILE")
    else:
        corpus = load_corpus(args)
        if args.labels:
            store = project_store(args.labels, corpus)
            queries = {**corpus.queries, **store.queries(corpus.key)}
            chosen = Judged(corpus, queries, store.qrels(corpus.key), f"labels in {store.path}", 3)
        elif args.qrels:
            qrels = parse_qrels(args.qrels, decode(args.qrels, Path(args.qrels).read_bytes()))
            chosen = Judged(corpus, corpus.queries, qrels, args.qrels, None)
        else:
            chosen = Judged(corpus, corpus.queries, corpus.qrels, f"{corpus.name}'s own qrels", None)
    chosen.qrels = judged(chosen.qrels)
    if args.max_queries:
        chosen.qrels = dict(list(chosen.qrels.items())[: args.max_queries])
    if not chosen.qrels:
        raise CorpusError(f"no query with a relevant judgement in {chosen.source}")
    return chosen
