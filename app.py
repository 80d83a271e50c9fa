"""Error-surface lab: entry point. Page config, the sidebar's language and presentation switches, navigation."""
import streamlit as st

import caches
import controls
import memory_budget
import session_limits
from i18n import tr

session_limits.install()  # once per process: a client's reruns coalesced and rate-limited, clear_cache refused
memory_budget.tune_malloc()  # once per process: large temporaries of a run go back to the machine when freed
if st.runtime.exists():  # a server, not a test process (AppTest): what lives for good is frozen once, collected never
    memory_budget.freeze_startup_objects()
controls.forget_stale_widgets()  # Streamlit keeps a widget's metadata after the widget has gone
controls.app_settings()  # language and presentation mode, from the URL / the sidebar
st.set_page_config(page_title=tr("Error-surface lab"), page_icon="⛰️", layout="wide",
                   initial_sidebar_state="collapsed" if controls.presenting() else "auto")

PAGES = [
    st.Page("app_pages/home.py", title=tr("Home"), icon=":material/home:", default=True),
    st.Page("app_pages/playground.py", title=tr("Playground"), icon=":material/sports_score:", url_path="playground"),
    st.Page("app_pages/critical_points.py", title=tr("Critical points"), icon=":material/my_location:",
            url_path="critical_points"),
    st.Page("app_pages/momentum.py", title=tr("Momentum"), icon=":material/sports_baseball:", url_path="momentum"),
    st.Page("app_pages/batch_size.py", title=tr("Batch size"), icon=":material/stacks:", url_path="batch_size"),
    st.Page("app_pages/adaptive_lr.py", title=tr("Adaptive learning rate"), icon=":material/tune:",
            url_path="adaptive_learning_rate"),
    st.Page("app_pages/schedules.py", title=tr("Schedules and warm-up"), icon=":material/schedule:",
            url_path="schedules"),
    st.Page("app_pages/classification.py", title=tr("Classification loss"), icon=":material/category:",
            url_path="classification_loss"),
    st.Page("app_pages/normalization.py", title=tr("Normalization"), icon=":material/balance:",
            url_path="normalization"),
    st.Page("app_pages/network_lab.py", title=tr("Network lab"), icon=":material/hub:", url_path="network_lab"),
]

caches.trim_compile_caches()  # every run, before the page: a few attribute reads keep a long class's memory bounded
st.navigation(PAGES).run()
