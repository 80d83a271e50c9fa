"""Network lab: the lecture's ideas on real networks — landscapes, Hessian spectra, saddles, batch size."""
import numpy as np
import streamlit as st

import compute
import controls
import figures
import networks
import optimizers
from networks.hessian import MAX_DENSE_PARAMS

PAGE = "network_lab"
ACTIVATIONS = list(networks.batchnorm.ACTIVATIONS)
SLICE_KINDS = list(compute.SLICES)
PATH_POINTS = 150  # checkpoints of the training path kept for the PCA slice
INTERACTIVE_SPECTRUM = 2_500  # parameters up to which the full spectrum is computed without asking
LECTURE = {"nl_data": "digits", "nl_depth": 2, "nl_width": 64, "nl_act": "relu", "nl_bn": "off", "o9": "momentum",
           "o9_momentum_lr": 0.01, "o9_momentum_momentum": 0.9, "o9_schedule": "constant", "nl_batch": 64,
           "nl_epochs": 20, "nl_seed": 0, "nl_slice": "pca", "nl_span": 1.0}

notes, url = controls.page_header(
    "Network lab",
    "Do the toy surfaces tell the truth about real networks? Train a small network on real data, then look at "
    "its loss landscape and its Hessian — computed here in seconds, on the CPU.",
    PAGE)

with st.sidebar:
    controls.preset_button("Lecture example: an MLP 64-64-64-10 on the digits", LECTURE, key="nl_preset")
    dataset = controls.choice_select("Dataset", list(networks.CLASSIFICATION), "digits", "nl_data", url,
                                     format_func=lambda n: networks.CLASSIFICATION[n][0])
    c1, c2 = st.columns(2)
    depth = controls.int_input("hidden layers", 1, 4, 2, "nl_depth", url, where=c1)
    width = controls.int_input("width", 2, 256, 64, "nl_width", url, where=c2)
    c1, c2 = st.columns(2)
    activation = controls.choice_select("activation", ACTIVATIONS, "relu", "nl_act", url, where=c1)
    bn = controls.choice_select("batch norm", ["off", "on"], "off", "nl_bn", url, where=c2)
    with st.expander("Optimizer and schedule", expanded=False):
        opt = controls.optimizer_panel(9, "momentum", url)
    c1, c2, c3 = st.columns(3)
    batch = controls.int_input("batch", 1, 4096, 64, "nl_batch", url, where=c1)
    epochs = controls.int_input("epochs", 1, 200, 20, "nl_epochs", url, where=c2)
    seed = controls.int_input("seed", 0, 10_000, 0, "nl_seed", url, where=c3)

split = networks.load_split(dataset)
model = networks.MLP((width,) * depth, activation, bn == "on")
updates_per_epoch = max(1, len(split.y_train) // min(batch, len(split.y_train)))
record_steps = -(-epochs * updates_per_epoch // PATH_POINTS)  # about PATH_POINTS checkpoints for the PCA path
config = networks.TrainConfig(dataset, model, opt["name"], tuple(sorted(opt["hyperparams"].items())), opt["schedule"],
                              tuple(sorted(opt["schedule_params"].items())), batch, epochs, seed,
                              max(1, epochs // 50), record_steps if record_steps < updates_per_epoch else 0)
n_params = model.parameter_count(split.features, split.classes)
sizes = "-".join(str(s) for s in model.sizes(split.features, split.classes))
st.markdown(f"**{networks.CLASSIFICATION[dataset][0]}**, standardized, {len(split.y_train):,} training and "
            f"{len(split.y_test):,} test examples. Network {sizes}{' with batch normalization' if model.batch_norm else ''}"
            f", {activation}: **{n_params:,} parameters**; {optimizers.get(opt['name']).label}, batch {batch}, "
            f"{epochs} epochs.")

# ---------------------------------------------------------------- training
bar = st.progress(0.0, text="Training …")
result, cached = compute.trained_network(config, progress=lambda f: bar.progress(f, text=f"Training … {f:.0%}"))
bar.empty()
if cached:
    st.caption("This training run came from the cache (the same configuration was trained before).")
if result.diverged_at >= 0:
    st.warning(f"Training diverged in epoch {result.diverged_at}: everything below uses the last finite parameters "
               f"(epoch {int(result.epochs[-1])}). Try a smaller learning rate.")
c1, c2 = st.columns(2)
with c1:
    st.plotly_chart(figures.step_curves_figure(
        [figures.Series("train", result.train_loss, 1, "solid", result.epochs),
         figures.Series("test", result.test_loss, 0, "dash", result.epochs)],
        title="Cross-entropy", y_title="loss", x_title="epoch", log_y=True, height=300), key="nl_loss")
with c2:
    st.plotly_chart(figures.step_curves_figure(
        [figures.Series("train", result.train_accuracy, 1, "solid", result.epochs),
         figures.Series("test", result.test_accuracy, 0, "dash", result.epochs)],
        title="Accuracy", y_title="accuracy", x_title="epoch", height=300), key="nl_accuracy")

# ---------------------------------------------------------------- landscape
st.header("The landscape around the trained network")
alpha, line_train, line_test = compute.interpolation(config)
left, right = st.columns([2, 3])
with left:
    st.plotly_chart(figures.step_curves_figure(
        [figures.Series("train", line_train, 1, "solid", alpha), figures.Series("test", line_test, 0, "dash", alpha)],
        title="From the initial to the trained weights", y_title="loss", x_title="α (0: initial, 1: trained)",
        height=330, log_y=figures.wide_range(np.concatenate([line_train, line_test]), 50)), key="nl_interp")
    st.caption("θ(α) = θ₀ + α(θ_trained − θ₀): a 1-D slice (Goodfellow et al. 2015). A smooth, monotone descent "
               "is typical: the hard part of training is rarely visible on this line.")
with right:
    c1, c2, c3 = st.columns([3, 2, 2])
    kind = controls.choice_select("2-D slice along", SLICE_KINDS, "pca", "nl_slice", url, where=c1,
                                  format_func=lambda k: compute.SLICES[k])
    span = controls.number_widget(optimizers.HyperParam("span", "span", 1.0, 0.05, 5.0, log=True), "nl_span", url,
                                  where=c2)
    view = c3.segmented_control("view", ["contour", "3-D"], default="contour", key="nl_view") or "contour"
    grid, path, titles, note = compute.network_slice(config, kind, span)
    paths = []
    if path is not None:
        paths = [figures.PathSet("training path (checkpoints)", path[None].astype(np.float32),
                                 result.path_loss[None].astype(np.float32))]
    if view == "3-D":
        st.plotly_chart(figures.surface3d_figure(grid, paths, log_color=True, uirevision=f"nl-3d-{kind}", height=520),
                        key="nl_slice_3d", config={"displaylogo": False})
    else:
        st.plotly_chart(figures.contour_figure(grid, paths, log_color=True, axis_titles=titles, height=520,
                                               uirevision=f"nl-{kind}"), key="nl_slice_map",
                        config={"displaylogo": False})
    st.caption(f"Training loss on 41 × 41 points around the trained weights (centre), along {compute.SLICES[kind]}: "
               f"{note}. The whole grid is one compiled JAX call.")
    controls.export_panel("network_slice", lambda: figures.contour_figure(grid, paths, log_color=True,
                                                                          axis_titles=titles),
                          f"Loss slice along {compute.SLICES[kind]}", grid=grid)

# ---------------------------------------------------------------- Hessian
st.header("The Hessian at the trained weights")
st.markdown("Hessian-vector products (forward-over-reverse) give the top eigenvalues by Lanczos, the trace by "
            "Hutchinson's estimator and the eigenvalue density by stochastic Lanczos quadrature, without ever "
            "forming the Hessian. For small networks the full spectrum gives the minimum ratio (LECTURES 1.4).")
h = compute.network_hessian(config)
spectrum = None
if n_params <= INTERACTIVE_SPECTRUM:
    spectrum, _ = compute.network_spectrum(config)
elif n_params <= MAX_DENSE_PARAMS:
    if st.button(f"Compute the full spectrum ({n_params:,} × {n_params:,} Hessian; about a minute here)",
                 key="nl_full_spectrum") or st.session_state.get(f"nl_spectrum_{hash(config)}"):
        st.session_state[f"nl_spectrum_{hash(config)}"] = True
        with st.spinner("Building the dense Hessian from HVPs and its eigenvalues …"):
            spectrum, _ = compute.network_spectrum(config)
else:
    st.caption(f"{n_params:,} parameters: too many for a dense Hessian here (limit {MAX_DENSE_PARAMS:,}).")
c1, c2 = st.columns([3, 2])
with c1:
    st.plotly_chart(figures.spectrum_figure(h["grid"], h["density"], spectrum), key="nl_density")
with c2:
    st.dataframe({"k": list(range(1, 6)), "λ_k (Lanczos)": [f"{v:.4g}" for v in h["top"]],
                  **({"λ_k (dense)": [f"{v:.4g}" for v in spectrum[::-1][:5]]} if spectrum is not None else {})},
                 hide_index=True, width="stretch")
    m1, m2 = st.columns(2)
    m1.metric("trace (Hutchinson, 40 probes)", f"{h['trace']:.4g}")
    if spectrum is not None:
        m2.metric("minimum ratio", f"{networks.minimum_ratio(spectrum):.3f}",
                  help="Share of positive eigenvalues; 1 at a strict local minimum.")
        st.caption(f"{int(np.sum(spectrum < -1e-6 * np.abs(spectrum).max())):,} negative eigenvalues; the most "
                   f"negative is {spectrum[0]:.3g}. Trace of the dense Hessian: {spectrum.sum():.4g}.")

# ---------------------------------------------------------------- experiments
def experiment(button_key: str, state_key: str, working: str, run):
    """One click starts ``run(progress)`` behind a progress bar; the result stays shown on later reruns.

    Returns (result, whether it came from the cache), or None before the click.
    """
    if not (st.button("Run the experiment", key=button_key) or st.session_state.get(state_key)):
        return None
    st.session_state[state_key] = True
    bar = st.progress(0.0, text=working)
    out = run(lambda f: bar.progress(f, text=f"{working} {f:.0%}"))
    bar.empty()
    return out


st.header("Lecture experiments")
tab1, tab2, tab3 = st.tabs(["Saddles vs minima (1.4)", "Small vs large batch (1.5)", "Batch normalization (2.5)"])
with tab1:
    st.markdown(f"Train 24 small networks ({split.features}-6-{split.classes}, tanh) on **{dataset}** from "
                "different seeds for different lengths, walk each to a nearby critical point by minimizing ‖∇L‖², "
                "and compute every Hessian spectrum. Where the loss is high the critical points are saddles "
                "(minimum ratio well below 1); only low-loss ones come close to minima.")
    done = experiment("nl_run_saddles", f"nl_saddles_{dataset}", "Training and refining 24 networks …",
                      lambda progress: compute.saddle_study(dataset, progress))
    if done:
        study, was_cached = done
        st.plotly_chart(figures.scatter_figure(
            study.minimum_ratio, study.train_loss, title="Training loss against minimum ratio at critical points",
            x_title="minimum ratio (share of positive eigenvalues)", y_title="training loss",
            text=[f"loss {l:.3g}, ratio {r:.2f}, {k} negative, ‖∇L‖ {g:.1g}" for l, r, k, g in
                  zip(study.train_loss, study.minimum_ratio, study.negative, study.gradient_norm)]), key="nl_saddles")
        st.caption(f"{study.parameters} parameters per network; ‖∇L‖ at the refined points ≤ "
                   f"{study.gradient_norm.max():.1g}." + (" From the cache." if was_cached else ""))
with tab2:
    st.markdown("The network above trained with batch 16 and with a large batch, from the same start and for the "
                "same number of updates (Keskar et al. 2017): accuracies, the sharpness (top Hessian eigenvalue) of "
                "each solution, and the loss on the line through both.")
    done = experiment("nl_run_batch", f"nl_batch_{hash(config)}", "Training with a small and a large batch …",
                      lambda progress: compute.batch_size_study(config, progress))
    if done:
        study, was_cached = done
        rows = [{"batch": r.config.batch_size, "epochs": r.config.epochs, "train accuracy": f"{r.train_accuracy[-1]:.1%}",
                 "test accuracy": f"{r.test_accuracy[-1]:.1%}", "sharpness λmax": f"{s:.4g}"}
                for r, s in zip((study.small, study.large), study.sharpness)]
        st.dataframe(rows, hide_index=True, width="stretch")
        st.plotly_chart(figures.step_curves_figure(
            [figures.Series("train", study.line_train, 1, "solid", study.line),
             figures.Series("test", study.line_test, 0, "dash", study.line)],
            title="Loss on θ_small + α(θ_large − θ_small)", y_title="loss", x_title="α (0: small batch, 1: large)",
            log_y=True, height=320), key="nl_batch_line")
        if was_cached:
            st.caption("From the cache.")
with tab3:
    st.markdown("Batch normalization and the smoothness measures of Santurkar et al. (2018) — the range of the loss "
                "and the change of the gradient along each step, with and without BN — are on the Normalization "
                "page; it shares its implementation (`networks.batchnorm`) with this lab.")
    # A plain link: st.page_link needs the navigation, which a page run on its own (AppTest) does not have.
    st.markdown("→ [Normalization: batch normalization on the digits](./normalization)")

url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
