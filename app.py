"""Error-surface lab: entry point. Page config, the sidebar's language and presentation switches, navigation."""
import pandas  # noqa: F401 - imported by the entry point, not lazily by Streamlit inside two sessions' threads at once
import streamlit as st

import app_pages
import controls
import memory_budget
import runtime
import session_limits
from i18n import tr

runtime.set_up()  # once per process, before anything compiles or a page touches the caches
session_limits.install()  # once per process: a client's reruns coalesced and rate-limited, clear_cache refused
memory_budget.tune_malloc()  # once per process: large temporaries of a run go back to the machine when freed
if st.runtime.exists():  # a server, not a test process (AppTest): what lives for good is frozen once, collected never
    memory_budget.freeze_startup_objects(preload=app_pages.imported_modules)
memory_budget.collect_garbage_now_and_then()  # every run: a class's cyclic garbage is freed within seconds
controls.forget_stale_widgets()  # Streamlit keeps a widget's metadata after the widget has gone
controls.app_settings()  # language and presentation mode, from the URL / the sidebar
st.set_page_config(page_title=tr("Error-surface lab"), page_icon="⛰️", layout="wide",
                   initial_sidebar_state="collapsed" if controls.presenting() else "auto")

PAGES = [st.Page(record.file, title=tr(record.title), icon=record.icon, url_path=record.slug or None,
                 default=not record.slug) for record in app_pages.PAGES]  # the page registry, app_pages/__init__.py

runtime.trim_compile_caches()  # every run, before the page: a few attribute reads keep a long class's memory bounded
page = st.navigation(PAGES)
controls.url.note_page(page.url_path)  # a page opened from a link reads the link's values (controls.url.UrlCheck)
page.run()
