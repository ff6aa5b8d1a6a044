"""Charts as Vega-Lite specifications, shared by the app and the one-file report: the rank flow of a query and the
heat strip of an explanation (plain specifications), and the alpha sweep with its in-sample and cross-validated picks
(built with altair)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ranklens.corpus.textclean import one_line
from ranklens.evaluation.alpha import AlphaChoice
from ranklens.ranking.results import SearchResult

if TYPE_CHECKING:
    import altair as alt

FLOW_STAGES = ["first stage", "reranked", "hybrid"]
MOVEMENT_COLOURS = {"up": "#2e7d32", "down": "#c62828", "new": "#1565c0", "same": "#9e9e9e"}
PICK = "pick"  # the rank-flow chart's point selection: the document clicked
VEGA_LITE = "https://vega.github.io/schema/vega-lite/v6.json"  # the schema the plain specifications follow


def movement(first_rank: int, reranked_rank: int, top_k: int) -> str:
    """How a document moved when reranked: up, down, same, or new (from below the first stage's top-k)."""
    if first_rank > top_k:
        return "new"
    return "up" if reranked_rank < first_rank else "down" if reranked_rank > first_rank else "same"


def _short(text: str, limit: int = 80) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def rank_flow_data(result: SearchResult, top_k: int) -> pd.DataFrame:
    """Long form: a row per document and stage, ranks past the top-k drawn at top-k + 1 ("below")."""
    shown = {c.doc_id for r in ("bi", "ce", "hybrid") for c in result.ranking(r)[:top_k]}
    rows = []
    for c in (c for c in result.candidates if c.doc_id in shown):
        move = movement(c.bi_rank, c.ce_rank, top_k)
        for stage, rank, score in zip(
            FLOW_STAGES, (c.bi_rank, c.ce_rank, c.hybrid_rank), (c.bi_score, c.ce_score, c.hybrid_score)
        ):
            rows.append(
                {
                    "doc_id": c.doc_id,
                    "title": _short(c.title or c.text),
                    "stage": stage,
                    "rank": rank,
                    "drawn at": min(rank, top_k + 1),
                    "score": score,
                    "movement": move,
                }
            )
    return pd.DataFrame(rows)


def _flow_layer(mark: dict, top_k: int) -> dict:
    return {
        "mark": mark,
        "encoding": {
            "x": {
                "field": "stage",
                "type": "nominal",
                "sort": FLOW_STAGES,
                "title": None,
                "axis": {"labelAngle": 0, "orient": "top"},
            },
            "y": {
                "field": "drawn at",
                "type": "quantitative",
                "scale": {"domain": [top_k + 1, 1]},
                "title": "rank",
                "axis": {"values": list(range(1, top_k + 1)), "tickMinStep": 1},
            },
            "detail": {"field": "doc_id", "type": "nominal"},
            "color": {
                "field": "movement",
                "type": "nominal",
                "scale": {"domain": list(MOVEMENT_COLOURS), "range": list(MOVEMENT_COLOURS.values())},
                "legend": {"orient": "bottom", "title": None},
            },
            "tooltip": [
                {"field": "title", "type": "nominal"},
                {"field": "stage", "type": "nominal"},
                {"field": "rank", "type": "quantitative"},
                {"field": "score", "type": "quantitative", "format": ".3f"},
                {"field": "doc_id", "type": "nominal"},
            ],
            "opacity": {"condition": {"param": PICK, "value": 1.0}, "value": 0.35},
        },
    }


def rank_flow(top_k: int, height: int = 300) -> dict:
    """The rank flow of rank_flow_data's rows as a Vega-Lite specification, its data apart: one line per document
    across the stages, coloured by how it moved; clicking a point selects it (PICK).

    Written as the specification itself rather than built with altair: altair checks every channel against the
    Vega-Lite schema each time a chart is made, which cost every rerun of the Search tab about ten times as much
    (docs/performance.md)."""
    points = {**_flow_layer({"type": "circle", "size": 120}, top_k), "name": "points"}
    return {
        "$schema": VEGA_LITE,
        "height": height,
        "layer": [_flow_layer({"type": "line", "strokeWidth": 3}, top_k), points],
        "params": [
            {"name": PICK, "select": {"type": "point", "fields": ["doc_id"], "on": "click"}, "views": ["points"]}
        ],
    }


def heat_strip(largest: float, height: int = 40) -> dict:
    """One cell per word at its `position`, coloured by its `contribution` from red (-largest) through grey to green
    (+largest), the `word` on hover: a Vega-Lite specification, its data apart (a plain one, as rank_flow)."""
    return {
        "$schema": VEGA_LITE,
        "height": height,
        "mark": {"type": "rect"},
        "encoding": {
            "x": {"field": "position", "type": "ordinal", "axis": None},
            "color": {
                "field": "contribution",
                "type": "quantitative",
                "scale": {"domain": [-largest, 0, largest], "range": ["#c62828", "#f5f5f5", "#2e7d32"]},
                "legend": None,
            },
            "tooltip": [
                {"field": "word", "type": "nominal"},
                {"field": "contribution", "type": "quantitative", "format": "+.3f"},
            ],
        },
    }


def alpha_sweep(sweep: pd.DataFrame, choice: AlphaChoice) -> alt.LayerChart:
    """The hybrid's metrics against alpha, with the in-sample best and the cross-validated alpha marked."""
    import altair as alt  # imported when drawn: it takes 0.2 s, and the Search tab's charts do without it

    long_form = sweep.melt(id_vars="alpha", var_name="metric", value_name="value")
    lines = (
        alt.Chart(long_form)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "alpha:Q",
                title="alpha (first-stage weight; 0 = reranked, 1 = first stage)",
                axis=alt.Axis(format=".2f"),
            ),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(format=".3f")),
            color="metric:N",
            tooltip=["alpha", "metric", alt.Tooltip("value:Q", format=".4f")],
        )
    )
    marks = pd.DataFrame(
        {
            "alpha": [choice.in_sample_alpha, choice.cross_validated_alpha],
            "which": ["in-sample best (optimistic)", "cross-validated"],
        }
    )
    marker = (
        alt.Chart(marks)
        .mark_rule(strokeDash=[4, 4])
        .encode(x="alpha:Q", color=alt.Color("which:N", title=None), tooltip=["which", "alpha"])
    )
    return lines + marker
