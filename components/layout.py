"""Page layout: less empty space above the tabs, so ten ranks of every ranker fit on a 1000-px-high screen, and
side-by-side panels that stack on a narrow one."""

from __future__ import annotations

import streamlit as st

SIDE_BY_SIDE = "side_by_side"  # the key of a container whose columns stack on a narrow screen

# Streamlit's main block starts about 6rem down; the comparison needs that height more than the margin does.
# Under 1300 px the comparison table and the rank-flow chart each need the full width. Our own fixed
# stylesheet, no corpus text in it.
# The Label tab keeps the grade controls of the pairs it showed last in this hidden container (components.judging_panel)
LATE_KEYS = "label_late_keys"
_STYLE = f"""
<style>
.stMainBlockContainer, .block-container {{ padding-top: 4rem; padding-bottom: 2rem; }}
.st-key-{LATE_KEYS} {{ display: none; }}
@media (max-width: 1300px) {{
  .st-key-{SIDE_BY_SIDE} [data-testid="stColumn"] {{ min-width: 100%; }}
}}
</style>
"""


def compact_page() -> None:
    st.html(_STYLE)
