"""Error-surface lab: entry point. Page config and navigation only."""
import streamlit as st

st.set_page_config(page_title="Error-surface lab", page_icon="⛰️", layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/playground.py", title="Playground", icon=":material/sports_score:", url_path="playground"),
]

st.navigation(PAGES).run()
