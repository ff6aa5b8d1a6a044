"""`ranklens explain`: why a document ranks where it does for a query, word by word (occlusion)."""

from __future__ import annotations

import argparse
import json

from ranklens.cli import common
from ranklens.ranking.explain import DEFAULT_WORDS, explain
from ranklens.ranking.search import SearchError


def register(commands) -> None:
    """Add `ranklens explain` and its options to the subcommands."""
    parser = common.searching_parser(
        commands,
        "explain",
        "each word's contribution to a document's cross-encoder and bi-encoder scores, and why it moved",
    )
    parser.add_argument("--query", required=True)
    parser.add_argument("--doc", required=True, help="the document's id")
    parser.add_argument("--words", type=int, default=DEFAULT_WORDS, help="how many of the passage's words to measure")
    parser.add_argument("--top-k", type=int, default=10, help="the shift is counted against this top-k")
    parser.add_argument("--json", action="store_true", help="tokens with their contributions, the scores, the models")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens explain` with the parsed options."""
    corpus = common.load_corpus(args)
    if args.doc not in corpus:
        raise SearchError(f"no document {args.doc!r} in {corpus.name}")
    searcher = common.searcher(args, corpus)
    result = searcher.search(
        args.query, top_n=args.top_n, alpha=args.alpha, fusion_method=args.fusion, ce_passages=args.ce_passages
    )
    candidate = next((c for c in result.candidates if c.doc_id == args.doc), None)
    passage = candidate.passage if candidate else searcher.passages.text(searcher.passages.of_id(args.doc).start)
    shift = result.shift(candidate, "ce", args.top_k) if candidate else None
    bi_encoder = common.embedder(args)
    found = explain(
        searcher.reranker, bi_encoder, result.query, args.doc, passage, args.words, shift, args.ce_max_tokens
    )
    if args.json:
        ranks = (
            {"bi": candidate.bi_rank, "ce": candidate.ce_rank, "hybrid": candidate.hybrid_rank} if candidate else None
        )
        print(json.dumps({**found.as_json(), "ranks": ranks, "first_stage": result.first_stage}, ensure_ascii=False))
        return
    where = (
        f"first stage rank {candidate.bi_rank}, reranked {candidate.ce_rank}"
        if candidate
        else f"not in the first stage's top {args.top_n}"
    )
    print(f"{corpus.get(args.doc).title or args.doc} ({where})")
    print(found.summary)
    print(
        f"cross-encoder {found.model}: logit {found.score:.3f}; bi-encoder {found.bi_model}: cosine "
        f"{found.bi_score:.3f}; the cross-encoder read {found.window_end} of {len(found.passage)} characters"
    )
    measured = [t for t in found.tokens if t.contribution is not None]
    print(f"{'word':<24} {'cross-encoder':>13} {'bi-encoder':>11}")
    for token in sorted(measured, key=lambda t: -abs(t.contribution))[:15]:
        mark = "*" if token.query_term else ""
        print(f"{(token.text + mark)[:24]:<24} {token.contribution:>+13.3f} {token.bi_contribution:>+11.4f}")
