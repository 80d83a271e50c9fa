"""Landing page: what the lab covers, where to find it, what JAX runs on."""
import streamlit as st

import app_pages
import caches
import compute
import memory_budget
import optimizers
import surfaces
from i18n import mark, tr

st.title(tr("Error-surface lab"))
st.markdown(tr(
    "Why does training get stuck, and how do optimizers get it moving? "
    "Pick an error surface, start a few optimizers on it and watch them race — "
    "every number is computed with JAX: losses, gradients, Hessians and whole trajectories."
))

st.subheader(tr("What the lecture covers, and where it lives here"))
# Every stop of the lecture, then the pages that cover many at once (the page registry, app_pages/__init__.py).
for section in app_pages.SECTIONS:  # the link lands on the section's anchor; a query opens its experiment running
    record = app_pages.page(section.page)
    c1, c2 = st.columns([3, 4])
    c1.markdown(f"**{tr(section.title)}**")
    c2.page_link(record.file, label=tr(section.label),
                 icon=":material/play_arrow:" if section.query else ":material/arrow_forward:",
                 query_params=app_pages.link_query(section))
for name, topic in app_pages.OVERVIEWS.items():
    record = app_pages.page(name)
    c1, c2 = st.columns([3, 4])
    c1.markdown(f"**{tr(topic)}**")
    c2.page_link(record.file, label=tr(record.summary), icon=":material/arrow_forward:")

st.subheader(tr("In this lab"))
c1, c2, c3 = st.columns(3)
c1.metric(tr("Error surfaces"), len(surfaces.names()))
c2.metric(tr("Optimizers"), len(optimizers.names()))
c3.metric(tr("Learning-rate schedules"), len(optimizers.schedule_names()))

# For whoever runs the server, not for students: folded away, at the end.
CACHE_LABELS = {"grids": mark("maps and grids"), "runs": mark("optimizer runs"), "pictures": mark("drawn maps"),
                "analysis": mark("points, curves and analyses"), "charts": mark("shared charts"), "results": mark("trained networks and studies")}
MB = 2**20
with st.expander(tr("Server diagnostics (for the operator)"), expanded=False, icon=":material/monitor_heart:"):
    disk = caches.disk_status()
    st.caption(tr("JAX is computing on: **{backend}**. Compiled code is kept in `{folder}` so a restarted server "
                  "starts warm.", backend=compute.backend(), folder=disk["folder"]))
    if disk["on"]:
        st.markdown(tr("Disk caches: **on** (results and compiled code in `{folder}`).", folder=disk["folder"]))
    else:
        st.markdown(tr("Disk caches: **off** in this process, every result is recomputed. Cause: `{problem}`. "
                       "Fix the folder and restart the server.", problem=disk["problem"]))
    if disk["replaced"]:
        st.markdown(tr("Unreadable cache entries removed and rebuilt: {count}.", count=disk["replaced"]))
    use = memory_budget.usage()
    st.markdown(tr("Memory budget of all caches: **{budget:,.0f} MB**, in use **{used:,.1f} MB** (set with the "
                   "environment variable `{variable}` before the server starts; default {default} MB).",
                   budget=memory_budget.budget() / MB, used=memory_budget.used() / MB,
                   variable=memory_budget.BUDGET_ENV, default=memory_budget.DEFAULT_BUDGET_MB))
    st.dataframe([{tr("cache"): tr(CACHE_LABELS.get(c.name, c.name)), tr("share"): f"{c.share:.0%}",
                   tr("limit (MB)"): round(c.limit / MB, 1), tr("used (MB)"): round(c.used / MB, 2),
                   tr("entries"): c.entries} for c in use], hide_index=True)
