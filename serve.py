"""The app's server, as `make run` starts it: `streamlit run serve.py` serves app.py (which `streamlit run app.py`
also serves), and imports the page's modules while the browser is still loading Streamlit's own page, so the first
script run finds them imported (about a second of imports on this 2-core Xeon)."""

import contextlib
import importlib
import pkgutil
import threading

import streamlit as st

import components

# imported inside functions on the way to the first results: the corpus store and the model files in the hub cache
FIRST_RESULTS_NEED = ("pyarrow.parquet", "huggingface_hub")


def import_page_modules() -> None:
    """Every panel's module (and with them pandas, altair and the engine), then FIRST_RESULTS_NEED."""
    for module in pkgutil.iter_modules(components.__path__):
        importlib.import_module(f"components.{module.name}")
    for name in FIRST_RESULTS_NEED:
        importlib.import_module(name)


@contextlib.asynccontextmanager
async def _import_in_the_background(_app):
    # a thread: the server must listen at once, and the browser takes a second or more to load the page anyway
    threading.Thread(target=import_page_modules, name="import-page-modules", daemon=True).start()
    yield


app = st.App("app.py", lifespan=_import_in_the_background)
