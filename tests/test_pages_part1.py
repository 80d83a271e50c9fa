"""AppTest: the lecture part 1 pages (critical points, momentum, batch size) with defaults, changes and bad URLs."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import ROOT, TIMEOUT, arr, charts, ok, page, plain, text
from streamlit.testing.v1 import AppTest


def surface_view(at: AppTest) -> dict:
    """Critical points' 3-D view (picked in a fresh session, so the shared one keeps the contour map)."""
    view = page("critical_points")
    view.segmented_control(key="cp_view").set_value("3-D").run()
    return charts(ok(view))[0]


def test_critical_points_defaults_to_the_lecture_saddle(opened):
    at = opened("critical_points")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["L(θ′)"] == "1" and metrics["minimum ratio (share of λ > 0)"] == "0.5"
    assert "Saddle" in at.success[0].value and "-2 and 2" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["kind"]).count("saddle") == 1 and "degenerate" not in set(table["kind"])
    assert list(table["kind"]).count("valley of minima") == 1  # the curve w1·w2 = 1, one row
    figs = charts(at)
    for fig in (figs[0], surface_view(at)):  # the map and the 3-D view: one labelled curve, no isolated degenerate marks
        names = [t.get("name", "") for t in fig["data"]]
        assert sum("valley of minima" in n for n in names) == 1 and "degenerate" not in names
    assert len(figs) >= 6
    assert any(f["data"][0]["type"] == "heatmap" for f in figs)  # the signature map
    assert sum(1 for f in figs if f.get("frames")) == 1  # the saddle escape is animated
    contour = figs[0]
    assert {a.get("text") for a in contour["layout"]["annotations"]} >= {"λ1 = -2", "λ2 = 2"}
    assert "0.0625" in text(at)  # Taylor error r⁴ on the default window r = 0.5
    # the hidden saddle: a bowl in the (w₁, w₂) slice, a saddle with all three parameters
    hidden = at.dataframe[-1].value
    assert list(hidden["kind"]) == ["minimum", "saddle"]
    assert hidden["eigenvalues"][0] == "2, 2" and hidden["eigenvalues"][1] == "-0.562, 2, 3.56"
    (along,) = [f for f in figs if "through the origin" in json.dumps(f["layout"].get("title"))]
    escape, w3 = (arr(t["y"]) for t in along["data"])
    assert escape.min() < -0.2 and w3.min() >= 0  # down along the eigenvector, up along w₃ alone


def test_the_camera_script_goes_out_once_a_run_however_many_3d_views():
    # Critical points opens with no 3-D scene (both its views are maps: no WebGL on the first draw) and no camera
    # script; with the surface and the Taylor window both in 3-D, keep_camera.js goes out once, not twice.
    def scenes(at):
        return [f for f in charts(at) if any(t["type"] in ("surface", "mesh3d", "scatter3d") for t in f["data"])]

    def scripts(at):
        return [e for e in at.get("html") if "__keepsCamera" in e.proto.body]

    at = ok(page("critical_points"))
    assert not scenes(at) and not scripts(at)
    at.segmented_control(key="cp_taylor_view").set_value("3-D").run()
    assert len(scenes(at)) == 1 and len(scripts(at)) == 1
    at.segmented_control(key="cp_view").set_value("3-D").run()
    assert len(scenes(at)) == 2 and len(scripts(at)) == 1, (len(scenes(at)), len(scripts(at)))
    at.run()  # and again on the next run
    assert len(scripts(at)) == 1


def test_the_taylor_window_is_a_map_of_l_and_q_unless_3d_is_asked_for():
    at = ok(page("critical_points", radius="0.8"))
    (window,) = [f for f in charts(at) if any(t.get("name") == "Taylor quadratic Q" for t in f["data"])]
    assert window["layout"]["images"] and {t["type"] for t in window["data"]} == {"scatter"}
    # Both maps of "The quadratic picture" say what they show in a title (the signature map was named only in the
    # caption under it): the Taylor map names L and Q, the shaded one the Hessian's signature.
    (signature,) = [f for f in charts(at) if f["data"][0]["type"] == "heatmap"
                    and f["data"][0]["colorbar"]["title"]["text"] == "λ > 0"]
    assert {"Taylor", "L", "Q"} <= set(re.findall(r"\w+", window["layout"]["title"]["text"]))
    assert "Hessian's signature" in signature["layout"]["title"]["text"]
    caption = text(at)
    assert "at the same levels orange and dashed" in caption and "θ′ ± 0.8" in caption
    at.segmented_control(key="cp_taylor_view").set_value("3-D").run()
    (window,) = [f for f in charts(at) if any(t.get("name") == "Taylor quadratic Q" for t in f["data"])]
    assert {t["type"] for t in window["data"]} == {"surface", "scatter3d"} and "(orange mesh)" in text(at)
    assert "Taylor" in window["layout"]["title"]["text"]


def test_the_minimum_ratio_experiment_opens_running_from_a_link():
    at = ok(page("critical_points", cp_ratio="1"))  # the link Home gives
    assert at.toggle(key="cp_ratio").value
    (fig,) = [f for f in charts(at) if "against minimum ratio" in json.dumps(f["layout"].get("title"))]
    ratios, losses = arr(fig["data"][0]["x"]), arr(fig["data"][0]["y"])
    assert len(ratios) == 24 and np.all(ratios < 1)  # no refined point is a true minimum
    assert ratios[np.argmax(losses)] < ratios[np.argmin(losses)]  # high loss: saddles; low loss: closer to minima
    assert "reach ratio 1" in text(at)
    # The refinement stops short of ‖∇L‖ = 0: the caption says how short, against the tolerance it calls critical.
    import compute
    import surfaces

    study, _ = compute.saddle_study("moons")  # what the page showed, from the cache
    assert "Of 24 refined points" in text(at)
    assert (f"‖∇L‖ ≤ {study.largest_gradient_norm:.1g} at every one, and "
            f"{study.critical_count(surfaces.CRITICAL_GRADIENT)} of them are below 0.001") in text(at)
    bad = ok(page("critical_points", cp_ratio="maybe"))
    assert "maybe ignored" in bad.warning[0].value and not bad.toggle(key="cp_ratio").value


def test_a_point_of_the_valley_of_minima_explains_its_zero_eigenvalue():
    at = ok(page("critical_points", px_lecture_saddle="1", py_lecture_saddle="1"))
    assert any("Degenerate" in w.value for w in at.warning)
    assert float({m.label: m.value for m in at.metric}["L(θ′)"]) < 1e-6  # a point of the curve w1·w2 = 1
    assert "1 positive, 1 zero, 0 negative" in text(at)  # the ratio ½ explained where it is shown


def test_the_saddle_escape_caption_says_whose_eigenvalue_is_whose(opened):
    body = text(opened("critical_points"))
    assert "The saddle at (0, 0) has eigenvalues -2 and 2." in body
    assert "whose eigenvalue at the start is -2.36" in body


def test_playground_on_the_lecture_example_ends_on_the_valley():
    at = ok(AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=TIMEOUT).run())
    at.button(key="pg_preset").click().run()
    ok(at)
    nearest = list(at.dataframe[0].value["nearest critical point"])
    assert any(n.startswith("on the valley of minima") for n in nearest), nearest
    assert not any(n.startswith("degenerate") for n in nearest)


def test_playground_marks_starts_away_from_the_maximum_on_a_log_loss_axis_with_a_table_that_fits():
    """Issue 30 item 5: the default race's starts are marked, the loss axis shows all 300 steps, the table fits."""
    at = ok(page("playground"))
    contour, loss = charts(at)[:2]
    start = [t for t in contour["data"] if t.get("name") == "start"][0]
    xy = np.column_stack([arr(start["x"]), arr(start["y"])])
    np.testing.assert_allclose(xy, [[-1.0, -0.5]], atol=1e-6)  # one ring at the runs' shared start
    maximum = [t for t in contour["data"] if t.get("name") == "maximum"][0]
    gap = np.hypot(xy[0, 0] - arr(maximum["x"])[0], xy[0, 1] - arr(maximum["y"])[0])
    assert gap > 0.05 * 10, gap  # at least 5 % of the 10-wide map from the maximum's mark (it was 0.04)
    # Gradient descent reaches L = 0 exactly (float32) by step ~20 of 300: a linear axis pressed every curve flat
    # against 0 from there on; on a log axis each curve's fall is seen to its end.
    assert loss["layout"]["yaxis"]["type"] == "log"
    ys = [arr(t["y"]) for t in loss["data"] if t.get("legendgroup")]
    falls = [np.nanmax(y) / np.nanmin(y[y > 0]) for y in ys]
    assert min(falls) > 1e6, falls
    # Gradient descent's loss is exactly 0 from some step on: its curve ends there with a mark that says so.
    (zero,) = [t for t in loss["data"] if t.get("name", "").startswith("L = 0 from here")]
    gd = arr([t for t in loss["data"] if t.get("legendgroup") == "1. Gradient descent"][0]["y"])
    last = int(np.flatnonzero(np.isfinite(gd))[-1])
    assert arr(zero["x"]).tolist() == [last] and arr(zero["customdata"]).tolist() == [last + 1]
    table = at.dataframe[0].value
    longest = max(len(str(v)) for column in table.columns for v in table[column])
    assert longest <= 34, [v for column in table.columns for v in table[column] if len(str(v)) > 34]
    assert set(table["distance to it"]) and all(float(d) >= 0 for d in table["distance to it"])


def test_playground_3d_view_names_its_paths_and_draws_them_wide():
    """Issue 30 item 5: the 3-D view had no legend and 5 px paths, lost on the shaded surface."""
    at = ok(page("playground"))
    at.segmented_control(key="pg_view").set_value("3-D").run()
    scene = charts(ok(at))[0]
    paths = [t for t in scene["data"] if t.get("legendgroup")]
    assert scene["layout"]["showlegend"] is True
    assert [t["name"] for t in paths] == ["1. Gradient descent", "2. Momentum", "3. Adam"]
    assert all(t["line"]["width"] >= 8 for t in paths)
    start = [t for t in scene["data"] if t.get("name") == "start"][0]
    np.testing.assert_allclose(arr(start["x"]), [-1.0], atol=1e-6)


def test_playground_lecture_example_names_the_paths_on_one_route():
    """All three runs leave the saddle along its one way down: the legend says so, the animation shows their speeds."""
    at = ok(page("playground", preset="pg_preset"))
    names = [t["name"] for t in charts(at)[0]["data"] if t.get("legendgroup")]
    # Momentum overshoots the valley furthest: gradient descent's route lies along its route and is hidden by it;
    # Adam's keeps a few pixels off it.
    assert names == ["1. Gradient descent (on the route of 2. Momentum)", "2. Momentum", "3. Adam"]


def test_himmelblau_from_the_url_lists_nine_points_and_a_non_critical_point_says_so():
    at = ok(page("critical_points", surface="himmelblau", px_himmelblau="1", py_himmelblau="1"))
    kinds = list(at.dataframe[0].value["kind"])
    assert len(kinds) == 9 and kinds.count("minimum") == 4 and kinds.count("saddle") == 4
    assert any("Not a critical point" in i.value for i in at.info)


def test_a_surface_without_a_saddle_says_so_instead_of_escaping():
    at = ok(page("critical_points", surface="elongated_valley"))
    assert any("no saddle point in view" in i.value for i in at.info)


def test_momentum_defaults_show_the_lecture_point():
    at = ok(page("momentum"))
    rows = at.dataframe[0].value
    ends = dict(zip(rows["run"], rows["ended near"]))
    assert ends["Gradient descent"].startswith("minimum at (1.33")
    assert ends["Momentum λ = 0.9"].startswith("minimum at (-1.48")
    figs = charts(at)
    assert sum(1 for f in figs if f.get("frames")) == 2  # the 2-D race and the ball on a curve
    bars = [f for f in figs if f["data"][0]["type"] == "bar"][0]
    # m⁴⁰ at the default step t = 40 with λ = 0.9: the newest 40 weights λᵏ (MAX_BARS), oldest on the left
    assert at.slider(key="m_t").value == 40
    np.testing.assert_allclose(arr(bars["data"][0]["y"]), 0.9 ** np.arange(40)[::-1], rtol=1e-12)
    anatomy = figs[2]
    assert {a.get("text") for a in anatomy["layout"]["annotations"]} >= {"λ·mᵗ", "−η·gᵗ", "mᵗ⁺¹"}


def test_step_slider_and_preset():
    at = ok(page("momentum", surface="plateau", m_t="0"))
    assert any("no past movement" in m.value for m in at.markdown)
    at.button(key="m_preset").click().run()
    ok(at)
    assert at.selectbox(key="surface").value == "local_minima" and at.slider(key="m_t").value == 40


def test_momentum_divergence_is_reported():
    at = ok(page("momentum", surface="himmelblau", m_lr="1"))
    assert any("diverged at step" in w.value for w in at.warning)


def test_batch_size_defaults(opened):
    at = opened("batch_size")
    body = text(at)
    assert "32 updates per epoch, 1600 in all" in body and "1 update per epoch, 50 in all" in body
    shown = {m.label: m.value for m in at.metric}
    # The lecture example: full-batch GD stalls in the poor minimum, every mini-batch seed leaves it.
    assert shown["B = 1: runs that left it"] == "5 / 5" and float(shown["full batch: L where it stopped"]) > 0.5
    low, high = (float(v) for v in shown["B = 1: L where the runs ended"].split(" – "))
    assert high < 0.05 and "(both positive: a local minimum)" in body and "5 of 5 mini-batch runs" in body
    assert "a line fit's surface is convex" not in body
    metrics = {m.label: float(m.value.rstrip(" %")) for m in at.metric if m.value.endswith("%")}
    assert metrics["runs that leave the sharp minimum"] > metrics["runs that leave the flat minimum"] + 30
    figs = charts(at)
    assert len(figs) == 6 and sum(1 for f in figs if f.get("frames")) == 1  # both batch sizes on one animated map
    timing = [f for f in figs if f["layout"]["xaxis"].get("type") == "log"  # the loss per update is on one too
              and "Loss on all" not in json.dumps(f["layout"].get("title"))][0]
    assert [t["name"] for t in timing["data"]] == ["one update", "one epoch"]
    assert at.table[0].value.shape == (6, 3)


def test_changing_the_batch_size_changes_updates_per_epoch(opened):
    at = opened("batch_size")
    at.number_input(key="b_small").set_value(4).run()
    ok(at)
    assert "8 updates per epoch, 400 in all" in text(at)


def test_the_line_fit_says_it_is_convex_and_nothing_leaves_its_minimum():
    at = ok(page("batch_size", b_model="line"))
    body = text(at)
    assert "a line fit's surface is convex" in body and "0 of 5 mini-batch runs" in body
    assert {m.label: m.value for m in at.metric}["B = 1: runs that left it"] == "0 / 5"
    at.button(key="b_preset").click().run()  # the lecture example: back to the frequency fit
    ok(at)
    assert at.selectbox(key="b_model").value == "sine" and "5 of 5 mini-batch runs" in text(at)


def test_equal_batch_sizes_and_a_diverging_escape_are_shown_not_crashed():
    at = ok(page("batch_size", b_small="31", b_large="31", b_epochs="1", b_seeds="1"))
    assert "2 updates per epoch, 2 in all" in text(at)
    at = ok(page("critical_points", esc_lr="1", esc_kick="2", esc_noise="5"))
    assert any("Diverged" in w.value and "Gradient descent** at step" in w.value for w in at.warning)


def test_bad_url_values_are_refused_with_a_note():
    at = ok(page("batch_size", b_small="999", b_lr="abc"))
    assert at.warning and "b_small=999" in plain(at.warning[0].value) and "b_lr=abc" in plain(at.warning[0].value)
    assert "32 updates per epoch" in text(at)  # fell back to the default B = 1


@pytest.mark.parametrize("name, title", [("critical_points", "Critical points and the Hessian"),
                                         ("momentum", "Momentum"), ("batch_size", "Batch size")])
def test_navigation_reaches_each_page(name, title):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page(f"app_pages/{name}.py").run()
    assert ok(at).title[0].value == title


def test_batch_size_loss_charts_say_what_they_show_and_tell_the_batches_apart(opened):
    """Issue 30 (items 3, 4): the loss charts are of every run on all N examples (not "full-batch loss", which read as
    the B = N curve); B = 32 = N draws one line for its five seeds and says so; B = 1's five seeds really differ; the
    two batch sizes differ in colour and in dash."""
    figs = charts(opened("batch_size", b_small="1"))  # its own session: the module's default one has B changed
    titles = [json.dumps(f["layout"].get("title", {}).get("text", "")) for f in figs]
    assert not any("Full-batch loss" in t for t in titles)
    for when, steps in (("epoch", 51), ("update", None)):
        (chart,) = [f for f, t in zip(figs, titles) if f"Loss on all N = 32 training examples, after each {when}" in t]
        by_name = {}
        for trace in chart["data"]:
            by_name.setdefault(trace["name"], []).append(trace)
        assert set(by_name) == {"B = 1, 5 shuffling seeds", "B = 32 = N (full batch): all 5 seeds give one line"}
        small, large = by_name["B = 1, 5 shuffling seeds"], by_name["B = 32 = N (full batch): all 5 seeds give one line"]
        assert len(small) == len(large) == 5
        assert len(arr(small[0]["y"])) == (steps or 1601) and len(arr(large[0]["y"])) == (steps or 51)
        ends = [arr(t["y"])[-1] for t in large]
        assert max(ends) - min(ends) < 1e-6  # the full batch: every shuffle the same batch, one line
        assert max(arr(t["y"])[-1] for t in small) - min(arr(t["y"])[-1] for t in small) > 1e-3  # five real runs
        assert small[0]["line"]["color"] != large[0]["line"]["color"]
        assert small[0]["line"]["dash"] != large[0]["line"]["dash"]
        if when == "update":  # B = 32 has 50 updates to B = 1's 1,600: on a linear axis it filled 3 % of the width
            last = [float(arr(runs[0]["x"]).max()) for runs in (large, small)]
            assert chart["layout"]["xaxis"]["type"] == "log" and last == [len(arr(r[0]["y"])) - 1 for r in (large, small)]
            assert np.log10(last[0]) / np.log10(last[1]) > 0.5  # on the log axis the large batch spans half of it


def test_batch_size_plays_both_batch_sizes_on_one_clock_of_examples(opened):
    """Issue 30 (item 3): one Play button and one slider for B = 1 and B = 32; frame k is epoch k, where both runs
    have taken 32·k examples: B = 1 has made 32·k updates, B = 32 (= N) k updates. The heads sit where the runs are
    (oracle: the runs themselves, ``compute.sgd_run``)."""
    import compute

    figs = charts(opened("batch_size", b_small="1"))
    (race,) = [f for f in figs if f.get("frames")]
    steps = race["layout"]["sliders"][0]["steps"]
    assert len(race["frames"]) == len(steps) == 51 and race["layout"]["sliders"][0]["currentvalue"]["prefix"] == ""
    assert len(race["layout"]["updatemenus"]) == 1  # one Play / Continue / Pause row for both
    assert steps[0]["label"] == "epoch 0 · B = 1: 0 updates · B = 32: 0 updates"
    assert steps[1]["label"] == "epoch 1 · B = 1: 32 updates · B = 32: 1 update"
    assert steps[50]["label"] == "epoch 50 · B = 1: 1600 updates · B = 32: 50 updates"
    small = compute.sgd_run(1, 50, 0.2, (0.5, 0.0), 5, "sine")
    large = compute.sgd_run(32, 50, 0.2, (0.5, 0.0), 5, "sine")
    names = [t.get("name") for t in race["data"]]
    heads = names.index("position")
    for k in (0, 1, 7, 25, 50):
        frame = race["frames"][k]
        assert frame["name"] == str(k) and steps[k]["args"][0] == [str(k)]
        (head,) = [d for d, i in zip(frame["data"], frame["traces"]) if i == heads]
        # examples seen: 32·k updates of 1 example = k updates of 32 examples
        expected = np.concatenate([small.path[:, 32 * k], large.path[:, k]])
        np.testing.assert_allclose(arr(head["x"]), expected[:, 0], atol=1e-5)
        np.testing.assert_allclose(arr(head["y"]), expected[:, 1], atol=1e-5)
    styles = {t["name"]: (t["line"]["color"], t["line"]["dash"]) for t in race["data"] if t.get("legendgroup")}
    assert list(styles) == ["B = 1, 5 shuffling seeds", "B = 32 = N (full batch): all 5 seeds give one line"]
    (c1, d1), (c2, d2) = styles.values()
    assert c1 != c2 and d1 != d2


def test_batch_size_captions_lead_with_one_plain_sentence_and_fold_the_precise_version(opened):
    """Issue 30 (item 6): each dense caption is one plain sentence on the page; its numbers are one click away, in an
    "In detail" expander under it."""
    at = opened("batch_size", b_small="1")
    folded = {c.value for e in at.expander if e.label == "In detail" for c in e.caption}
    shown = [c.value for c in at.caption if c.value not in folded]
    for lead, precise in (("where the full batch stopped (✕), none of them is flat.", "the mini-batch gradients there"),
                          ("The full batch stopped where its gradient is zero; 5 of 5 runs with B = 1 went on to a "
                           "lower loss.", "Full-batch gradient descent (B = N = 32) stopped at"),
                          ("A larger batch makes an epoch faster on this device.", "one jitted SGD update per batch")):
        (sentence,) = [c for c in shown if lead in c]
        assert sentence.count(". ") == 0 and len(sentence) < 130, sentence  # one sentence, short
        assert not any(precise in c for c in shown) and any(precise in c for c in folded)
