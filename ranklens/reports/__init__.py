"""Reports: the one-file HTML report of a comparison, and the Vega-Lite specifications of its charts.

`charts` (the specifications, shared with the app), `report` (one self-contained HTML file, no
script and no network). May import: every room above it (base to evaluation).
"""
