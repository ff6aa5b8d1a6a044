"""The rank-flow chart and the heat strips are plain Vega-Lite specifications (no altair checks them as they are
drawn): they must stay ones that Vega-Lite's schema accepts, the rank flow with the point selection the app reads
clicks from."""

from __future__ import annotations

import altair as alt
import pytest
from jsonschema import ValidationError

from ranklens.reports.charts import FLOW_STAGES, PICK, heat_strip, rank_flow

ROWS = [
    {"doc_id": d, "title": f"title {d}", "stage": s, "rank": r, "drawn at": min(r, 4), "score": 0.5, "movement": m}
    for d, m, ranks in (("a", "down", (1, 2, 2)), ("b", "up", (2, 1, 1)), ("c", "new", (7, 3, 3)))
    for s, r in zip(FLOW_STAGES, ranks)
]


def test_the_rank_flow_is_valid_vega_lite_with_the_pick_selection_on_its_points():
    spec = rank_flow(top_k=3, height=250) | {"data": {"values": ROWS}}
    chart = alt.LayerChart.from_dict(spec)  # validates against the Vega-Lite schema altair ships
    (param,) = spec["params"]
    assert param["name"] == PICK and param["select"] == {"type": "point", "fields": ["doc_id"], "on": "click"}
    assert param["views"] == [spec["layer"][1]["name"]] and spec["layer"][1]["mark"]["type"] == "circle"
    assert spec["layer"][0]["encoding"]["y"]["scale"]["domain"] == [4, 1], "ranks past the top-k drawn at top-k + 1"
    assert chart.to_dict()["height"] == 250


def test_a_broken_specification_is_caught_by_that_check():
    spec = rank_flow(top_k=3) | {"data": {"values": ROWS}}
    spec["layer"][0]["encoding"]["y"]["type"] = "rank"  # not a Vega-Lite type
    with pytest.raises(ValidationError, match="'rank' is not one of"):
        alt.LayerChart.from_dict(spec)


def test_the_heat_strip_is_valid_vega_lite_with_a_scale_centred_on_zero():
    rows = [{"position": i, "word": w, "contribution": c} for i, (w, c) in enumerate([("a", 0.2), ("b", -0.4)])]
    spec = heat_strip(0.4) | {"data": {"values": rows}}
    alt.Chart.from_dict(spec)
    assert spec["encoding"]["color"]["scale"]["domain"] == [-0.4, 0, 0.4]
