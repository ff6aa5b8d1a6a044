"""ONNX Runtime as a backend: our own `torch.onnx.export` of the model, fp32 or dynamically quantized to int8.

sentence-transformers' `backend="onnx"` needs optimum, whose releases conflict with the pinned
transformers/torch, so the export is done here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ranklens.backends.cpu import cpu_cores
from ranklens.backends.registry import Forward

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def export_onnx(module, tokenizer, pair: bool, target: Path) -> None:
    """Write `module` as an ONNX graph with dynamic batch and sequence axes, its weights in a file beside it
    (`target` + ".data"), which ONNX Runtime maps into memory rather than copying out of the graph file.

    Args:
        module: the transformers model whose first output is wanted (logits, or token embeddings).
        tokenizer: its tokenizer, for a sample input naming the model's inputs.
        pair: the model reads (query, passage) pairs (a cross-encoder) rather than single texts.
        target: the .onnx file to write.
    """
    import torch

    sample = (
        tokenizer(["query"], ["passage text"], return_tensors="pt")
        if pair
        else tokenizer(["text"], return_tensors="pt")
    )
    names = [n for n in MODEL_INPUTS if n in sample]

    class FirstOutput(torch.nn.Module):
        """Inputs by name: a bare BertModel takes other arguments positionally, which the tracer would hit."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = module.eval()

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs)))[0]

    output = "logits" if pair else "token_embeddings"
    axes = {0: "batch"} if pair else {0: "batch", 1: "sequence"}
    # The tracer warns about Python booleans and advanced indexing in transformers' masking code at every export;
    # the exported graph is checked against torch by the tests (scores and embeddings), so the warnings are noise.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            FirstOutput().eval(),
            tuple(sample[n] for n in names),
            str(target),
            input_names=names,
            output_names=[output],
            dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, output: axes},
            opset_version=OPSET,
            dynamo=False,
        )
    keep_weights_beside(target)


def keep_weights_beside(target: Path) -> None:
    """Move an ONNX file's weights into `target` + ".data": ONNX Runtime maps them instead of copying them out of the
    graph, so the query encoder's session, on the way to a new query's first results, is made in half the time."""
    import onnx

    model = onnx.load(str(target))
    onnx.save_model(
        model,
        str(target),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=f"{target.name}.data",
        size_threshold=1024,  # the weight matrices and embeddings; shapes and small constants stay in the graph
    )


def quantize_dynamic_int8(source: Path, target: Path) -> None:
    """ONNX Runtime's dynamic quantization: int8 weights, activations quantized per batch at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)


def onnx_forward(path: Path) -> Forward:
    """An ONNX Runtime session on the CPU, one intra-op thread per core, as a forward pass."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = cpu_cores()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    return lambda feed: session.run(None, {n: v for n, v in feed.items() if n in names})[0]
