"""Schedules and the problem of Adagrad; the lecture's summary as an optimizer builder (LECTURES 2.3)."""
import streamlit as st

import compute
import controls
import figures
import optimizers
import surfaces
from i18n import join, tr, tr_n
from optimizers.registry import HyperParam

PAGE = "schedules"
GRID = 120
VALLEY = "elongated_valley"
ADAGRAD_FORMS = ["adagrad", "adagrad_sum"]
DECAYS = [n for n in optimizers.schedule_names() if n != "constant"]
ETA = HyperParam("lr", "learning rate η", 0.5, 1e-3, 10.0, log=True)
SCHEDULE_ETA = HyperParam("lr", "base η", 0.1, 1e-5, 10.0, log=True)
COMPARABLE = [n for n in optimizers.names() if n != "composed"]
COMPOSED = optimizers.get("composed")
WARMUP_LRS = ["0.01", "0.03", "0.05"]
LECTURE = {"s_form": "adagrad", "s_lr": 0.5, "s_steps": 2000, "s_decay": "inverse_sqrt", "s_bx": -8.0, "s_by": 1.2,
           "s_sched": "noam", "s_noam_lr": 1.0, "s_noam_d_model": 512, "s_noam_warmup_steps": 4000,
           "s_sched_steps": 20_000, "s_m_term": "2", "s_sigma_term": "3", "s_bias_correction": "1",
           "s_b_schedule": "constant", "s_compare": ["adagrad", "rmsprop"]}


notes, url, _, _ = controls.page_start(PAGE, tr("Schedules and warm-up"), tr(
    "Adagrad's σ remembers every gradient — and forgets the size of old ones just when it matters. "
    "Make η depend on time and the problem goes away; then put every piece of an optimizer together yourself."),
    LECTURE, "s_preset", tr("Lecture example: Adagrad's bursts, the Transformer warm-up, Adam from its pieces"),
    sidebar_note=tr("Each section has its own controls, next to its figures."))
valley = surfaces.get(VALLEY)

controls.section(tr("1. The problem of Adagrad: bursts"),
                 tr("On the elongated valley the lecture's Adagrad reaches the flat floor, then keeps taking tiny "
                    "gradients along it. σ in the steep direction is the root *mean* square of all past gradients, so "
                    "as the tiny ones pile up it shrinks, the step η/σ there blows up and the path shoots out "
                    "sideways; σ grows again and the path falls back. Decay η over time and the bursts die out."), anchor="lecture-2-3")


@st.fragment  # Adagrad's form, η, steps, decay and start rerun this section only
def bursts_section():
    panels = controls.settings_row()  # on a projector the two folded panels share a row above the map
    with controls.settings(where=panels):  # on a projector folded: the map under them fills the first screen
        c1, c2, c3, c4 = st.columns([3, 2, 2, 3])  # the forms' and decays' names need the room
        form = controls.choice_select(tr("Adagrad form"), ADAGRAD_FORMS, "adagrad", "s_form", url, where=c1,
                                      format_func=lambda n: tr(optimizers.get(n).label))
        lr = controls.number_widget(ETA, "s_lr", url, where=c2)
        steps = controls.int_input(tr("steps"), 50, 20_000, 2000, "s_steps", url, where=c3)
        decay = controls.choice_select(tr("decay for the second run"), DECAYS, "inverse_sqrt", "s_decay", url, where=c4,
                                       format_func=lambda n: tr(optimizers.get_schedule(n).label))
    with panels.expander(tr("Start point and decay parameters"), expanded=False):
        bx, by = controls.point_input((tr("start x"), tr("start y")), valley.domain, (-8.0, 1.2),
                                      lambda axis: f"s_b{axis}", url)
        decay_params = {p.name: controls.number_widget(p, f"s_decay_{decay}_{p.name}", url)
                        for p in optimizers.get_schedule(decay).params}
    plain = compute.trajectory(VALLEY, form, (bx, by), steps, lr=lr)
    decayed = compute.trajectory(VALLEY, form, (bx, by), steps, decay, decay_params, lr=lr)
    runs = {tr("{optimizer}, constant η", optimizer=tr(optimizers.get(form).label)): plain,
            tr("… with {schedule}", schedule=tr(optimizers.get_schedule(decay).label).lower()): decayed}
    bursts = {label: optimizers.bursts(r.path[0]).peaks for label, r in runs.items()}
    lengths = {label: optimizers.step_lengths(r.path[0]) for label, r in runs.items()}
    controls.divergence_warnings(runs)
    left, right = st.columns([6, 5])
    with left:
        controls.chart(figures.contour_figure(
            compute.surface_grid(VALLEY, GRID), [figures.PathSet(label, r.path, r.loss) for label, r in runs.items()],
            log_color=True, critical=compute.critical_points(VALLEY), uirevision="bursts", height=560,
            title=tr(surfaces.get(VALLEY).title)),
            key="s_bursts_map")
    with right:
        # Both curves' cursors follow the map's frame; they open where the map does, at its last step.
        last = int(plain.path.shape[1] - 1)
        # Every burst the text counts, on both runs, numbered as in the text.
        markers = [(int(t), float(lengths[label][t]), str(k + 1)) for label in runs for k, t in enumerate(bursts[label])]
        # each run keeps its map dash (figures.path_dash of its index) on both curves
        controls.chart(figures.step_curves_figure(
            [figures.Series(label, lengths[label], i, figures.path_dash(i)) for i, label in enumerate(runs)],
            title=tr("Step length ‖θᵗ⁺¹ − θᵗ‖"), y_title=tr("step"), log_y=True, height=290, markers=markers,
            marker_label=tr("burst (its peak)"), cursor=last), key="s_step_length", follows="s_bursts_map")
        controls.chart(figures.step_curves_figure(
            [figures.Series(label, r.sigma[0, :, 1], i, figures.path_dash(i)) for i, (label, r) in enumerate(runs.items())],
            title=tr("σᵗ of the steep direction y"), y_title="σᵧ", log_y=True, height=270, legend=False,
            cursor=last), key="s_sigma_y", follows="s_bursts_map")
    counts = [join(tr_n("**{label}**: {count} burst", "**{label}**: {count} bursts", len(b), label=label),
                   tr("(peaks at steps {steps})", steps=", ".join(str(int(t)) for t in b)) if len(b) else "")
              for label, b in bursts.items()]
    st.markdown(join(tr("A burst: a hump of the step length that rises more than 100 times above the lowest step since "
                        "the last burst, and falls back by 100 times from its peak; ▼ marks each peak, numbered."),
                     tr("; ").join(counts) + tr(".")))
    controls.caption(tr("Why the mean form bursts and the sum form does not: the sum form divides by √(Σ g²), which never "
                  "shrinks; it *is* the mean form with η/√(t+1): with the default “1/√(t+1) decay”, the two runs of "
                  "the mean form are the two forms."))


bursts_section()


controls.section(tr("2. Learning-rate schedules"),
                 tr("Make η depend on the step t. **Decay** shrinks it as training goes on. **Warm-up** first grows "
                    "it, then decays it: early on σ is estimated from few gradients and varies a lot, so take small "
                    "steps until its statistics settle (RAdam, Liu et al. 2020). The Transformer's schedule does "
                    "exactly that."))


@st.fragment  # the schedule and its parameters rerun this section only
def schedule_section():
    c1, c2, c3 = st.columns([2, 1, 1])
    sched = controls.choice_select(tr("schedule"), optimizers.schedule_names(), "warmup_cosine", "s_sched", url, where=c1,
                                   format_func=lambda n: tr(optimizers.get_schedule(n).label))
    spec = optimizers.get_schedule(sched)
    base = controls.number_widget(SCHEDULE_ETA, f"s_{sched}_lr", url, where=c2, default=1.0 if sched == "noam" else 0.1,
                                  help=tr("For the Transformer schedule a factor: 1 is the paper's formula."))
    sched_steps = controls.int_input(tr("steps"), 10, optimizers.MAX_STEPS, 1000, "s_sched_steps", url, where=c3)
    cols = st.columns(max(1, len(spec.params)))
    sched_params = {p.name: controls.number_widget(p, f"s_{sched}_{p.name}", url, where=cols[i])
                    for i, p in enumerate(spec.params)}
    curve = compute.schedule_curve(sched, sched_steps, base, tuple(sorted(sched_params.items())))
    st.latex(spec.formula)
    left, right = st.columns([3, 1])
    with left:
        controls.chart(figures.step_curves_figure([figures.Series(tr(spec.label), curve, 1)], title="ηᵗ", y_title="η",
                                                  height=320, legend=False), key="s_curve")
    with right:
        peak = optimizers.peak_step(curve)
        st.metric(tr("largest η"), f"{curve[peak]:.3g}", help=tr("and the step where it is reached"))
        controls.caption(tr("at step {step:,}; at the last step η = {last:.3g}.", step=peak, last=curve[-1]))


schedule_section()


controls.section(tr("3. Build an optimizer from the lecture's summary"),
                 tr("Three switchable pieces: the direction m (the gradient, or a memory of past gradients: "
                    "momentum), the magnitude σ (root mean square of past gradients, any sign forgotten) and the "
                    "schedule ηᵗ. Some combinations have names; the page says which, and races yours against named "
                    "ones."),
                 latex=r"\theta^{t+1}_i = \theta^t_i - \frac{\eta^t}{\sigma^t_i}\, m^t_i", anchor="lecture-2-3-summary")


@st.fragment  # the builder's pieces and the race rerun this section only
def builder_section():
    params = {p.name: p for p in COMPOSED.params}
    c1, c2, c3 = st.columns([2, 4, 2])  # σ's choices are the longest names (up to ~65 characters)
    hp = {"m_term": controls.number_widget(params["m_term"], "s_m_term", url, where=c1),
          "sigma_term": controls.number_widget(params["sigma_term"], "s_sigma_term", url, where=c2),
          "bias_correction": controls.number_widget(params["bias_correction"], "s_bias_correction", url, where=c3)}
    c1, c2, c3, c4 = st.columns(4)
    hp["lr"] = controls.number_widget(params["lr"], "s_b_lr", url, where=c1)
    hp["beta1"] = controls.number_widget(params["beta1"], "s_b_beta1", url, where=c2)
    hp["beta2"] = controls.number_widget(params["beta2"], "s_b_beta2", url, where=c3)
    b_schedule = controls.choice_select(tr("schedule ηᵗ"), optimizers.schedule_names(), "constant", "s_b_schedule", url,
                                        where=c4, format_func=lambda n: tr(optimizers.get_schedule(n).label))
    with st.expander(tr("Surface, start, steps, ε and schedule parameters"), expanded=False):
        c1, c2, c3, c4 = st.columns(4)
        surface = controls.surface_select(url, key="s_surface", default=VALLEY, where=c1)
        record = surfaces.get(surface)
        sx, sy = controls.point_input((tr("start x"), tr("start y")), record.domain, record.starts[0],
                                      lambda axis: f"b{axis}_{controls.surface_key(surface)}", url, columns=(c2, c3))
        b_steps = controls.int_input(tr("steps"), 10, 20_000, 300, "s_b_steps", url, where=c4)
        hp["eps"] = controls.number_widget(params["eps"], "s_b_eps", url)
        b_sched_params = {p.name: controls.number_widget(p, f"s_b_{b_schedule}_{p.name}", url)
                          for p in optimizers.get_schedule(b_schedule).params}
    twin, sentence = optimizers.composed_equivalent(hp["m_term"], hp["sigma_term"], hp["bias_correction"], b_schedule)
    compare = controls.multi_select(tr("race against"), COMPARABLE, ["adagrad", "rmsprop"], "s_compare", url,
                                    format_func=lambda n: tr(optimizers.get(n).label))
    if twin and twin not in compare:
        compare = [twin, *compare]
    start = (sx, sy)
    controls.stop_unless_defined(surface, start, notes, url)
    built = compute.trajectory(surface, "composed", start, b_steps, b_schedule, b_sched_params, **hp)
    others = {n: compute.trajectory(surface, n, start, b_steps, *optimizers.race_schedule(n, twin, b_schedule, b_sched_params),
                                   **optimizers.matching_hyperparams(n, hp)) for n in compare}
    if twin:
        d = optimizers.largest_gap(built.path, others[twin].path)
        # "differ by at most 0" read as a riddle: equal paths are called identical.
        st.success(tr("This combination is **{name}**. Its path and {optimizer}'s (with β1 as λ / β1 and β2 as α / β2) "
                      "are identical over {steps:,} steps." if d == 0 else
                      "This combination is **{name}**. Its path and {optimizer}'s (with β1 as λ / β1 and β2 as α / β2) "
                      "differ by at most {distance:.2g} over {steps:,} steps.", name=tr(sentence),
                      optimizer=tr(optimizers.get(twin).label), distance=d, steps=b_steps))
    else:
        st.info(tr("This combination: **{name}**.", name=tr(sentence)))
    race = {tr("Your optimizer"): built,
            **{tr(optimizers.get(n).label): r for n, r in others.items()}}
    controls.divergence_warnings(race)
    builder_grid = compute.surface_grid(surface, GRID)
    builder_curves, builder_critical = compute.critical_set(surface)  # a continuum of minima is a curve, not points
    builder_map = figures.add_critical_curves(figures.contour_figure(
        builder_grid, [figures.PathSet(label, r.path, r.loss) for label, r in race.items()], log_color=record.log_color,
        critical=builder_critical, uirevision=f"{surface}-builder", height=580, title=tr(record.title),
        max_frames=figures.frames_for(len(race))), builder_curves)
    left, right = st.columns([6, 5])
    with left:
        controls.chart(builder_map, key="s_builder_map")
    with right:
        # run i is drawn with path_color(i), path_dash(i) on the map: the same here
        losses = [figures.Series(label, r.loss, i, figures.path_dash(i)) for i, (label, r) in enumerate(race.items())]
        controls.chart(figures.step_curves_figure(losses, title=tr("Loss L(θᵗ)"), y_title="L", height=330,
                                                  log_y=figures.wide_range([r.loss for r in race.values()], 100),
                                                  cursor=b_steps),
                       key="s_builder_loss", follows="s_builder_map")  # its cursor at the map's step
        st.markdown(tr("Your optimizer, piece by piece:"))
        st.latex(optimizers.rules.M_TERMS_LATEX[int(hp["m_term"])])
        st.latex(optimizers.rules.SIGMA_TERMS_LATEX[int(hp["sigma_term"])])
        if optimizers.bias_correction_applies(hp["m_term"], hp["sigma_term"]) and hp["bias_correction"] == 1:
            st.latex(r"\hat m^t = \frac{m^t}{1 - \beta_1^{t+1}},\quad (\hat\sigma^t)^2 = \frac{(\sigma^t)^2}{1 - \beta_2^{t+1}}")
            controls.caption(tr("Bias correction, for the averages started at 0."))

    controls.export_panel("builder", builder_map, tr("Optimizer race"), list(race), list(race.values()), builder_grid)


builder_section()


controls.section(tr("4. Does warm-up help Adam? A deep network"),
                 tr("Adam's first step is η·sign(g) in every coordinate — m̂/√v̂ = g/|g| when σ has seen one gradient — "
                    "so all weights move by η at once however small their gradients. Warm-up keeps the first steps "
                    "small until σ's estimate settles; RAdam builds that in (no σ while its variance is too large). "
                    "Here: an MLP with 6 hidden ReLU layers of 64 on the digits, batch 64, 8 epochs, the same starts "
                    "and batches for every run, 3 seeds each."))


@st.fragment  # η and the experiment switch rerun this section only
def warmup_section():
    c1, c2 = st.columns([1, 2])
    warm_lr = controls.choice_select(tr("learning rate η"), WARMUP_LRS, "0.03", "s_warm_lr", url, where=c1)
    with c2:
        run_warmup = controls.switch(tr("Run the warm-up experiment (12 networks; about 10 s the first time)"), "s_warmup",
                                     url)
    if run_warmup:
        done = controls.heavy_run(tr("Training 12 networks …"), compute.warmup_study, float(warm_lr))
        if done is None:  # the run failed; heavy_run said why
            return
        warm, warm_cached = done
        names = [tr(label) for label in warm.labels]  # networks.WARMUP_VARIANTS' labels
        st.dataframe([{tr("run"): names[k],
                       tr("test accuracy per seed"): ", ".join(f"{a:.1%}" for a in warm.test_accuracy[k]),
                       tr("mean"): f"{warm.mean_accuracy[k]:.1%}",
                       tr("distance moved in the first epoch ‖θ¹ − θ⁰‖"): ", ".join(f"{m:.3g}" for m in warm.first_epoch_move[k])}
                      for k in range(len(names))], hide_index=True, width="stretch")
        controls.chart(figures.step_curves_figure(
            [figures.Series(names[k], warm.train_loss[k], k, "solid" if k in (0, 3) else "dash") for k in range(len(names))],
            title=tr("Training loss per epoch (mean over seeds)"), x_title=tr("epoch"), y_title=tr("cross-entropy"),
            log_y=True, height=330), key="s_warmup_loss")
        gains = {k: warm.against_plain(k) for k in range(1, len(names))}
        st.markdown(join(
            tr("At η = {lr}, against plain Adam ({adam:.1%}): {results}.", lr=warm_lr, adam=warm.mean_accuracy[0],
               results=tr("; ").join(
                   tr("{name}: {points:+.1f} points ({mean:.1%}; ahead on {ahead} of {seeds} seeds, behind on {behind})",
                      name=names[k], points=g.points, mean=warm.mean_accuracy[k], ahead=g.seeds_ahead,
                      seeds=g.seeds, behind=g.seeds_behind) for k, g in gains.items())),
            tr("Ahead of plain Adam on every seed (same starts, same batches): {names}.",
               names=", ".join(names[k] for k in warm.ahead_on_every_seed)) if warm.ahead_on_every_seed else
            tr("No variant is ahead of plain Adam on every seed."),
            tr("Plain Adam has the best mean here: at this η no warm-up helps." if warm.best == 0 else
               "Best mean: {name}.", name=names[warm.best])))
        controls.caption(join(tr("The first epoch's move against Adam's, in the table's order: {ratios}. A warm-up keeps the "
                           "first steps short, but once the full η arrives Adam's steps are as large as before; RAdam "
                           "instead leaves σ out while its estimate is unreliable.",
                           ratios=", ".join(f"{g.move_ratio:.2g}×" for g in gains.values())),
                        tr("From the cache.") if warm_cached else ""))


warmup_section()


url.show(notes)  # last: the notes slot under the title lists every URL value that was refused
