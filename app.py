"""Error-surface lab: entry point. Page config and navigation only."""
import streamlit as st

st.set_page_config(page_title="Error-surface lab", page_icon="⛰️", layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/playground.py", title="Playground", icon=":material/sports_score:", url_path="playground"),
    st.Page("app_pages/critical_points.py", title="Critical points", icon=":material/my_location:",
            url_path="critical_points"),
    st.Page("app_pages/momentum.py", title="Momentum", icon=":material/sports_baseball:", url_path="momentum"),
    st.Page("app_pages/batch_size.py", title="Batch size", icon=":material/stacks:", url_path="batch_size"),
    st.Page("app_pages/adaptive_lr.py", title="Adaptive learning rate", icon=":material/tune:",
            url_path="adaptive_learning_rate"),
    st.Page("app_pages/schedules.py", title="Schedules and warm-up", icon=":material/schedule:",
            url_path="schedules"),
    st.Page("app_pages/classification.py", title="Classification loss", icon=":material/category:",
            url_path="classification_loss"),
    st.Page("app_pages/normalization.py", title="Normalization", icon=":material/balance:",
            url_path="normalization"),
    st.Page("app_pages/network_lab.py", title="Network lab", icon=":material/hub:", url_path="network_lab"),
]

st.navigation(PAGES).run()
