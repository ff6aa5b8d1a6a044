"""Command line: `python -m ranklens index|search|eval ...`."""

from __future__ import annotations

import argparse
import sys

import pandas as pd
import textwrap
from collections.abc import Sequence

from ranklens import fusion
from pathlib import Path

from ranklens.corpus import (
    Corpus,
    CorpusError,
    TableColumns,
    builtin_names,
    decode,
    load_beir,
    load_builtin,
    load_paths,
    parse_qrels,
)
from ranklens.export import FORMATS, export_text, import_qrels, import_raw, write_beir
from ranklens.backends import BACKENDS, default_backend
from ranklens.labels import LabelError, LabelStore
from ranklens.settings import data_dir
from ranklens.evaluate import (
    METRICS,
    NDCG_GAIN,
    collect,
    collect_bi_runs,
    judged,
    score_runs,
    significance,
    trec_run,
)
from ranklens.index import CorpusIndex, build_index
from ranklens.models import DEFAULT_BI_ENCODER, DEFAULT_CE_BATCH, DEFAULT_CROSS_ENCODER, ModelError, load_embedder, load_reranker
from ranklens.search import DEFAULT_TOP_N, Candidate, SearchError, SearchResult, Searcher


def _progress_bar(description: str):
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit="", file=sys.stderr, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def _column_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-column", default="text", help="CSV/TSV column with the text")
    parser.add_argument("--id-column", help="CSV/TSV column with the document id")
    parser.add_argument("--title-column", help="CSV/TSV column with the title")


def _corpus_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", nargs="+", required=True,
                        help=f"a BEIR folder, a folder of files, files, or a built-in corpus ({', '.join(builtin_names())})")
    _column_options(parser)
    parser.add_argument("--bi-model", default=DEFAULT_BI_ENCODER, help="bi-encoder id or path")
    parser.add_argument("--bi-backend", choices=list(BACKENDS), default="torch",
                        help="what runs the bi-encoder (another backend builds an index of its own)")


def _search_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ce-model", default=DEFAULT_CROSS_ENCODER, help="cross-encoder id or path")
    parser.add_argument("--top-n", type=int, default=DEFAULT_TOP_N, help="candidates the cross-encoder reranks")
    parser.add_argument("--alpha", type=float, default=fusion.DEFAULT_ALPHA, help="bi-encoder weight in the hybrid")
    parser.add_argument("--fusion", choices=list(fusion.METHODS), default="hybrid")
    parser.add_argument("--backend", choices=list(BACKENDS), default=default_backend(),
                        help="what runs the cross-encoder (default: the fastest that keeps the ranking on this CPU)")
    parser.add_argument("--ce-passages", choices=["best", "max"], default="best",
                        help="cross-encoder reads the best bi-encoder passage, or every passage (max)")
    parser.add_argument("--ce-batch-size", type=int, default=DEFAULT_CE_BATCH,
                        help="pairs per cross-encoder forward pass, sorted by token length")


def _load_corpus(args: argparse.Namespace) -> Corpus:
    if len(args.corpus) == 1 and args.corpus[0] in builtin_names() and not Path(args.corpus[0]).exists():
        return load_builtin(args.corpus[0])
    columns = TableColumns(text=args.text_column, id=args.id_column, title=args.title_column)
    return load_paths(args.corpus, columns=columns)


def _load_index(args: argparse.Namespace) -> CorpusIndex:
    corpus = _load_corpus(args)
    embedder = _embedder(args)
    index = build_index(corpus, embedder, progress=_progress_bar("embedding passages"))
    state = "loaded from cache" if index.from_cache else "built"
    print(f"index {state}: {index.doc_count} documents, {index.passage_count} passages, "
          f"{args.bi_model} ({embedder.backend}), {index.seconds:.1f} s", file=sys.stderr)
    return index


def _embedder(args: argparse.Namespace):
    embedder = load_embedder(args.bi_model, backend=getattr(args, "bi_backend", "torch"),
                             notify=lambda m: print(m, file=sys.stderr))
    if embedder.backend_note:
        print(f"note: {embedder.backend_note}", file=sys.stderr)
    return embedder


def _reranker(args: argparse.Namespace):
    reranker = load_reranker(args.ce_model, backend=args.backend, notify=lambda m: print(m, file=sys.stderr))
    if reranker.backend_note:
        print(f"note: {reranker.backend_note}", file=sys.stderr)
    return reranker


def _searcher(args: argparse.Namespace, index: CorpusIndex) -> Searcher:
    return Searcher(index, _embedder(args), _reranker(args), ce_batch_size=args.ce_batch_size)


def _cell(candidate: Candidate | None, result: SearchResult, ranker: str, top_k: int, width: int) -> str:
    if candidate is None:
        return " " * width
    score = {"bi": candidate.bi_score, "ce": candidate.ce_score, "hybrid": candidate.hybrid_score}[ranker]
    arrow = "" if ranker == "bi" else result.shift(candidate, ranker, top_k).label
    label = (candidate.title or candidate.text).replace("\n", " ")
    head = f"{arrow:>4} {score:7.3f} {candidate.doc_id[:10]:<10} "
    return (head + textwrap.shorten(label, width=max(10, width - len(head)), placeholder="…")).ljust(width)


def format_result(result: SearchResult, top_k: int, width: int = 52) -> str:
    columns = {
        "bi": "bi-encoder (cosine)",
        "ce": "reranked (CE logit)",
        "hybrid": f"{'hybrid' if result.fusion_method == 'hybrid' else result.fusion_method + ' fusion'} α={result.alpha:g}",
    }
    rankings = {ranker: result.ranking(ranker)[:top_k] for ranker in columns}
    lines = [f"query: {result.query}", f"bi-encoder: {result.bi_model}   cross-encoder: {result.ce_model}"]
    if result.ce_fallback_reason:
        lines.append(f"note: {result.ce_fallback_reason}")
    lines.append("  # " + " | ".join(title.ljust(width) for title in columns.values()))
    for row in range(top_k):
        cells = [_cell(rankings[r][row] if row < len(rankings[r]) else None, result, r, top_k, width) for r in columns]
        lines.append(f"{row + 1:>3} " + " | ".join(cells))
    t = result.timings
    lines.append(
        f"timings: query embed {t.embed_ms:.1f} ms, FAISS {t.faiss_ms:.1f} ms, cross-encoder {t.rerank_ms:.1f} ms "
        f"({t.pairs_scored} pairs scored, {t.pairs_cached} cached), total {t.total_ms:.1f} ms"
    )
    truncated = sum(c.ce_truncated for c in result.candidates)
    chunked = sum(c.passage_count > 1 for c in result.candidates)
    lines.append(f"{chunked} of {len(result.candidates)} candidates were chunked (scored by their best passage); "
                 f"{truncated} were truncated at the cross-encoder's window")
    return "\n".join(lines)


def cmd_index(args: argparse.Namespace) -> None:
    _load_index(args)


def cmd_search(args: argparse.Namespace) -> None:
    searcher = _searcher(args, _load_index(args))
    result = searcher.search(args.query, top_n=args.top_n, alpha=args.alpha, fusion_method=args.fusion,
                             ce_passages=args.ce_passages)
    print(format_result(result, top_k=min(args.top_k, len(result.candidates))))


def _evaluation_inputs(args: argparse.Namespace) -> tuple[Corpus, dict[str, str], dict[str, dict[str, int]], str]:
    """The corpus, query texts, qrels, and where the qrels came from."""
    if args.dataset:
        corpus = load_beir(args.dataset, split=args.split)
        return corpus, corpus.queries, corpus.qrels, f"{args.dataset}/qrels/{args.split}.tsv"
    if not args.corpus:
        raise CorpusError("give --dataset DIR, or --corpus with --labels PROJECT or --qrels FILE")
    corpus = _load_corpus(args)
    if args.labels:
        store = LabelStore(args.labels)
        return corpus, {**corpus.queries, **store.queries(corpus.name)}, store.qrels(corpus.name), f"labels in {store.path}"
    if args.qrels:
        qrels = parse_qrels(args.qrels, decode(args.qrels, Path(args.qrels).read_bytes()))
        return corpus, corpus.queries, qrels, args.qrels
    return corpus, corpus.queries, corpus.qrels, f"{corpus.name}'s own qrels"


def cmd_eval(args: argparse.Namespace) -> None:
    corpus, queries, qrels, source = _evaluation_inputs(args)
    qrels = judged(qrels)
    if args.max_queries:
        qrels = dict(list(qrels.items())[: args.max_queries])
    if not qrels:
        raise CorpusError(f"no query with a relevant judgement in {source}")
    embedder = _embedder(args)
    index = build_index(corpus, embedder, progress=_progress_bar("embedding passages"))
    reranker = None if args.no_rerank else _reranker(args)
    searcher = Searcher(index, embedder, reranker, ce_batch_size=args.ce_batch_size)
    print(f"corpus: {corpus.name} ({len(corpus)} documents); {len(qrels)} queries with a relevant judgement, from {source}")
    print(f"bi-encoder: {args.bi_model}")
    if reranker is None:
        runs = {"bi": collect_bi_runs(searcher, queries, qrels, args.top_n)}
        evaluation = None
    else:
        if reranker.fallback_reason:
            print(f"note: {reranker.fallback_reason}")
        print(f"cross-encoder: {reranker.name} ({reranker.backend}), top-N {args.top_n}; hybrid: {args.fusion} at alpha {args.alpha:g}")
        evaluation = collect(searcher, queries, qrels, top_n=args.top_n, alpha=args.alpha, fusion_method=args.fusion,
                             ce_passages=args.ce_passages, progress=_progress_bar("queries"))
        runs = evaluation.runs()
    print(f"metrics: ranx; nDCG uses {NDCG_GAIN}; unjudged documents count as non-relevant")
    table = score_runs(qrels, runs)
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(table.to_json(orient="index", double_precision=15), encoding="utf-8")
    if args.write_runs:
        folder = Path(args.write_runs)
        folder.mkdir(parents=True, exist_ok=True)
        for ranker, run in runs.items():
            (folder / f"{ranker}.trec").write_text(trec_run(run, f"ranklens-{ranker}"), encoding="utf-8")
        print(f"runs written to {folder}/ ({', '.join(f'{r}.trec' for r in runs)}, TREC format)")
    if evaluation is None:
        return
    print()
    print(evaluation.coverage().to_string(float_format=lambda v: f"{v:.2f}"))
    if args.sweep:
        sweep = evaluation.sweep(method=args.fusion)
        best = sweep.loc[sweep["ndcg@10"].idxmax()]
        print(f"\nalpha sweep ({args.fusion}; alpha = bi-encoder weight):")
        print(sweep.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(f"best alpha for nDCG@10: {best['alpha']:.2f} ({best['ndcg@10']:.4f})")
    if args.significance:
        per_query = evaluation.per_query("ndcg@10")
        print()
        for other in ("reranked", "hybrid"):
            print(significance(per_query, other, "bi-encoder").verdict)


def cmd_export(args: argparse.Namespace) -> None:
    store = LabelStore(args.labels)
    corpora = store.corpora()
    corpus = args.corpus_name or (corpora[0] if len(corpora) == 1 else None)
    if corpus not in corpora:
        raise LabelError(f"name the corpus with --corpus-name; {store.path} has judgements for: {', '.join(corpora) or 'none'}")
    if args.format == "beir":
        if not args.out:
            raise LabelError("--format beir writes a folder: give it with --out")
        print(f"wrote {write_beir(store, corpus, Path(args.out))}", file=sys.stderr)
        return
    text = export_text(store, corpus, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_import(args: argparse.Namespace) -> None:
    store = LabelStore(args.labels)
    data = Path(args.file).read_bytes()
    if args.raw:
        count = import_raw(store, args.file, data)
    else:
        if not args.corpus:
            raise LabelError("importing qrels needs --corpus: the documents and queries they judge")
        corpus = _load_corpus(args)
        count = import_qrels(store, args.file, data, corpus.name, {d.id: d for d in corpus.documents}, corpus.queries,
                             args.rater)
    print(f"imported {count} judgements into {store.path}")


def cmd_train(args: argparse.Namespace) -> None:
    from ranklens.train import Progress, TrainSettings, build_training_data, default_output, train

    if args.dataset:
        corpus = load_beir(args.dataset, split=args.split)
        queries, qrels, scale, project = corpus.queries, corpus.qrels, None, Path(args.project or data_dir() / "projects" / "default")
    else:
        if not (args.labels and args.corpus):
            raise CorpusError("give --dataset DIR, or --labels PROJECT with --corpus")
        corpus = _load_corpus(args)
        store = LabelStore(args.labels)
        queries, qrels, scale, project = {**corpus.queries, **store.queries(corpus.name)}, store.qrels(corpus.name), 3, store.path.parent
    qrels = judged(qrels)
    if args.max_queries:
        qrels = dict(list(qrels.items())[: args.max_queries])
    settings = TrainSettings(epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size, loss=args.loss,
                             heldout_fraction=args.heldout_fraction, seed=args.seed)
    embedder = load_embedder(args.bi_model)
    index = build_index(corpus, embedder, progress=_progress_bar("embedding passages"))
    searcher = Searcher(index, embedder, load_reranker(args.ce_model))
    if searcher.reranker.fallback_reason:
        print(f"note: {searcher.reranker.fallback_reason}")
    data = build_training_data(searcher, queries, qrels, settings, grade_scale=scale)
    print("data: " + ", ".join(f"{v} {k}" for k, v in data.summary().items()))
    print(f"held-out queries: {', '.join(data.heldout_queries)}")
    output = Path(args.out) if args.out else default_output(project, searcher.reranker.name)
    result = train(searcher, queries, data, settings, output, Progress())
    print(pd.DataFrame(result.history).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(result.comparison.to_string(float_format=lambda v: f"{v:.4f}"))
    print(result.verdict)
    print(f"saved to {result.model_dir} (with RANKLENS_MODEL_CARD.md); use it with --ce-model {result.model_dir}")


def cmd_bench(args: argparse.Namespace) -> None:
    import os
    import platform

    from ranklens.backends import cpu_cores, cpu_name
    from ranklens.bench import speed_benchmark

    datasets_root = Path(os.environ.get("RANKLENS_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    ce_model = args.ce_model
    rows = []
    for name in args.datasets:
        folder = Path(name) if Path(name).is_dir() else datasets_root / name
        rows += speed_benchmark(str(folder), ce_model, args.bi_model, args.backends, args.sizes, args.repeats,
                                args.quality_queries, bi_backends=args.bi_backends,
                                log=lambda m: print(m, file=sys.stderr))
    table = pd.DataFrame(rows)
    resolved = load_reranker(ce_model).name
    print(f"machine: {cpu_name() or platform.machine()}, {cpu_cores()} cores; cross-encoder {resolved}; "
          f"backends: {', '.join(f'{b} = {BACKENDS[b]}' for b in args.backends)}")
    print(f"medians of {args.repeats} interleaved rounds; 'vs seed' > 1 is better (faster, or higher nDCG)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.csv, index=False)
    print(f"written to {args.csv}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ranklens", description="RankLens: inspect two-stage search.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="embed a corpus into a cached FAISS index")
    _corpus_options(index)
    index.set_defaults(run=cmd_index)

    search = commands.add_parser("search", help="bi-encoder and reranked rankings side by side")
    _corpus_options(search)
    _search_options(search)
    search.add_argument("--query", required=True)
    search.add_argument("--top-k", type=int, default=10, help="rows to show")
    search.set_defaults(run=cmd_search)

    evaluation = commands.add_parser("eval", help=f"{', '.join(METRICS)} for bi-encoder, reranked and hybrid")
    evaluation.add_argument("--dataset", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/")
    evaluation.add_argument("--split", default="test", help="which qrels/<split>.tsv to evaluate on")
    evaluation.add_argument("--corpus", nargs="+", help="instead of --dataset: the corpus (built-in name, folder, files)")
    evaluation.add_argument("--labels", help="with --corpus: judge against the labels of this project folder")
    evaluation.add_argument("--qrels", help="with --corpus: judge against this TREC or BEIR qrels file")
    _column_options(evaluation)
    evaluation.add_argument("--bi-model", default=DEFAULT_BI_ENCODER)
    evaluation.add_argument("--bi-backend", choices=list(BACKENDS), default="torch", help="what runs the bi-encoder")
    evaluation.add_argument("--max-queries", type=int, help="evaluate on the first N judged queries only")
    evaluation.add_argument("--no-rerank", action="store_true", help="bi-encoder only (fast)")
    evaluation.add_argument("--sweep", action="store_true", help="hybrid nDCG@10 and MRR@10 for alpha 0..1 by 0.05")
    evaluation.add_argument("--significance", action="store_true", help="paired t-tests against the bi-encoder")
    evaluation.add_argument("--write-runs", metavar="DIR", help="write each ranker's run in TREC format")
    evaluation.add_argument("--json", metavar="FILE", help="write the metrics table as JSON (full precision)")
    _search_options(evaluation)
    evaluation.set_defaults(run=cmd_eval)

    export = commands.add_parser("export", help="judgements as training pairs, triplets, TREC qrels, BEIR or raw")
    export.add_argument("--labels", required=True, help="project folder or labels.sqlite")
    export.add_argument("--corpus-name", help="which corpus's judgements (needed when there are several)")
    export.add_argument("--format", choices=list(FORMATS), required=True,
                        help="; ".join(f"{k}: {v}" for k, v in FORMATS.items()))
    export.add_argument("--out", help="file (folder for beir); standard output when left out")
    export.set_defaults(run=cmd_export)

    importing = commands.add_parser("import", help="TREC/BEIR qrels or a raw export into a labels database")
    importing.add_argument("--labels", required=True, help="project folder or labels.sqlite")
    importing.add_argument("file", help="the qrels or raw export file")
    importing.add_argument("--raw", action="store_true", help="the file is a raw judgement export")
    importing.add_argument("--corpus", nargs="+", help="for qrels: the corpus they judge (BEIR folder, files, built-in)")
    importing.add_argument("--rater", default="imported", help="for qrels: the rater name to store them under")
    _column_options(importing)
    importing.set_defaults(run=cmd_import)

    training = commands.add_parser("train", help="fine-tune the cross-encoder; base vs tuned on held-out queries")
    training.add_argument("--dataset", help="BEIR folder whose --split qrels are the training judgements")
    training.add_argument("--split", default="train")
    training.add_argument("--labels", help="instead of --dataset: a project folder's labels (with --corpus)")
    training.add_argument("--corpus", nargs="+", help="with --labels: the corpus (built-in name, folder, files)")
    _column_options(training)
    training.add_argument("--project", help="with --dataset: the project folder the tuned model is saved in")
    training.add_argument("--out", help="folder for the tuned model (default: PROJECT/models/NAME-tuned-TIME)")
    training.add_argument("--bi-model", default=DEFAULT_BI_ENCODER)
    training.add_argument("--ce-model", default=DEFAULT_CROSS_ENCODER, help="the cross-encoder to start from")
    training.add_argument("--max-queries", type=int, help="use the first N judged queries only")
    training.add_argument("--epochs", type=int, default=3)
    training.add_argument("--lr", type=float, default=2e-5)
    training.add_argument("--batch-size", type=int, default=16)
    training.add_argument("--loss", choices=["bce", "listnet"], default="bce")
    training.add_argument("--heldout-fraction", type=float, default=0.2)
    training.add_argument("--seed", type=int, default=12)
    training.set_defaults(run=cmd_train)

    bench = commands.add_parser("bench", help="reranking and indexing speed: the seed's code path vs each backend")
    bench.add_argument("--datasets", nargs="+", default=["med", "scifact"], help="names in ../shared/datasets, or folders")
    bench.add_argument("--ce-model", default=DEFAULT_CROSS_ENCODER)
    bench.add_argument("--bi-model", default=DEFAULT_BI_ENCODER)
    bench.add_argument("--backends", nargs="+", choices=list(BACKENDS), default=list(BACKENDS),
                       help="cross-encoder backends to compare with the seed")
    bench.add_argument("--bi-backends", nargs="+", choices=list(BACKENDS), default=list(BACKENDS),
                       help="bi-encoder backends whose indexing speed to compare with the seed's")
    bench.add_argument("--sizes", nargs="+", type=int, default=[10, 100, 1000])
    bench.add_argument("--repeats", type=int, default=5)
    bench.add_argument("--quality-queries", type=int, default=30)
    bench.add_argument("--csv", default="bench/results/rerank_speed.csv")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (CorpusError, ModelError, SearchError, LabelError, OSError, ValueError) as err:  # TrainingError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
