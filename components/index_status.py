"""Index panel: embeds the corpus with a progress bar, or loads it from the disk cache at once."""

from __future__ import annotations

import streamlit as st

from components import resources
from components.text import literal
from ranklens.backends.registry import MIN_INDEX_COSINE
from ranklens.corpus import Corpus
from ranklens.index import CorpusIndex, build_index
from ranklens.models.embedder import embedding_agreement
from ranklens.models.loading import ModelError

INDEX = "index"
INDEX_FOR = "index_for"
AGREEMENT_SAMPLE = 32  # passages embedded twice to measure a backend against fp32; about a second


@st.cache_data(show_spinner="Measuring the bi-encoder backend against torch fp32…")
def _agreement(index_key: str, bi_model: str, bi_backend: str, _texts: list[str]) -> tuple[float, float]:
    return embedding_agreement(resources.embedder(bi_model, bi_backend), resources.embedder(bi_model), _texts)


def render(corpus: Corpus, bi_model: str, bi_backend: str = "torch") -> CorpusIndex | None:
    wanted = (corpus.content_hash(), bi_model, bi_backend)
    try:
        embedder = resources.embedder(bi_model, bi_backend)
    except ModelError as err:
        st.error(str(err))
        return None
    if st.session_state.get(INDEX_FOR) != wanted:
        bar = st.progress(0.0, text="Indexing…")

        def report(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Embedding passages: {done} of {total}")

        st.session_state[INDEX] = build_index(corpus, embedder, progress=report)
        st.session_state[INDEX_FOR] = wanted
        bar.empty()
    index: CorpusIndex = st.session_state[INDEX]
    how = "loaded from the disk cache" if index.from_cache else "embedded"
    st.caption(
        f"Index: {index.doc_count} documents, {index.passage_count} passages ({how} in {index.seconds:.1f} s) "
        f"with {literal(index.model_name)} ({embedder.backend})"
    )
    if embedder.backend_note:
        st.warning(literal(embedder.backend_note))
    elif embedder.backend != "torch":
        lowest, mean = _agreement(index.key, bi_model, bi_backend, [p.text for p in index.passages[:AGREEMENT_SAMPLE]])
        measured = (
            f"Bi-encoder backend {embedder.backend}: cosine with torch fp32 embeddings of the first "
            f"{min(AGREEMENT_SAMPLE, index.passage_count)} passages, lowest {lowest:.4f}, mean {mean:.4f}"
        )
        if lowest < MIN_INDEX_COSINE:
            st.warning(
                f"{measured}, under {MIN_INDEX_COSINE}: this index may retrieve other documents than fp32's. "
                "torch or torch-bf16 keep the embeddings."
            )
        else:
            st.caption(measured + ".")
    return index
