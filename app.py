"""RankLens app entry point (the full app is built on the engine in ranklens/)."""

import streamlit as st

st.set_page_config(page_title="RankLens", layout="wide")
st.title("RankLens")
st.info("The app is under construction: use `python -m ranklens search|eval` meanwhile.")
