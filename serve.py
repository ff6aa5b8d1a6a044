"""The app's server, as `make run` starts it: `streamlit run serve.py` serves app.py (which `streamlit run app.py` also
serves), and while the browser loads Streamlit's own page it imports the page's modules, so the first script run
finds them. It loads no model: the page loads the ones its query needs."""

import contextlib
import importlib
import pkgutil
import threading

import streamlit as st

import components

# imported inside functions (or on first use) on the way to the first results: the corpus store, where the hub cache
# is, the page icon's emoji table and the data frames sent to the browser
FIRST_RESULTS_NEED = (
    "pyarrow.parquet",
    "huggingface_hub.constants",
    "streamlit.emojis",
    "pyarrow.pandas_compat",
)


def import_page_modules() -> None:
    """Every panel's module (and with them pandas and the engine; altair is imported where its charts are drawn), then
    FIRST_RESULTS_NEED."""
    for module in pkgutil.iter_modules(components.__path__):
        importlib.import_module(f"components.{module.name}")
    for name in FIRST_RESULTS_NEED:
        importlib.import_module(name)


@contextlib.asynccontextmanager
async def _prepare_in_the_background(_app):
    # a thread: the server must listen at once, and the browser takes a second or more to load the page anyway
    threading.Thread(target=import_page_modules, name="prepare-first-page", daemon=True).start()
    yield


app = st.App("app.py", lifespan=_prepare_in_the_background)
