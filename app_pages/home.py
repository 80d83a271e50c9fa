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
    ("1.1 Critical points: minimum, maximum, saddle (Hessian eigenvalues, Taylor view)",
     "Critical points: classified, with H and its Taylor surface",
     "app_pages/critical_points.py"),
    ("1.2 The lecture's example L = (1 − w₁w₂)²: a saddle at the origin", "Critical points, *Lecture example* preset",
     "app_pages/critical_points.py"),
    ("1.3–1.4 Escaping a saddle along an eigenvector; the minimum ratio",
     "Critical points: three ways out of a saddle",
     "app_pages/critical_points.py"),
    ("1.5 Batch size: noisy updates, time per epoch, sharp vs flat minima",
     "Batch size: mini-batch surfaces, SGD, timings", "app_pages/batch_size.py"),
    ("1.6 Momentum: rolling over small hills and plateaus",
     "Momentum: a step taken apart, a ball on a curve", "app_pages/momentum.py"),
    ("2.1 Training stuck ≠ small gradient; one learning rate cannot fit all directions",
     "Adaptive learning rate: loss vs gradient norm, η = 10⁻² and 10⁻⁷", "app_pages/adaptive_lr.py"),
    ("2.2 Adaptive learning rates: Adagrad, RMSProp (lecture and library forms), Adam",
     "Adaptive learning rate: σ per parameter beside the path", "app_pages/adaptive_lr.py"),
    ("2.3 Adagrad's bursts, learning-rate schedules and warm-up (incl. the Transformer's)",
     "Schedules and warm-up: bursts, a schedule designer", "app_pages/schedules.py"),
    ("2.3 The summary θ ← θ − (ηᵗ/σᵗ) ⊙ mᵗ, every piece switchable",
     "Schedules and warm-up: build an optimizer, race it", "app_pages/schedules.py"),
    ("2.4 Softmax; MSE vs cross-entropy change the surface",
     "Classification loss: softmax calculator, the two surfaces", "app_pages/classification.py"),
    ("2.5 Feature normalization and batch normalization",
     "Normalization: condition numbers, BN on the digits", "app_pages/normalization.py"),
    ("1.4, 1.5, 2.5 on real networks: landscapes, Hessian spectra, saddles vs minima, small vs large batch",
     "Network lab: train an MLP on real data, slice and probe it", "app_pages/network_lab.py"),
    ("Every surface, optimizer and schedule together",
     "Playground: race up to six optimizers", "app_pages/playground.py"),
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
