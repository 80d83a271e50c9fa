"""Normalization: feature scaling rounds the surface; batch normalization smooths it (LECTURES 2.5)."""

import streamlit as st

import compute
import controls
import figures
import networks
import optimizers
from i18n import join, mark, tr, tr_n
from optimizers.registry import HyperParam

PAGE = "normalization"
MODES = ["same", "best"]
OTHER_NORMALIZATIONS = (
    mark("**Layer normalization** (Ba, Kiros & Hinton 2016): over the units of one example, so no batch is "
         "needed and train = eval; the Transformer's choice. Runnable above."),
    mark("**Batch renormalization** (Ioffe 2017): BN that corrects the batch statistics towards the moving "
         "averages, for small or non-i.i.d. batches."),
    mark("**Instance normalization** (Ulyanov, Vedaldi & Lempitsky 2016): per example and per channel over the "
         "pixels of an image; style transfer."),
    mark("**Group normalization** (Wu & He 2018): per example over groups of channels; between layer and "
         "instance norm, independent of the batch size."),
    mark("**Weight normalization** (Salimans & Kingma 2016): normalizes the weights, w = g·v/‖v‖, not the "
         "activations."),
    mark("**Spectral normalization** (Miyato et al. 2018): divides W by its largest singular value, bounding the "
         "layer's Lipschitz constant; used in GANs."),
)
MODE_LABELS = {"same": mark("the same η for both"), "best": mark("each its best η = 2/(λmax + λmin)")}
LR_CHOICES = ["0.01", "0.05", "0.1", "0.5", "1", "2", "5"]
BATCHES = ["16", "32", "64", "128", "256"]
# The 30 s rule, measured on a quiet 2-core machine: every learning rate, batch 256, the three kinds and the second
# p setting took 54 s at 3,000 steps (four progress bars of 10–17 s) and 23.4 s at this limit from empty caches
# (bench/bench_page_corners.py --built-in; tests/test_pages_part2.py ties that corner to these limits).
MAX_BN_STEPS = 1200
ACTIVATIONS = list(networks.models.ACTIVATIONS)
REL_TOL = 1e-6
LECTURE = {"n_scale1": 1.0, "n_scale2": 100.0, "n_corr": 0.0, "n_lr": 0.1, "n_mode": "same", "n_steps": 200,
           "n_act": "relu", "n_lrs": ["0.05", "0.5", "2"], "n_bn_steps": 600, "n_batch": "64", "n_p": 0.9,
           "n_p2": 0.999}
P_LAGGING = 0.999  # the second setting's p: a memory of ~1,000 steps, longer than the run (measured: eval mode trails)
SCALE = HyperParam("scale", "scale", 1.0, 0.01, 1000.0, log=True)
DIGITS = networks.load_split("digits")  # the sizes the text states: the same split as the BN runs and the Network lab


notes, url, _, _ = controls.page_start(PAGE, tr("Normalization"), tr(
    "Give every input the same range and the error surface becomes round: gradient descent converges in far "
    "fewer steps. Normalize inside the network and it tolerates much larger learning rates (Ioffe & Szegedy "
    "2015); section 2 measures where that holds on the digits."),
    LECTURE, "n_preset", tr("Lecture example: x₁ ≈ 1, 2, …, x₂ ≈ 100, 200, …; BN on the digits"),
    sidebar_note=tr("Each section has its own controls, next to its figures."))

# ---------------------------------------------------------------- feature scaling
controls.section(tr("1. Feature scaling"),
                 tr("If x₁ takes small values and x₂ large ones, the loss barely changes along w₁ and changes fast "
                    "along w₂: an elongated valley, whose Hessian has a large condition number λmax/λmin. Standardize "
                    "each input over the examples (mean 0, variance 1) and the valley becomes a round bowl. Both maps "
                    "show the loss with b at its optimum for every (w₁, w₂), on equal axes; gradient descent starts "
                    "from w = 0 in both."),
                 latex=r"y = w_1 x_1 + w_2 x_2 + b,\qquad \tilde x^r_i = \frac{x^r_i - m_i}{\sigma_i}", anchor="lecture-2-5")
with controls.settings():  # on a projector folded: the two maps under them fill the first screen
    c1, c2, c3 = st.columns(3)
    scale1 = controls.number_widget(SCALE._replace(label=mark("scale of x₁")), "n_scale1", url, where=c1, default=1.0)
    scale2 = controls.number_widget(SCALE._replace(label=mark("scale of x₂")), "n_scale2", url, where=c2, default=100.0)
    corr = controls.number_widget(HyperParam("corr", "correlation of x₁ and x₂", 0.0, -0.9, 0.9), "n_corr", url,
                                  where=c3)
    c1, c2, c3 = st.columns(3)
    mode = controls.choice_select(tr("learning rate"), MODES, "same", "n_mode", url, where=c1,
                                  format_func=lambda m: tr(MODE_LABELS[m]))
    lr = controls.number_widget(HyperParam("lr", "η (shared)", 0.1, 1e-6, 2.0, log=True), "n_lr", url, where=c2,
                                help=tr("Used when both runs share one η."))
    steps = controls.int_input(tr("steps"), 10, 100_000, 200, "n_steps", url, where=c3)
problems = compute.feature_scaling(scale1, scale2, corr)
runs = compute.scaling_paths(scale1, scale2, corr, lr, mode == "best", steps)
titles = (tr("Raw features"), tr("Standardized features"))
cols = st.columns(2)
rows = []
for col, role, title, (q, grid), (eta, path, loss) in zip(cols, ("raw", "std"), titles, problems, runs):
    diverged = int(optimizers.first_bad_step(path[None])[0])
    converged = networks.steps_to_converge(q, path, REL_TOL)
    with col:
        controls.chart(figures.contour_figure(
            grid, [figures.PathSet(tr("gradient descent, η = {lr}", lr=controls.format_number(eta)), path[None],
                                   loss[None])],
            log_color=True, uirevision=f"scaling-{role}", height=520, axis_titles=("w₁", "w₂"),
            critical=(), title=title), key=f"n_map_{role[:3]}")
    rows.append({tr("features"): title, "λmin": f"{q.eigenvalues[0]:.3g}", "λmax": f"{q.eigenvalues[1]:.3g}",
                 tr("condition number λmax/λmin"): f"{q.condition_number:.3g}",
                 tr("largest stable η (2/λmax)"): f"{q.largest_stable_lr:.3g}", tr("η used"): f"{eta:.3g}",
                 tr("steps to converge"): (tr("diverged at step {step}", step=diverged) if diverged >= 0 else
                                           f"{converged:,}" if converged >= 0 else
                                           tr("not within {steps:,}", steps=steps)),
                 tr("steps at the best η"): f"{networks.steps_at_best_lr(q, REL_TOL):,.0f}"})
st.dataframe(rows, hide_index=True, width="stretch")
controls.export_panel("feature_scaling", lambda: figures.contour_figure(
    problems[0][1], [figures.PathSet(tr("gradient descent"), runs[0][1][None], runs[0][2][None])], log_color=True,
    axis_titles=("w₁", "w₂")), tr("Raw features: loss over (w₁, w₂)"), grid=problems[0][1])
controls.caption(tr("“Converged”: the excess loss L − L* fell below {tol:g} of its value at the start. Steps at the best "
              "constant η = 2/(λmax + λmin) in the worst direction: ln(10⁻⁶) / (2 ln((κ−1)/(κ+1))).", tol=REL_TOL))

# ---------------------------------------------------------------- batch normalization
controls.section(tr("2. Batch normalization"),
                 tr("Inside a network the layer outputs z need the same care. Batch normalization standardizes them "
                    "over the batch, then lets the network rescale (γ, β learned). At test time there is no batch: "
                    "the moving averages μ̄, σ̄² kept during training stand in. Santurkar et al. (2018) found that it "
                    "works by making the surface smoother — the loss and the gradient change less along a step — "
                    "which is why it tolerates much larger learning rates. Here: an MLP 64-64-64-10 on "
                    "scikit-learn's digits ({train:,} train / {test:,} test images, the Network lab's split), plain "
                    "mini-batch SGD, with and without BN.", train=len(DIGITS.y_train), test=len(DIGITS.y_test)),
                 latex=r"\tilde z = \frac{z - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}},\quad \hat z = \gamma \odot \tilde z + \beta,"
             r"\qquad \bar\mu \leftarrow p\,\bar\mu + (1 - p)\,\mu_B")
c1, c2, c3, c4, c5 = st.columns([2, 3, 1, 1, 2])
activation = controls.choice_select(tr("activation"), ACTIVATIONS, "relu", "n_act", url, where=c1)
lr_picked = controls.multi_select(tr("learning rates"), LR_CHOICES, ["0.05", "0.5", "2"], "n_lrs", url, where=c2)
bn_steps = controls.int_input(tr("steps"), 100, MAX_BN_STEPS, 600, "n_bn_steps", url, where=c3)
batch = controls.choice_select(tr("batch size"), BATCHES, "64", "n_batch", url, where=c4)
p = controls.number_widget(HyperParam("p", "moving-average p", 0.9, 0.5, 0.999), "n_p", url, where=c5,
                           help=tr("μ̄ ← p·μ̄ + (1 − p)·μ_B; p = 0.9 is PyTorch's momentum = 0.1."))
if not lr_picked:
    st.info(tr("Choose at least one learning rate."))
    url.show(notes)
    st.stop()
lrs = tuple(sorted(float(v) for v in lr_picked))
KINDS = {"batch": dict(batch_norm=True), "none": dict(batch_norm=False), "layer": dict(batch_norm=False, layer_norm=True)}
TRAINING = {"batch": mark("Training {count} networks with BN …"), "none": mark("Training {count} networks without BN …"),
            "layer": mark("Training {count} networks with layer norm …")}
configs = {kind: networks.BNConfig(**switches, activation=activation, lrs=lrs, steps=bn_steps, batch_size=int(batch),
                                   momentum_p=round(p, 4)) for kind, switches in KINDS.items()}
results, from_cache = {}, []
for kind, config in configs.items():
    trained = controls.heavy_run(tr(TRAINING[kind], count=len(lrs)), compute.bn_experiment, config)
    if trained is None:  # the run failed; heavy_run said why
        url.show(notes)
        st.stop()
    results[kind], cached = trained
    from_cache.append(cached)
controls.caption(join(tr("Results are cached: a class opening the same settings trains once."),
                tr("These came from the cache.") if all(from_cache) else ""))
WITH, WITHOUT, WITH_LN = tr("with BN"), tr("without BN"), tr("with layer norm")
with_bn, without, with_ln = results["batch"], results["none"], results["layer"]
RUNS = ((WITH, with_bn, "solid"), (WITHOUT, without, "dash"), (WITH_LN, with_ln, "dot"))
colour = {lr_: i for i, lr_ in enumerate(lrs)}


def mode_curves(run) -> list:
    """A BN run's test accuracy in eval mode (solid) and train mode (dash-dot: dotted is layer norm on this page)."""
    return [figures.Series(f"η = {lr_:g} {name}", values[i], colour[lr_], dash, run.measured_at)
            for name, values, dash in ((tr("eval mode (μ̄, σ̄²)"), run.test_acc_eval, "solid"),
                                       (tr("train mode (test-set statistics)"), run.test_acc_train, "dashdot"))
            for i, lr_ in enumerate(lrs)]


c1, c2 = st.columns(2)
with c1:
    loss_curves = [figures.Series(f"η = {lr_:g} {name}", r.train_loss[i], colour[lr_], dash, r.measured_at)
                   for name, r, dash in RUNS for i, lr_ in enumerate(lrs)]
    controls.chart(figures.step_curves_figure(
        loss_curves, title=tr("Training loss (solid: with BN, dashed: without, dotted: layer norm)"),
        y_title=tr("cross-entropy"), log_y=True, height=360), key="n_bn_loss")
with c2:
    controls.chart(figures.step_curves_figure(
        mode_curves(with_bn), title=tr("Test accuracy with BN: eval mode (solid) vs train mode (dash-dot)"),
        y_title=tr("accuracy"), height=360), key="n_bn_modes")
    controls.caption(tr("The two modes differ by at most {gap:.1%} here. They part where the moving averages lag the "
                  "batch statistics: few steps, a large p (a long memory of early, wrong statistics) or a small batch "
                  "(noisy $\\mu_B$); the second setting below shows it. Layer normalization has no batch statistics, so its "
                  "two modes are one function.", gap=with_bn.largest_mode_gap))

rows = [{"η": f"{lr_:g}", tr("test accuracy with BN (eval mode)"): with_bn.final_accuracy(i),
         WITHOUT: without.final_accuracy(i), WITH_LN: with_ln.final_accuracy(i),
         tr("diverged"): ", ".join(n for n, r, _ in RUNS if r.diverged_at[i] >= 0) or tr("no"),
         tr("did not train"): ", ".join(n for n, r, _ in RUNS if r.did_not_train(i, DIGITS.classes)) or tr("no")}
        for i, lr_ in enumerate(lrs)]
st.dataframe(rows, hide_index=True, width="stretch")
gain = networks.normalization_gain(with_bn, without, DIGITS.classes)
controls.caption(tr("Did not train: diverged, or the training loss ended above {share:.0%} of ln {classes} = {chance:.2f}, "
              "the loss of a uniform guess over the {classes} classes (the test accuracy of such a guess: "
              "{accuracy:.0%}).", share=networks.UNTRAINED_SHARE, classes=gain.classes, chance=gain.chance_loss,
              accuracy=gain.chance_accuracy))
AHEAD = {1: mark("BN ahead"), -1: mark("the plain network ahead"), 0: mark("level")}
found = [tr("Where both train, the final test accuracy: {results}.", results=tr("; ").join(
    tr("η = {lr:g}: {bn:.1%} with BN, {plain:.1%} without ({ahead})", lr=lrs[i], bn=gain.with_norm[i],
       plain=gain.without[i], ahead=tr(AHEAD[gain.ahead(i)])) for i in gain.both_train))] if gain.both_train else []
for i, lr_ in enumerate(lrs):  # every kind in the table, by the table's own test: who trains at η and who does not
    trained = [not r.did_not_train(i, DIGITS.classes) for _, r, _ in RUNS]
    if all(trained):
        continue
    if not any(trained):
        found.append(tr("At η = {lr:g} none of the three networks trains.", lr=lr_))
        continue
    kinds = {True: [], False: []}
    for (name, r, _), ok in zip(RUNS, trained):
        kinds[ok].append(tr("{kind} ({accuracy})", kind=name, accuracy=r.final_accuracy(i)))
    listed = {ok: kinds[ok][0] if len(kinds[ok]) == 1 else tr("{first} and {second}", first=kinds[ok][0],
                                                              second=kinds[ok][1]) for ok in kinds}
    found.append(tr("At η = {lr:g} {trained}; {untrained}.", lr=lr_, trained=tr_n(
        "the network {kinds} trains", "the networks {kinds} train", len(kinds[True]), kinds=listed[True]),
        untrained=tr_n("the network {kinds} does not", "the networks {kinds} do not", len(kinds[False]),
                       kinds=listed[False])))
if gain.only_with:
    found.append(tr("BN's gain here is the larger η it tolerates, not a better result at the same η."
                    if gain.both_train and not gain.ahead_where_both_train else
                    "BN's gain here is the larger η it tolerates."))
if not (gain.only_with or gain.only_without or gain.neither):
    found.append(tr("Both networks train at every η chosen, so none shows what BN tolerates: add a larger one "
                    "(2 or 5)."))
st.markdown(join(*found))

controls.section(tr("Eval mode against train mode: where they part"),
                 tr("A second setting beside the first: the same networks, batches and steps, only the moving-average "
                    "p differs. p does not change training at all (training normalizes with each batch's own "
                    "statistics), only the μ̄, σ̄² that eval mode uses at test time."), level="subheader")
c1, c2 = st.columns(2)
p2 = controls.number_widget(HyperParam("p2", "moving-average p of the second setting", P_LAGGING, 0.5, 0.999), "n_p2",
                            url, where=c2, help=tr("μ̄ ← p·μ̄ + (1 − p)·μ_B with this p; the first setting uses the p above."))
trained = controls.heavy_run(tr("Training {count} networks with BN at p = {p:g} …", count=len(lrs), p=p2),
                             compute.bn_experiment, configs["batch"]._replace(momentum_p=round(p2, 4)))
if trained is None:  # the run failed; heavy_run said why
    url.show(notes)
    st.stop()
lagging, _ = trained
with c1:
    controls.chart(figures.step_curves_figure(
        mode_curves(lagging), title=tr("With BN, p = {p:g}: eval mode (solid) vs train mode (dash-dot)", p=p2),
        y_title=tr("accuracy"), height=360), key="n_bn_modes_lagging")
with c2:
    gaps = {setting: [run.mode_gap(i) for i in range(len(lrs))] for setting, run in (("first", with_bn),
                                                                                      ("second", lagging))}
    st.dataframe([{"η": f"{lr_:g}",
                   tr("mean gap, p = {p:g}", p=p): f"{gaps['first'][i].mean:+.1%}",
                   tr("mean gap, p = {p:g}", p=p2): f"{gaps['second'][i].mean:+.1%}",
                   tr("gap at step {step}, p = {p:g}", step=gaps["second"][i].final_step, p=p2):
                       f"{gaps['second'][i].final:+.1%}"}
                  for i, lr_ in enumerate(lrs)], hide_index=True, width="stretch")
    controls.caption(tr("Gap: test accuracy in train mode minus in eval mode, its mean over the run and its last value. "
                  "Why: eval mode normalizes with μ̄, σ̄², which after t updates still hold pᵗ of their starting "
                  "values (0, 1): {p2:g}{power} = {memory2:.0%} after {steps:,} steps, against {p1:g}{power} = "
                  "{memory1}. While that share is large the averages lag the statistics the network is trained "
                  "with, so the test images are normalized wrongly; train mode uses the test set's own statistics "
                  "and does not lag — but it needs a batch, which a single test image does not have.", p1=p, p2=p2,
                  steps=bn_steps, power=figures.superscript(bn_steps),
                  memory1=figures.power_of_ten_text(networks.moving_average_memory(p, bn_steps)),
                  memory2=networks.moving_average_memory(p2, bn_steps)))

controls.section(tr("Is the surface smoother? (Santurkar et al. 2018)"),
                 tr("At every 20th step, on that step's batch, move along the gradient by s·η for s from 0.25 to 4 "
                    "and record how much the loss varies (its range) and how far the gradient turns (the largest "
                    "‖∇L(θ − sηg) − ∇L(θ)‖). Smaller means a smoother, more predictable surface."), level="subheader")
# The smallest η by default: measured here (digits, 64-64, 600 steps), BN changes the gradient far less at
# η = 0.05 while its loss range is within 2 % of the plain network's; at η = 2 its loss range and gradient change are
# far smaller but β, divided by the plain network's huge ‖ηg‖, is not — the caption says which holds at the η shown.
smooth_lr = controls.choice_select(tr("learning rate"), [f"{v:g}" for v in lrs], f"{lrs[0]:g}", "n_smooth_lr", url)
i = lrs.index(float(smooth_lr))
MEASURE_NAMES = {"loss_range": mark("loss range"), "grad_change": mark("gradient change"),
                 "beta_smoothness": mark("effective β-smoothness")}
VERDICTS = {"smaller": mark("{share:.0%} smaller with BN"), "larger": mark("{share:.0%} larger with BN"),
            "similar": mark("within {margin:.0%}: about the same")}
SMOOTHER = {frozenset({"smaller"}): mark("BN is smoother here on all three measures."),
            frozenset({"similar"}): mark("The difference is small here: no measure differs by {margin:.0%} or more."),
            frozenset({"larger"}): mark("BN is less smooth here on all three measures (Yao et al. 2020 found that "
                                        "BN does not always smooth the landscape)."),
            "mixed": mark("At this η, BN is {parts}.")}
# The mixed verdict names its measures: "smoother on the gradient change, but about the same on the loss range and β".
MEASURE_SHORT = {"loss_range": mark("the loss range"), "grad_change": mark("the gradient change"),
                 "beta_smoothness": mark("β")}
ON_MEASURES = {"smaller": mark("smoother on {measures}"), "larger": mark("less smooth on {measures}"),
               "similar": mark("about the same on {measures}")}
MIXED_WHY = mark("At small learning rates both surfaces are smooth along the step; at large ones the plain network's "
                 "huge gradient makes its β small; and BN does not always smooth the landscape (Yao et al. 2020).")
measures = networks.compare_smoothness(with_bn, without, i)
verdicts = {m.verdict for m in measures}
mixed = frozenset(verdicts) not in SMOOTHER


def listed(items: list[str]) -> str:
    """Two or three items run together: "a and b"; "a, b and c"."""
    return tr("{first} and {second}", first=items[0], second=items[1]) if len(items) == 2 else \
        tr("{first}, {second} and {third}", first=items[0], second=items[1], third=items[2]) if len(items) == 3 \
        else items[0]


# Mixed: at most two measures share a verdict; the clauses (two or three) are run together with "but".
clauses = [tr(ON_MEASURES[v], measures=listed([tr(MEASURE_SHORT[m.measure]) for m in measures if m.verdict == v]))
           for v in ON_MEASURES if v in verdicts]
parts = clauses[0] if len(clauses) == 1 else tr("{first}, but {second}", first=clauses[0], second=clauses[1]) \
    if len(clauses) == 2 else tr("{first}, {second}, but {third}", first=clauses[0], second=clauses[1],
                                 third=clauses[2])
# The verdict first, in one sentence; the three measures, their definition and the caveats one click away.
controls.explained(tr(SMOOTHER.get(frozenset(verdicts), SMOOTHER["mixed"]), margin=networks.SMOOTHER_MARGIN,
                      parts=parts), join(
    tr("Averaged over training at η = {lr}, with BN against without: {measures}. β = max ‖∇L(θ − sηg) − ∇L(θ)‖ / "
       "‖sηg‖; means closer than {margin:.0%} count as the same.", lr=smooth_lr, margin=networks.SMOOTHER_MARGIN,
       measures=tr("; ").join(tr("{measure} {bn:.3g} vs {plain:.3g} ({verdict})", measure=tr(MEASURE_NAMES[m.measure]),
                                 bn=m.with_norm, plain=m.without,
                                 verdict=tr(VERDICTS[m.verdict], share=m.share, margin=m.margin)) for m in measures)),
    *([tr(MIXED_WHY)] if mixed else []),
    tr("Late in training a network without BN that has fitted the data has tiny gradients everywhere, so compare the "
       "whole curves, and try the largest η.")))
c1, c2, c3 = st.columns(3)
for col, field, title, y_title in ((c3, "beta_smoothness", tr("Effective β-smoothness along the step"), "β"),
                                   (c1, "loss_range", tr("Loss range along the step"), tr("loss")),
                                   (c2, "grad_change", tr("Gradient change along the step"), tr("gradient"))):
    # η is fixed here, so each kind has its own colour (and marks) as well as the page's dash: dashes alone break up
    # on these jagged curves (solid BN, dashed none, dotted LN, as on the page's other charts)
    curves = [figures.Series(name, getattr(r, field)[i], k, dash, r.measured_at)
              for k, (name, r, dash) in enumerate(RUNS)]
    with col:
        controls.chart(figures.step_curves_figure(curves, title=f"{title}, η = {smooth_lr}", y_title=y_title,
                                                  log_y=True, height=330), key=f"n_{field}")

controls.section(tr("Why does normalization help? Two explanations"),
                 tr("**Ioffe & Szegedy (2015)**: training shifts every layer's input distribution as the layers "
                    "before it change (*internal covariate shift*); normalizing each layer's pre-activations holds "
                    "their mean and variance still, so later layers need not keep re-adapting. **Santurkar et al. "
                    "(2018)** tested that: batch normalization with noise injected after it (the distribution shifts "
                    "again) trains just as well, so the shift is not what matters. What BN does is make the surface "
                    "smoother — the loss and its gradient change less along a step (the measures above) — and "
                    "other normalizations that smooth it as much (ℓₚ-normalization) help as much. Yao et al. (2020, "
                    "PyHessian) found the smoothing is not universal: in shallow networks BN did not make the "
                    "landscape smoother (the top Hessian eigenvalue did not fall)."), level="subheader")
st.markdown(tr("**Other normalizations** (most normalize the pre-activations z, then apply a learned γ, β; weight and "
               "spectral normalization rescale W instead):") + "\n\n"
            + "\n".join(f"- {tr(line)}" for line in OTHER_NORMALIZATIONS))

url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
