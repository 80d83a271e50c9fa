"""Landing page: what the lab covers, where to find it, what JAX runs on."""
import streamlit as st

import compute
import optimizers
import surfaces

st.title("Error-surface lab")
st.markdown(
    "Why does training get stuck, and how do optimizers get it moving? "
    "Pick an error surface, start a few optimizers on it and watch them race — "
    "every number is computed with JAX: losses, gradients, Hessians and whole trajectories."
)

st.subheader("What the lecture covers, and where it lives here")
TOPICS = [
    ("Critical points: minimum, maximum, saddle (Hessian eigenvalues)", "Playground: critical points are marked on the map; "
     "the results table says which kind each run ended at", "app_pages/playground.py"),
    ("The lecture's example L = (1 − w₁w₂)²: a saddle at the origin", "Playground, surface *Lecture example*", "app_pages/playground.py"),
    ("Momentum: rolling over small hills and plateaus", "Playground, surfaces *Shallow and deep minimum* and *Plateau*",
     "app_pages/playground.py"),
    ("Training stuck ≠ small gradient; one learning rate cannot fit all directions",
     "Playground, surface *Elongated valley*: loss and gradient norm side by side", "app_pages/playground.py"),
    ("Adaptive learning rates: Adagrad, RMSProp (lecture and library forms), Adam",
     "Playground: every optimizer with its own hyperparameters", "app_pages/playground.py"),
    ("Learning-rate schedules and warm-up (incl. the Transformer's)", "Playground: a schedule per optimizer, η(t) plotted",
     "app_pages/playground.py"),
]
for topic, where, page in TOPICS:
    c1, c2 = st.columns([3, 4])
    c1.markdown(f"**{topic}**")
    c2.page_link(page, label=where, icon=":material/arrow_forward:")

st.subheader("In this lab")
c1, c2, c3 = st.columns(3)
c1.metric("Error surfaces", len(surfaces.names()))
c2.metric("Optimizers", len(optimizers.names()))
c3.metric("Learning-rate schedules", len(optimizers.schedule_names()))
st.caption(f"JAX is computing on: **{compute.backend()}**. Compiled code is kept in `{compute.CACHE_DIR}` "
           "so a restarted server starts warm.")
