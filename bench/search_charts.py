"""What the Search tab's charts cost each of its runs: the rank flow and the two heat strips of "Why it moved", drawn
from their plain Vega-Lite specifications (ranklens.reports.charts.rank_flow and heat_strip, as the app does) against the
same charts built with altair (as the app did until 2026-12-03, kept here as the baseline).

    python bench/search_charts.py [--runs 30]

Each kind is drawn by a Streamlit script run (streamlit.testing's AppTest, in this process) with the three charts
alone on the page: the rows of a top-10 of the built-in `python` corpus (its documents' titles, ranks that move)
and a strip of the first (up to 64) words of its first document, once to warm up and then --runs times, the two kinds in turn.
Prints the median time of a run of each and their ratio. Every rerun of the Search tab draws these charts: a new
query, an alpha move, a grade clicked in the cards.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranklens.backends.cpu import cpu_cores, cpu_name
from ranklens.corpus.loading import load_builtin
from ranklens.reports.charts import FLOW_STAGES, movement

TOP_K = 10


def flow_rows(top_k: int = TOP_K) -> list[dict]:
    """rank_flow_data's rows for a top-k of the python corpus: each document's first-stage rank reversed by the
    reranker and shifted by the hybrid, so the lines cross as they do after a reranking."""
    documents = list(load_builtin("python").documents)[: top_k + 3]
    rows = []
    for i, doc in enumerate(documents, start=1):
        ranks = (i, len(documents) + 1 - i, (i + 3) % len(documents) + 1)
        for stage, rank in zip(FLOW_STAGES, ranks):
            rows.append(
                {
                    "doc_id": doc.id,
                    "title": (doc.title or doc.text)[:80],
                    "stage": stage,
                    "rank": rank,
                    "drawn at": min(rank, top_k + 1),
                    "score": 1.0 / rank,
                    "movement": movement(ranks[0], ranks[1], top_k),
                }
            )
    return rows


def strip_rows() -> list[dict]:
    """A heat strip's rows: the first (up to 64) words of the corpus's first document, contributions of either sign."""
    words = next(iter(load_builtin("python").documents)).text.split()[:64]
    return [{"position": i, "word": w, "contribution": ((i * 7) % 11 - 5) / 10} for i, w in enumerate(words)]


def draw_spec(rows: list[dict], top_k: int, strip: list[dict]) -> None:
    import pandas as pd
    import streamlit as st

    from ranklens.reports.charts import PICK, heat_strip, rank_flow

    spec = rank_flow(top_k, 230)
    st.vega_lite_chart(
        pd.DataFrame(rows), spec, width="stretch", on_select="rerun", selection_mode=PICK, key="rank_flow"
    )
    for _ in range(2):  # the cross-encoder's and the bi-encoder's
        frame = pd.DataFrame(strip)
        st.vega_lite_chart(frame, heat_strip(float(frame["contribution"].abs().max())), width="stretch")


def draw_altair(rows: list[dict], top_k: int, strip: list[dict]) -> None:
    import altair as alt
    import pandas as pd
    import streamlit as st

    from ranklens.reports.charts import FLOW_STAGES, MOVEMENT_COLOURS, PICK

    pick = alt.selection_point(fields=["doc_id"], name=PICK, on="click")
    colour = alt.Color(
        "movement:N",
        scale=alt.Scale(domain=list(MOVEMENT_COLOURS), range=list(MOVEMENT_COLOURS.values())),
        legend=alt.Legend(orient="bottom", title=None),
    )
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("stage:N", sort=FLOW_STAGES, title=None, axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y(
            "drawn at:Q",
            scale=alt.Scale(domain=[top_k + 1, 1]),
            title="rank",
            axis=alt.Axis(values=list(range(1, top_k + 1)), tickMinStep=1),
        ),
        detail="doc_id:N",
        color=colour,
        tooltip=["title:N", "stage:N", "rank:Q", alt.Tooltip("score:Q", format=".3f"), "doc_id:N"],
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
    )
    chart = (base.mark_line(strokeWidth=3) + base.mark_circle(size=120).add_params(pick)).properties(height=230)
    st.altair_chart(chart, width="stretch", on_select="rerun", selection_mode=PICK, key="rank_flow")
    for _ in range(2):
        frame = pd.DataFrame(strip)
        largest = float(frame["contribution"].abs().max())
        heat = (
            alt.Chart(frame)
            .mark_rect()
            .encode(
                x=alt.X("position:O", axis=None),
                color=alt.Color(
                    "contribution:Q",
                    scale=alt.Scale(domain=[-largest, 0, largest], range=["#c62828", "#f5f5f5", "#2e7d32"]),
                    legend=None,
                ),
                tooltip=["word:N", alt.Tooltip("contribution:Q", format="+.3f")],
            )
            .properties(height=40)
        )
        st.altair_chart(heat, width="stretch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    rows, strip = flow_rows(), strip_rows()
    apps = {
        "altair (the app until 2026-12-03)": AppTest.from_function(draw_altair, args=(rows, TOP_K, strip)),
        "plain specifications (ranklens.reports.charts)": AppTest.from_function(draw_spec, args=(rows, TOP_K, strip)),
    }
    times: dict[str, list[float]] = {name: [] for name in apps}
    for app in apps.values():
        app.run()
        assert not app.exception, app.exception
    for _ in range(args.runs):
        for name, app in apps.items():
            started = time.perf_counter()
            app.run()
            times[name].append(time.perf_counter() - started)
    baseline = statistics.median(next(iter(times.values())))
    print(
        f"The Search tab's charts, a Streamlit script run drawing them alone (rank flow of {len(rows)} rows, top-{TOP_K}; "
        f"two heat strips of {len(strip)} words), "
        f"{cpu_name()} ({cpu_cores()} cores); medians of {args.runs} runs, taken in turn"
    )
    print(f"{'chart':<40} {'ms per run':>11} {'vs altair':>10}")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"{name:<40} {median * 1000:>11.1f} {baseline / median:>9.2f}x")


if __name__ == "__main__":
    main()
