"""The app's server, as `make run` starts it: `streamlit run serve.py` serves app.py (which `streamlit run app.py`
also serves), and while the browser is still loading Streamlit's own page it imports the page's modules and makes
the default models ready to run, so the first script run finds them (about a second of imports, and a second or
two of loading the query encoder and the cross-encoder's export, on this 2-core Xeon)."""

import contextlib
import importlib
import logging
import pkgutil
import threading

import streamlit as st

import components

# imported inside functions (or on first use) on the way to the first results: the corpus store, the model files in
# the hub cache, the page icon's emoji table, the styled tables and the data frames sent to the browser (~0.3 s here)
FIRST_RESULTS_NEED = (
    "pyarrow.parquet",
    "huggingface_hub.file_download",
    "streamlit.emojis",
    "pandas.io.formats.style",
    "pyarrow.pandas_compat",
)


def import_page_modules() -> None:
    """Every panel's module (and with them pandas, altair and the engine), then FIRST_RESULTS_NEED."""
    for module in pkgutil.iter_modules(components.__path__):
        importlib.import_module(f"components.{module.name}")
    for name in FIRST_RESULTS_NEED:
        importlib.import_module(name)


def warm_default_models() -> list[str]:
    """The default bi-encoder (torch fp32, the sidebar's default: its query encoder) and the default cross-encoder on
    the backend measured for it here, where that runs an export, made ready to run where this machine has loaded them
    before; returns the models made ready. A first start loads nothing here: the page measures the backends on the
    corpus's own pairs."""
    from ranklens.backends.calibration import cached_choice
    from ranklens.backends.registry import IN_TORCH
    from ranklens.models.files import fingerprint
    from ranklens.models.loading import (
        DEFAULT_BI_ENCODER,
        DEFAULT_CROSS_ENCODER,
        in_use,
        is_remembered,
        load_embedder,
        load_reranker,
    )

    choice = cached_choice(fingerprint(in_use(DEFAULT_CROSS_ENCODER)[0]))
    wanted = [("bi", DEFAULT_BI_ENCODER, "torch", load_embedder)]
    # Not a torch backend: importing torch holds the interpreter for 6-8 s here, and every first page would wait
    # behind it, a query whose scores are all cached too; that page loads torch itself where it needs it.
    if choice is not None and choice.backend not in IN_TORCH:
        wanted.append(("cross", DEFAULT_CROSS_ENCODER, choice.backend, load_reranker))
    ready = []
    for kind, name, backend, load in wanted:
        if is_remembered(kind, name, backend):
            load(name, backend=backend).ensure_runnable()
            ready.append(f"{name} ({backend})")
    return ready


def _prepare() -> None:
    import_page_modules()
    try:
        warm_default_models()
    except Exception as err:  # noqa: BLE001 - the page loads the same models itself and shows what went wrong
        logging.getLogger(__name__).warning("the default models were not made ready at start: %s", err)


@contextlib.asynccontextmanager
async def _prepare_in_the_background(_app):
    # a thread: the server must listen at once, and the browser takes a second or more to load the page anyway
    threading.Thread(target=_prepare, name="prepare-first-page", daemon=True).start()
    yield


app = st.App("app.py", lifespan=_prepare_in_the_background)
