"""Landing page: what the lab covers, where to find it, what JAX runs on."""
import streamlit as st

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
TOPICS = [
    (mark("1.1 Critical points: minimum, maximum, saddle (Hessian eigenvalues, Taylor view)"),
     mark("Critical points: classified, with H and its Taylor surface"),
     "app_pages/critical_points.py"),
    (mark("1.2 The lecture's example L = (1 − w₁w₂)²: a saddle at the origin"), mark("Critical points, *Lecture example* preset"),
     "app_pages/critical_points.py"),
    (mark("1.3 Escaping a saddle along an eigenvector"), mark("Critical points: three ways out of a saddle"),
     "app_pages/critical_points.py"),
    (mark("1.4 The lecture’s key figure: training loss against the minimum ratio"),
     mark("Run the minimum-ratio experiment (about 10–20 s)"), "app_pages/critical_points.py", {"cp_ratio": "1"}),
    (mark("1.5 Batch size: noisy updates, time per epoch, sharp vs flat minima"),
     mark("Batch size: mini-batch surfaces, SGD, timings"), "app_pages/batch_size.py"),
    (mark("1.6 Momentum: rolling over small hills and plateaus"),
     mark("Momentum: a step taken apart, a ball on a curve"), "app_pages/momentum.py"),
    (mark("2.1 Training stuck ≠ small gradient; one learning rate cannot fit all directions"),
     mark("Adaptive learning rate: loss vs gradient norm, η = 10⁻² and 10⁻⁷"), "app_pages/adaptive_lr.py"),
    (mark("2.2 Adaptive learning rates: Adagrad, RMSProp (lecture and library forms), Adam"),
     mark("Adaptive learning rate: σ per parameter beside the path"), "app_pages/adaptive_lr.py"),
    (mark("2.3 Adagrad's bursts, learning-rate schedules and warm-up (incl. the Transformer's)"),
     mark("Schedules and warm-up: bursts, a schedule designer"), "app_pages/schedules.py"),
    (mark("2.3 The summary θ ← θ − (ηᵗ/σᵗ) ⊙ mᵗ, every piece switchable"),
     mark("Schedules and warm-up: build an optimizer, race it"), "app_pages/schedules.py"),
    (mark("2.4 Softmax; MSE vs cross-entropy change the surface"),
     mark("Classification loss: softmax calculator, the two surfaces"), "app_pages/classification.py"),
    (mark("2.5 Feature normalization and batch normalization"),
     mark("Normalization: condition numbers, BN on the digits"), "app_pages/normalization.py"),
    (mark("1.4, 1.5, 2.5 on real networks: landscapes, Hessian spectra, saddles vs minima, small vs large batch"),
     mark("Network lab: train an MLP on real data, slice and probe it"), "app_pages/network_lab.py"),
    (mark("Every surface, optimizer and schedule together"),
     mark("Playground: race up to six optimizers"), "app_pages/playground.py"),
]
for topic, where, page, *query in TOPICS:  # a fourth item: the link's query (an experiment that opens running)
    c1, c2 = st.columns([3, 4])
    c1.markdown(f"**{tr(topic)}**")
    c2.page_link(page, label=tr(where), icon=":material/play_arrow:" if query else ":material/arrow_forward:",
                 query_params=query[0] if query else None)

st.subheader(tr("In this lab"))
c1, c2, c3 = st.columns(3)
c1.metric(tr("Error surfaces"), len(surfaces.names()))
c2.metric(tr("Optimizers"), len(optimizers.names()))
c3.metric(tr("Learning-rate schedules"), len(optimizers.schedule_names()))

# For whoever runs the server, not for students: folded away, at the end.
CACHE_LABELS = {"grids": mark("maps and grids"), "runs": mark("optimizer runs"), "pictures": mark("drawn maps"),
                "analysis": mark("points, curves and analyses"), "results": mark("trained networks and studies")}
MB = 2**20
with st.expander(tr("Server diagnostics (for the operator)"), expanded=False, icon=":material/monitor_heart:"):
    st.caption(tr("JAX is computing on: **{backend}**. Compiled code is kept in `{folder}` so a restarted server "
                  "starts warm.", backend=compute.backend(), folder=compute.CACHE_DIR))
    disk = caches.disk_status()
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
