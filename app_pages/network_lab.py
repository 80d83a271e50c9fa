"""Network lab: the lecture's ideas on real networks — landscapes, Hessian spectra, saddles, batch size."""
import streamlit as st

import compute
import controls
import figures
import networks
import optimizers
import surfaces
from i18n import join, mark, tr
from networks.hessian import MAX_DENSE_PARAMS

PAGE = "network_lab"
ACTIVATIONS = list(networks.models.ACTIVATIONS)
# What each kind of slice direction is (networks.SLICE_KINDS), as the slice's caption names it.
SLICES = {"random": mark("two random filter-normalized directions (Li et al. 2018)"),
          "pca": mark("the top two PCA directions of the training path"),
          "hessian": mark("the Hessian's top and most negative eigenvectors")}
SLICE_KINDS = list(networks.SLICE_KINDS)
PATH_POINTS = 150  # checkpoints of the training path kept for the PCA slice
INTERACTIVE_SPECTRUM = 2_500  # parameters up to which the full spectrum is computed without asking
# A refined point is called a critical point only where ‖∇L‖ is below this: the tolerance the Critical points page
# applies to the 2-D surfaces, so the word means the same gradient everywhere in the app. The refinement (a fixed
# number of Adam steps on ½‖∇L‖²) often stops well above it; such points are "refined points", not critical ones.
CRITICAL_GRADIENT = surfaces.CRITICAL_GRADIENT
NETWORK_LINE = {  # the sentence that names the network, per normalization
    "none": mark("Network {sizes}, {activation}: **{count:,} parameters**; {optimizer}, batch {batch}, {epochs} epochs."),
    "batch": mark("Network {sizes} with batch normalization, {activation}: **{count:,} parameters**; {optimizer}, "
                  "batch {batch}, {epochs} epochs."),
    "layer": mark("Network {sizes} with layer normalization, {activation}: **{count:,} parameters**; {optimizer}, "
                  "batch {batch}, {epochs} epochs."),
}
NORMALIZATION_LABELS = {"none": mark("none"), "batch": mark("batch norm"), "layer": mark("layer norm")}
LECTURE = {"nl_data": "digits", "nl_depth": 2, "nl_width": 64, "nl_act": "relu", "nl_norm": "none", "o9": "momentum",
           "o9_momentum_lr": 0.01, "o9_momentum_momentum": 0.9, "o9_schedule": "constant", "nl_batch": 64,
           "nl_epochs": 20, "nl_seed": 0, "nl_slice": "pca", "nl_span": 1.0}


notes, url, _, _ = controls.page_start(PAGE, tr("Network lab"), tr(
    "Do the toy surfaces tell the truth about real networks? Train a small network on real data, then look at "
    "its loss landscape and its Hessian — computed here in seconds, on the CPU."),
    LECTURE, "nl_preset", tr("Lecture example: an MLP 64-64-64-10 on the digits"))

with st.sidebar:
    dataset = controls.choice_select(tr("Dataset"), list(networks.CLASSIFICATION), "digits", "nl_data", url,
                                     format_func=lambda n: tr(networks.CLASSIFICATION[n][0]))
    c1, c2 = st.columns(2)
    depth = controls.int_input(tr("hidden layers"), 1, 4, 2, "nl_depth", url, where=c1)
    width = controls.int_input(tr("width"), 2, 256, 64, "nl_width", url, where=c2)
    c1, c2 = st.columns(2)
    activation = controls.choice_select(tr("activation"), ACTIVATIONS, "relu", "nl_act", url, where=c1)
    norm = controls.choice_select(tr("normalization"), list(networks.NORMALIZATIONS), "none", "nl_norm", url, where=c2,
                                  format_func=lambda n: tr(NORMALIZATION_LABELS[n]))
    with st.expander(tr("Optimizer and schedule"), expanded=False):
        opt = controls.optimizer_panel(9, "momentum", url)
    c1, c2, c3 = st.columns(3)
    batch = controls.int_input(tr("batch"), 1, 4096, 64, "nl_batch", url, where=c1)
    epochs = controls.int_input(tr("epochs"), 1, 200, 20, "nl_epochs", url, where=c2)
    seed = controls.int_input(tr("seed"), 0, 10_000, 0, "nl_seed", url, where=c3)

split = networks.load_split(dataset)
model = networks.MLP((width,) * depth, activation, norm == "batch", norm == "layer")
config = networks.lab_config(dataset, model, opt["name"], opt["hyperparams"], opt["schedule"], opt["schedule_params"],
                             batch, epochs, seed, PATH_POINTS)
n_params = model.parameter_count(split.features, split.classes)
sizes = "-".join(str(s) for s in model.sizes(split.features, split.classes))
st.markdown(join(tr("**{dataset}**, standardized, {train:,} training and {test:,} test examples.",
                    dataset=tr(networks.CLASSIFICATION[dataset][0]), train=len(split.y_train), test=len(split.y_test)),
                 tr(NETWORK_LINE[model.normalization], sizes=sizes, activation=activation, count=n_params,
                    optimizer=tr(optimizers.get(opt["name"]).label), batch=batch, epochs=epochs)))

# ---------------------------------------------------------------- training
updates, _, seconds = compute.training_estimate(config)
if seconds > compute.LONG_TRAINING_S and not compute.is_trained(config):
    st.warning(tr("This run is long: {updates:,} updates of {count:,} parameters, about {minutes:.0f} min here. "
                  "Press Train to start it; the Stop button at the top right of the page stops it. Fewer epochs, a "
                  "larger batch or a smaller network make it shorter.", updates=updates, count=n_params,
                  minutes=max(1.0, seconds / 60)))
    if not st.button(tr("Train"), key="nl_train", icon=":material/play_arrow:"):
        url.show(notes)
        st.stop()
trained = controls.heavy_run(tr("Training …"), compute.trained_network, config)
if trained is None:  # the run failed; heavy_run said why
    url.show(notes)
    st.stop()
result, cached = trained
if cached:
    controls.caption(tr("This training run came from the cache (the same configuration was trained before)."))
if result.diverged_at >= 0:
    st.warning(tr("Training diverged in epoch {epoch}: everything below uses the last finite parameters (epoch "
                  "{last}). Try a smaller learning rate.", epoch=result.diverged_at, last=int(result.epochs[-1])))
TRAIN, TEST = tr("train"), tr("test")
c1, c2 = st.columns(2)
with c1:
    controls.chart(figures.step_curves_figure(
        [figures.Series(TRAIN, result.train_loss, 1, "solid", result.epochs),
         figures.Series(TEST, result.test_loss, 0, "dash", result.epochs)],
        title=tr("Cross-entropy"), y_title=tr("loss"), x_title=tr("epoch"), log_y=True, height=300), key="nl_loss")
with c2:
    controls.chart(figures.step_curves_figure(
        [figures.Series(TRAIN, result.train_accuracy, 1, "solid", result.epochs),
         figures.Series(TEST, result.test_accuracy, 0, "dash", result.epochs)],
        title=tr("Accuracy"), y_title=tr("accuracy"), x_title=tr("epoch"), height=300), key="nl_accuracy")

# ---------------------------------------------------------------- landscape
st.header(tr("The landscape around the trained network"))
alpha, line_train, line_test = compute.interpolation(config)
left, right = st.columns([2, 3])
with left:
    controls.chart(figures.step_curves_figure(
        [figures.Series(TRAIN, line_train, 1, "solid", alpha), figures.Series(TEST, line_test, 0, "dash", alpha)],
        title=tr("From the initial to the trained weights"), y_title=tr("loss"),
        x_title=tr("α (0: initial, 1: trained)"), height=330,
        log_y=figures.wide_range([line_train, line_test], 50)), key="nl_interp")
    controls.caption(tr("θ(α) = θ₀ + α(θ_trained − θ₀): a 1-D slice (Goodfellow et al. 2015). A smooth, monotone descent "
                  "is typical: the hard part of training is rarely visible on this line."))
with right:
    c1, c2, c3 = st.columns([3, 2, 2])
    kind = controls.choice_select(tr("2-D slice along"), SLICE_KINDS, "pca", "nl_slice", url, where=c1,
                                  format_func=lambda k: tr(SLICES[k]))
    span = controls.number_widget(optimizers.HyperParam("span", "span (×‖θ‖)", 1.0, 0.05, 5.0, log=True), "nl_span", url,
                                  where=c2)
    view = controls.view_select("nl_view", where=c3)
    grid, path, values, saddle = compute.network_slice(config, kind, span)
    if kind == "pca":
        titles = (tr("PC {k}", k=1), tr("PC {k}", k=2))
        note = tr("the path's variance explained: {first:.0%} by PC 1, {second:.0%} by PC 2", first=values[0],
                  second=values[1])
    elif kind == "hessian":
        titles = (tr("top eigenvector (λ = {value:.3g})", value=values[0]),
                  tr("most negative (λ = {value:.3g})", value=values[1]))
        note = tr("directions scaled to ‖θ‖; a negative eigenvalue: this point is a saddle, and the slice shows it"
                  if saddle else "directions scaled to ‖θ‖; no negative eigenvalue found")
    else:
        titles = (tr("direction {k}", k=1), tr("direction {k}", k=2))
        note = tr("filter-normalized: each filter scaled to θ's")
    paths = []
    if path is not None:
        paths = [figures.PathSet(tr("training path (checkpoints)"), path[None], result.path_loss[None])]
    if view == "3-D":
        controls.chart(figures.surface3d_figure(grid, paths, log_color=True, uirevision=f"nl-3d-{kind}", height=520,
                                                title=tr("Training loss around the trained weights")),
                       key="nl_slice_3d")
    else:
        controls.chart(figures.contour_figure(grid, paths, log_color=True, axis_titles=titles, height=520,
                                              uirevision=f"nl-{kind}",
                                              title=tr("Training loss around the trained weights")),
                       key="nl_slice_map")
    controls.caption(tr("Training loss on 41 × 41 points around the trained weights (centre), along {directions}: {note}. "
                  "The whole grid is one compiled JAX call.", directions=tr(SLICES[kind]), note=note))
    controls.export_panel("network_slice", lambda: figures.contour_figure(grid, paths, log_color=True,
                                                                          axis_titles=titles),
                          tr("Loss slice along {directions}", directions=tr(SLICES[kind])), grid=grid)

# ---------------------------------------------------------------- Hessian
controls.section(tr("The Hessian at the trained weights"),
                 tr("Hessian-vector products (forward-over-reverse) give the top eigenvalues by Lanczos, the trace by "
                    "Hutchinson's estimator and the eigenvalue density by stochastic Lanczos quadrature, without ever "
                    "forming the Hessian. For small networks the full spectrum gives the minimum ratio (LECTURES "
                    "1.4)."))
h = compute.network_hessian(config)
spectrum = None
if n_params <= INTERACTIVE_SPECTRUM:
    spectrum, _ = compute.network_spectrum(config)
elif n_params <= MAX_DENSE_PARAMS:
    if st.button(tr("Compute the full spectrum ({count:,} × {count:,} Hessian; about a minute here)", count=n_params),
                 key="nl_full_spectrum") or st.session_state.get(f"nl_spectrum_{hash(config)}"):
        st.session_state[f"nl_spectrum_{hash(config)}"] = True
        with st.spinner(tr("Building the dense Hessian from HVPs and its eigenvalues …")):
            spectrum, _ = compute.network_spectrum(config)
else:
    controls.caption(tr("{count:,} parameters: too many for a dense Hessian here (limit {limit:,}).", count=n_params,
                  limit=MAX_DENSE_PARAMS))
c1, c2 = st.columns([3, 2])
with c1:
    controls.chart(figures.spectrum_figure(
        h["grid"], h["density"], spectrum.eigenvalues if spectrum is not None else None), key="nl_density")
with c2:
    st.dataframe({"k": list(range(1, 6)), "λ_k (Lanczos)": [f"{v:.4g}" for v in h["top"]],
                  **({"λ_k (dense)": [f"{v:.4g}" for v in spectrum.largest]} if spectrum is not None else {})},
                 hide_index=True, width="stretch")
    m1, m2 = st.columns(2)
    m1.metric(tr("trace (Hutchinson)"), f"{h['trace']:.4g}",  # a fifth of the page wide: the detail in the tooltip
              help=tr("Hutchinson's estimate of the Hessian's trace: the mean of vᵀHv over 40 random ±1 probe vectors v."))
    if spectrum is not None:
        m2.metric(tr("minimum ratio"), f"{spectrum.minimum_ratio:.3f}",
                  help=tr("Share of positive eigenvalues; 1 at a strict local minimum."))
        controls.caption(tr("{count:,} negative eigenvalues; the most negative is {lowest:.3g}. Trace of the dense Hessian: "
                      "{trace:.4g}.", count=spectrum.negative, lowest=spectrum.lowest, trace=spectrum.trace))

# ---------------------------------------------------------------- experiments
st.header(tr("Lecture experiments"))
tab1, tab2, tab3 = st.tabs([tr("Saddles vs minima (1.4)"), tr("Small vs large batch (1.5)"),
                            tr("Batch normalization (2.5)")])
with tab1:
    st.markdown(tr("Train 24 small networks ({features}-6-{classes}, tanh) on **{dataset}** from different seeds for "
                   "different lengths, walk each towards a nearby critical point by minimizing ‖∇L‖², and compute "
                   "every Hessian spectrum. Where the loss is high the refined points are saddles (minimum ratio well "
                   "below 1); only low-loss ones come close to minima.", features=split.features,
                   classes=split.classes, dataset=dataset))
    if done := controls.experiment("nl_run_saddles", f"nl_saddles_{dataset}", tr("Training and refining 24 networks …"),
                                   compute.saddle_study, dataset):
        study, was_cached = done
        controls.chart(figures.minimum_ratio_figure(
            study.minimum_ratio, study.train_loss,
            text=[tr("loss {loss:.3g}, ratio {ratio:.2f}, {count} negative, ‖∇L‖ {norm:.1g}", loss=loss, ratio=r,
                     count=k, norm=g)
                  for loss, r, k, g in zip(study.train_loss, study.minimum_ratio, study.negative, study.gradient_norm)]),
            key="nl_saddles")
        # The figure keeps the lecture's title ("... at critical points"); this caption, right under it, says how
        # near zero the gradient at its points really is.
        controls.caption(join(tr("{count} parameters per network. The figure's “critical points” (the lecture's term) "
                                 "are refined points: ‖∇L‖ ≤ {norm:.1g} at all {total}; {critical} of them have "
                                 "‖∇L‖ < {tolerance:g}, the gradient this lab counts as zero (as on the Critical "
                                 "points page).", count=study.parameters, norm=study.largest_gradient_norm,
                                 total=len(study.gradient_norm), critical=study.critical_count(CRITICAL_GRADIENT),
                                 tolerance=CRITICAL_GRADIENT),
                        tr("From the cache.") if was_cached else ""))
    st.markdown(tr("**A bowl that is a saddle.** One of these refined points, seen the way landscape pictures "
                   "usually show a network: a slice along two random filter-normalized directions. It looks like the "
                   "bottom of a bowl — yet the full Hessian has negative eigenvalues, and a slice along the most "
                   "negative eigenvector shows the way down."))
    if done := controls.experiment("nl_run_bowl", f"nl_bowl_{dataset}", tr("Refining 8 networks towards critical points …"),
                                   compute.hidden_bowl, dataset):
        bowl, was_cached = done
        c1, c2 = st.columns(2)
        for col, z, title, axes, key in (
                (c1, bowl.random_slice, tr("Random directions d₁, d₂: a bowl"), ("d₁", "d₂"), "nl_bowl_random"),
                (c2, bowl.escape_slice, tr("Most negative eigenvector u and d₁: the way down"), ("u", "d₁"),
                 "nl_bowl_escape")):
            with col:
                controls.chart(figures.value_map_figure(bowl.coords, bowl.coords, z, title=title, value_label="L",
                                                        log=False, axis_titles=axes, height=340), key=key)
        controls.caption(join(tr("Network seed {seed}, loss {loss:.3g}, ‖∇L‖ {norm:.1g}. The random slice's 2 × 2 Hessian "
                           "has eigenvalues {low:.3g} and {high:.3g} (both positive: a bowl); the full Hessian has "
                           "{count} negative eigenvalues of {total} (the lowest {lowest:.3g}), minimum ratio "
                           "{ratio:.2f}. Lowest loss on the random slice {random_low:.4g}, on the eigenvector slice "
                           "{escape_low:.4g} (centre {center:.4g}).", seed=bowl.seed, loss=bowl.loss,
                           norm=bowl.gradient_norm, low=bowl.slice_curvatures[0], high=bowl.slice_curvatures[1],
                           count=bowl.negative, total=len(bowl.eigenvalues), lowest=bowl.eigenvalues[0],
                           ratio=bowl.minimum_ratio, random_low=bowl.lowest[0],
                           escape_low=bowl.lowest[1], center=bowl.center_loss),
                        tr("It is a critical point: ‖∇L‖ < {tolerance:g}.", tolerance=CRITICAL_GRADIENT)
                        if bowl.gradient_norm < CRITICAL_GRADIENT else
                        tr("It is a refined point, not quite a critical one: ‖∇L‖ ≥ {tolerance:g}, the gradient this "
                           "lab counts as zero.", tolerance=CRITICAL_GRADIENT),
                        tr("From the cache.") if was_cached else ""))
with tab2:
    gap_setting = networks.BATCH_GAP_SETTING
    gap_split = networks.load_split(gap_setting.dataset)
    st.markdown(tr("**Where the gap shows here.** Keskar et al. (ICLR 2017) found that large batches reach sharper "
                   "minima that generalize worse. Of the bundled problems it shows on **{dataset}** ({train} training, "
                   "{test} test examples): a {sizes} {activation} network trained by plain SGD, η = {lr:g}, for "
                   "{updates:,} updates with B = {small} and with the full batch B = {train}, from the same start, for "
                   "{seeds} seeds.", dataset=tr(networks.CLASSIFICATION[gap_setting.dataset][0]),
                   train=len(gap_split.y_train), test=len(gap_split.y_test),
                   sizes="-".join(str(s) for s in networks.MLP(gap_setting.hidden).sizes(gap_split.features,
                                                                                        gap_split.classes)),
                   activation=gap_setting.activation, lr=gap_setting.lr, updates=gap_setting.updates,
                   small=gap_setting.small, seeds=gap_setting.seeds))
    if done := controls.experiment("nl_run_gap", "nl_gap", tr("Training {count} networks with a small and a large "
                                                              "batch …", count=2 * gap_setting.seeds),
                                   compute.batch_gap_study):
        gap, was_cached = done
        mean, spread = gap.mean, gap.spread
        st.dataframe([{tr("batch"): int(b), tr("train accuracy"): f"{mean['train_accuracy'][i]:.1%} ± "
                                                                  f"{spread['train_accuracy'][i]:.1%}",
                       tr("test accuracy"): f"{mean['test_accuracy'][i]:.1%} ± {spread['test_accuracy'][i]:.1%}",
                       tr("test loss"): f"{mean['test_loss'][i]:.3f} ± {spread['test_loss'][i]:.3f}",
                       tr("sharpness λmax"): f"{mean['sharpness'][i]:.3g} ± {spread['sharpness'][i]:.2g}"}
                      for i, b in enumerate(gap.batch_sizes)], hide_index=True, width="stretch")
        ahead, tied, behind = gap.small_ahead
        st.markdown(tr("**Test accuracy gap, small minus large batch: {gap:+.1%} ± {spread:.1%}** (mean ± standard "
                       "deviation over {seeds} seeds; standard error {error:.1%}). The small batch is ahead in {ahead} "
                       "seeds, tied in {tied}, behind in {behind}. One test example is {one:.0%}.", gap=gap.gap_mean,
                       spread=gap.gap_spread, seeds=len(gap.gap), error=gap.gap_error, ahead=ahead, tied=tied,
                       behind=behind, one=1 / len(gap_split.y_test)))
        controls.chart(figures.step_curves_figure(
            [figures.Series(TRAIN, gap.line_train, 1, "solid", gap.line),
             figures.Series(TEST, gap.line_test, 0, "dash", gap.line)],
            title=tr("Loss on (1 − α) θ_small + α θ_large (seed 0)"), y_title=tr("loss"),
            x_title=tr("α (0: small batch, 1: large)"), log_y=True, height=320), key="nl_gap_line")
        fits = mean["train_loss"][1] < mean["train_loss"][0] and mean["test_loss"][1] > mean["test_loss"][0]
        controls.caption(join(tr("Mean over the seeds: train loss {train_small:.3f} with the small batch, {train_large:.3f} "
                           "with the full batch; test loss {test_small:.3f} and {test_large:.3f}; λmax {sharp_small:.3g} "
                           "and {sharp_large:.3g} ({ratio:.1f} times as sharp).",
                           train_large=mean["train_loss"][1], train_small=mean["train_loss"][0],
                           test_large=mean["test_loss"][1], test_small=mean["test_loss"][0],
                           ratio=gap.sharpness_ratio, sharp_large=mean["sharpness"][1],
                           sharp_small=mean["sharpness"][0]),
                        tr("The full batch fits the training set better and the test set worse: a sharp minimum that "
                           "does not survive the shift from training to test loss.") if fits else "",
                        tr("On the line, the same step away from each solution: the training loss goes from {at0:.3f} "
                           "to {before:.3f} at α = −0.5 beside the small batch's, from {at1:.3f} to {after:.3f} at "
                           "α = 1.5 beside the large batch's.", at0=gap.line_at(0.0)[0],
                           before=gap.line_at(-0.5)[0], at1=gap.line_at(1.0)[0], after=gap.line_at(1.5)[0]),
                        tr("From the cache.") if was_cached else ""))
    st.markdown(tr("**The network above.** The same comparison for the network in the sidebar, one seed: batch 16 "
                   "and a large batch, from the same start and for the same number of updates: accuracies, the "
                   "sharpness (top Hessian eigenvalue) of each solution, and the loss on the line through both."))
    if done := controls.experiment("nl_run_batch", f"nl_batch_{hash(config)}",
                                   tr("Training with a small and a large batch …"), compute.batch_size_study, config):
        study, was_cached = done
        rows = [{tr("batch"): r.config.batch_size, tr("epochs"): r.config.epochs,
                 tr("train accuracy"): f"{r.train_accuracy[-1]:.1%}", tr("test accuracy"): f"{r.test_accuracy[-1]:.1%}",
                 tr("sharpness λmax"): f"{s:.4g}"}
                for r, s in zip((study.small, study.large), study.sharpness)]
        st.dataframe(rows, hide_index=True, width="stretch")
        controls.chart(figures.step_curves_figure(
            [figures.Series(TRAIN, study.line_train, 1, "solid", study.line),
             figures.Series(TEST, study.line_test, 0, "dash", study.line)],
            title=tr("Loss on θ_small + α(θ_large − θ_small)"), y_title=tr("loss"),
            x_title=tr("α (0: small batch, 1: large)"), log_y=True, height=320), key="nl_batch_line")
        gap = study.small.test_accuracy[-1] - study.large.test_accuracy[-1]
        controls.caption(tr("Test accuracy: small batch ahead by {gap:.1f} points in this one seed; whether that is more "
                      "than the seeds' spread, the study above measures." if gap >= 0.01
                      else "No generalization gap for this network ({gap:+.1f} points in this seed): both batches "
                           "reach about the same test accuracy. What does differ is the sharpness λmax of the two "
                           "solutions and the loss on the line between them.", gap=100 * gap))
        if was_cached:
            controls.caption(tr("From the cache."))
with tab3:
    st.markdown(tr("Batch normalization and the smoothness measures of Santurkar et al. (2018) — the range of the "
                   "loss and the change of the gradient along each step, with and without BN — are on the "
                   "Normalization page; it shares its implementation (`networks.batchnorm`) with this lab."))
    # A plain link: st.page_link needs the navigation, which a page run on its own (AppTest) does not have.
    st.markdown("→ [" + tr("Normalization: batch normalization on the digits") + "](./normalization)")

url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
