"""Index panel: embeds the corpus with a progress bar, or loads it from the disk cache at once."""

from __future__ import annotations

import streamlit as st

from components import resources
from ranklens.corpus import Corpus
from ranklens.index import CorpusIndex, build_index
from ranklens.models import ModelError

INDEX = "index"
INDEX_FOR = "index_for"


def render(corpus: Corpus, bi_model: str) -> CorpusIndex | None:
    wanted = (corpus.content_hash(), bi_model)
    if st.session_state.get(INDEX_FOR) != wanted:
        try:
            embedder = resources.embedder(bi_model)
        except ModelError as err:
            st.error(str(err))
            return None
        bar = st.progress(0.0, text="Indexing…")

        def report(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Embedding passages: {done} of {total}")

        st.session_state[INDEX] = build_index(corpus, embedder, progress=report)
        st.session_state[INDEX_FOR] = wanted
        bar.empty()
    index: CorpusIndex = st.session_state[INDEX]
    how = "loaded from the disk cache" if index.from_cache else "embedded"
    st.caption(f"Index: {index.doc_count} documents, {index.passage_count} passages ({how} in {index.seconds:.1f} s) "
               f"with {index.model_name}")
    return index
