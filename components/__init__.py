"""RankLens UI: one Streamlit panel per module, each with a render() function."""
