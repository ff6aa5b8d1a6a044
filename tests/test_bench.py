"""The bench's share of the peak: the FLOPs it counts for a reranking, the rate and the share it gives each
implementation, and the peak it takes from two measurements."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import AutoModelForSequenceClassification

from ranklens.speed.bench import SEED, candidate_pairs, with_achieved_rates, with_peak_shares
from ranklens.speed.peak import best_peaks, reranker_flops


def test_the_counted_flops_are_what_torch_counts_in_the_cross_encoders_forward_pass(reranker, adi):
    pairs = candidate_pairs(adi.queries[next(iter(adi.queries))], [d.full_text for d in adi.documents[:12]], 20)
    encoded, _ = reranker.tokenize(pairs)
    batch = {name: torch.as_tensor(values) for name, values in reranker.model.tokenizer.pad(encoded).items()}
    # eager attention: torch's counter does not see inside the fused attention (sdpa) on the CPU
    model = AutoModelForSequenceClassification.from_pretrained(reranker.name, attn_implementation="eager")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        for row in range(len(pairs)):  # one pair at a time: padding would add work the count leaves out
            length = int(batch["attention_mask"][row].sum())
            model(**{name: values[row : row + 1, :length] for name, values in batch.items()})
    assert reranker_flops(reranker, pairs) == pytest.approx(counter.get_total_flops(), rel=0.001)


def test_each_latency_row_gets_the_rate_it_reached_and_its_share_of_the_peak_of_the_precision_it_computes_in():
    rows = [
        {"implementation": SEED, "measure": "latency, 100 candidates (ms)", "value": 2000.0},
        {"implementation": "ranklens torch-bf16", "measure": "latency, 100 candidates (ms)", "value": 500.0},
        {"implementation": "ranklens openvino-int8-static", "measure": "latency, 100 candidates (ms)", "value": 250.0},
        {"implementation": "ranklens torch-bf16", "measure": "pairs/s, 100 candidates", "value": 200.0},
        {"implementation": "ranklens torch-bf16", "measure": "latency, 10 candidates (ms)", "value": 50.0},
    ]
    precisions = {SEED: "fp32", "ranklens torch-bf16": "bf16", "ranklens openvino-int8-static": "int8"}
    rated = with_achieved_rates(rows, 100, 1e11, precisions)
    assert [row.get("GFLOP/s") for row in rated] == [
        pytest.approx(50),
        pytest.approx(200),
        pytest.approx(400),
        None,
        None,
    ]
    shared = with_peak_shares(rated, {"fp32": 200.0, "bf16": 800.0, "int8": None})
    assert [row.get("share of peak") for row in shared] == [pytest.approx(0.25), pytest.approx(0.25), None, None, None]
    assert all("share of peak" not in row for row in rated) and all("GFLOP/s" not in row for row in rows), (
        "the rows given stay as they were"
    )


def test_the_peak_is_the_better_of_the_measurements_before_and_after_a_run():
    before = {"fp32": 139.0, "bf16": 426.0, "int8": None}
    after = {"fp32": 184.0, "bf16": 372.0, "int8": None}
    assert best_peaks(before, after) == {"fp32": 184.0, "bf16": 426.0, "int8": None}
