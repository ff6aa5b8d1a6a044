"""The app's server, as `make run` starts it: `streamlit run serve.py` serves app.py (which `streamlit run app.py`
also serves), and while the browser is still loading Streamlit's own page it imports the page's modules, so the
first script run finds them (0.6–0.8 s of imports on a 2-core machine).

It loads no model: the page loads the ones its query needs. Making the default models ready here as well (the query
encoder and the cross-encoder's export, about 0.75 s on a 2-core Zen 4) ran beside Chromium's page load and the
first script run on the same two cores, and made every first page slower, a new query's too (README, "Start-up,
warm-up and the score cache")."""

import contextlib
import importlib
import pkgutil
import threading

import streamlit as st
from streamlit.components.v2.component_manager import BidiComponentManager

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


def skip_the_component_scan() -> None:
    """Keep Streamlit from reading every installed package's metadata for custom components as the server starts:
    RankLens uses none, and on a 2-core machine the scan of this environment's ~120 packages holds the server's first
    answer back by 0.12 s (README, "Start-up, warm-up and the score cache"). tests/test_serve.py checks that the scan
    finds nothing here, so a component package installed later fails that test rather than going missing."""
    if callable(getattr(BidiComponentManager, "discover_and_register_components", None)):
        BidiComponentManager.discover_and_register_components = lambda self, **_: None


@contextlib.asynccontextmanager
async def _prepare_in_the_background(_app):
    # a thread: the server must listen at once, and the browser takes a second or more to load the page anyway
    threading.Thread(target=import_page_modules, name="prepare-first-page", daemon=True).start()
    yield


skip_the_component_scan()
app = st.App("app.py", lifespan=_prepare_in_the_background)
