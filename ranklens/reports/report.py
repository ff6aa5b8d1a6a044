"""One-file reports: what a comparison of rankers found, as a single HTML file that opens offline anywhere.

Everything is inside the file: the styles inline, the charts as SVG images in data URLs (drawn by
vl-convert from the same Vega-Lite specifications the app shows), no script at all, and a
Content-Security-Policy that forbids scripts and every fetch, so even a browser that is online
fetches nothing. Every piece of corpus text goes through `html.escape` (pandas' `to_html`
escapes its cells too); an SVG in an <img> cannot run a script either.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import median

import pandas as pd

from ranklens.evaluation.alpha import cross_validated_alpha
from ranklens.evaluation.evaluate import Evaluation, judged, significance
from ranklens.evaluation.queryset import disagreement
from ranklens.labelling.export import csv_text
from ranklens.ranking.compare import agreement
from ranklens.ranking.results import SearchResult
from ranklens.reports import charts

MAX_DETAILED = 50  # queries shown in full (rankings and chart); the table of every query comes first
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1180px;
       padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.meta, .note { color: #57606a; font-size: .9rem; }
.up { color: #2e7d32; } .down { color: #c62828; } .new { color: #1565c0; }
.side { display: flex; gap: 1.5rem; align-items: flex-start; flex-wrap: wrap; }
img.chart { max-width: 100%; }
"""


@dataclass(frozen=True)
class ReportInput:
    """What a report shows: the corpus, the settings, one search per query and the judgements, if any."""

    corpus_name: str
    corpus_key: str
    settings: Mapping[str, object]  # models, backends, first stage, top-N, alpha, fusion ...
    results: Mapping[str, SearchResult]  # query id -> result, in the report's order
    top_k: int = 10
    qrels: Mapping[str, Mapping[str, int]] | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


def comparison_rows(results: Mapping[str, SearchResult], top_k: int) -> list[dict]:
    """Every document of any ranker's top-k per query: each ranker's rank and score, and the shifts."""
    rows = []
    for query_id, result in results.items():
        shown = {c.doc_id for r in ("bi", "ce", "hybrid") for c in result.ranking(r)[:top_k]}
        for c in sorted((c for c in result.candidates if c.doc_id in shown), key=lambda c: c.ce_rank):
            rows.append(
                {
                    "query_id": query_id,
                    "query": result.query,
                    "doc_id": c.doc_id,
                    "title": c.title,
                    "first_stage": result.first_label,
                    "first_rank": c.bi_rank,
                    "first_score": round(c.bi_score, 6),
                    "reranked_rank": c.ce_rank,
                    "reranked_shift": result.shift(c, "ce", top_k).label,
                    "ce_logit": round(c.ce_score, 6),
                    "hybrid_rank": c.hybrid_rank,
                    "hybrid_shift": result.shift(c, "hybrid", top_k).label,
                    "hybrid_score": round(c.hybrid_score, 6),
                }
            )
    return rows


def comparison_csv(results: Mapping[str, SearchResult], top_k: int) -> str:
    """The comparison as CSV text: a row per (query, document) of any ranker's top-k."""
    rows = comparison_rows(results, top_k)
    return csv_text(rows, list(rows[0]) if rows else ["query_id", "doc_id"])


def svg_image(spec: dict, alt_text: str) -> str:
    """A chart's Vega-Lite specification as an <img> of its SVG in a data URL: drawn now, without a script, and
    unable to run one."""
    import vl_convert  # a renderer of its own, needed only when a report is written

    svg = vl_convert.vegalite_to_svg(spec)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="chart" alt="{html.escape(alt_text)}" src="data:image/svg+xml;base64,{data}">'


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _frame(frame: pd.DataFrame, digits: int = 4, index: bool = True) -> str:
    return frame.to_html(escape=True, float_format=lambda x: f"{x:.{digits}f}", index=index, border=0, na_rep="—")


def _settings(report: ReportInput) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in report.settings.items())
    return f"<h2>Settings</h2><table>{rows}</table>"


def _metrics(report: ReportInput) -> str:
    """Metrics, the alpha sweep and the significance verdicts, over the report's judged queries."""
    qrels = judged({q: dict(d) for q, d in (report.qrels or {}).items() if q in report.results})
    if not qrels:
        return "<h2>Metrics</h2><p class=note>No judged query in this report: metrics need judgements.</p>"
    evaluation = Evaluation({q: report.results[q] for q in qrels}, qrels)
    counted = f"{len(qrels)} judged {'query' if len(qrels) == 1 else 'queries'}"
    parts = [f"<h2>Metrics</h2><p class=note>{counted}; nDCG with linear gain (trec_eval's).</p>"]
    parts.append(_frame(evaluation.table()))
    if len(qrels) >= 2:
        choice = cross_validated_alpha(evaluation)
        parts.append(
            svg_image(charts.alpha_sweep(evaluation.sweep(), choice).properties(width=640).to_dict(), "alpha sweep")
        )
        parts.append(
            f"<p>Best alpha on these queries {choice.in_sample_alpha:.2f} (nDCG@10 {choice.in_sample:.4f}, "
            f"optimistic); cross-validated over {choice.folds} folds {choice.cross_validated_alpha:.2f} "
            f"(held-out nDCG@10 {choice.cross_validated:.4f}).</p>"
        )
        per_query = evaluation.per_query("ndcg@10")
        first = evaluation.labels["bi"]
        verdicts = [significance(per_query, other, first).verdict for other in ("reranked", "hybrid")]
        parts.append("<ul>" + "".join(f"<li>{_e(v)}</li>" for v in verdicts) + "</ul>")
    return "".join(parts)


def _query_table(report: ReportInput) -> str:
    frame = disagreement(report.results, {q: dict(d) for q, d in (report.qrels or {}).items()})
    return f"<h2>Queries, most disagreement first</h2>{_frame(frame, 3, index=False)}"


def _cell(result: SearchResult, candidate, ranker: str, top_k: int) -> str:
    moved = result.shift(candidate, ranker, top_k).label if ranker != "bi" else ""
    kind = "new" if moved == "new" else "up" if moved.startswith("▲") else "down" if moved.startswith("▼") else ""
    title = candidate.title or candidate.text[:90]
    shift = f'<span class="{kind}">{_e(moved)}</span> ' if moved and moved != "=" else ""
    return (
        f"<td>{shift}{_e(title)} <span class=meta>({_e(candidate.doc_id)}, {candidate.score(ranker):.3f})</span></td>"
    )


def _query_section(result: SearchResult, top_k: int) -> str:
    headers = ("#", result.first_label, "reranked (CE logit)", f"hybrid (alpha {result.alpha:.2f})")
    rankings = [result.ranking(r)[:top_k] for r in ("bi", "ce", "hybrid")]
    body = "".join(
        f"<tr><td>{i + 1}</td>"
        + "".join(
            _cell(result, rankings[j][i], r, top_k) if i < len(rankings[j]) else "<td></td>"
            for j, r in enumerate(("bi", "ce", "hybrid"))
        )
        + "</tr>"
        for i in range(max(map(len, rankings)))
    )
    first, reranked = [c.doc_id for c in result.ranking("bi")], [c.doc_id for c in result.ranking("ce")]
    measured = agreement(first, reranked, top_k)
    t = result.timings
    flow = charts.rank_flow(top_k, 300) | {
        "width": 360,
        "data": {"values": charts.rank_flow_data(result, top_k).to_dict("records")},
    }
    return (
        f"<h2>Query: {_e(result.query)}</h2><div class=side><table><tr>"
        + "".join(f"<th>{_e(h)}</th>" for h in headers)
        + f"</tr>{body}</table>{svg_image(flow, 'rank flow')}</div>"
        f"<p class=note>{_e(result.first_label)} against reranked: overlap@{top_k} {measured.overlap}, Jaccard "
        f"{measured.jaccard:.3f}, RBO {measured.rbo:.3f}, Kendall's tau {measured.kendall_tau:.3f}. Time: embed "
        f"{t.embed_ms:.0f} ms, first stage {t.search_ms:.1f} ms, cross-encoder {t.rerank_ms:.0f} ms "
        f"({t.pairs_scored} pairs scored, {t.pairs_cached} cached).</p>"
    )


def _latency(report: ReportInput) -> str:
    timings = [r.timings for r in report.results.values()]
    if not timings:
        return ""
    cells = {
        "query embed": [t.embed_ms for t in timings],
        "first stage": [t.search_ms for t in timings],
        "cross-encoder": [t.rerank_ms for t in timings],
        "total": [t.total_ms for t in timings],
    }
    rows = "".join(
        f"<tr><th>{_e(k)}</th><td>{median(v):.1f} ms</td><td>{max(v):.1f} ms</td></tr>" for k, v in cells.items()
    )
    return (
        f"<h2>Latency</h2><table><tr><th></th><th>median</th><th>slowest</th></tr>{rows}</table>"
        f"<p class=note>Over {len(timings)} searches; a cross-encoder score found in the score cache costs "
        "nothing, so a repeated query is faster.</p>"
    )


def build_html(report: ReportInput) -> str:
    """The whole report as one self-contained HTML document."""
    sections = [_settings(report), _metrics(report)]
    if len(report.results) > 1:
        sections.append(_query_table(report))
    detailed = list(report.results.values())[:MAX_DETAILED]
    if len(report.results) > MAX_DETAILED:
        sections.append(f"<p class=note>The first {MAX_DETAILED} of {len(report.results)} queries in full.</p>")
    sections += [_query_section(result, report.top_k) for result in detailed]
    sections.append(_latency(report))
    made = report.created.strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        f"<title>RankLens report: {_e(report.corpus_name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>RankLens report: {_e(report.corpus_name)}</h1>"
        f"<p class=meta>Made {_e(made)} · corpus {_e(report.corpus_key)} · {len(report.results)} "
        f"quer{'y' if len(report.results) == 1 else 'ies'}</p>" + "".join(sections) + "</body></html>"
    )
