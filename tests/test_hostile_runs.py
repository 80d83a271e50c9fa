"""Runs that cannot start or that blow up: a message, and nothing NaN drawn or printed; a diverged network still drawn."""
from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import no_exception, open_link

import networks
from networks import landscape

UNDEFINED = "log(x) + y**2"  # not defined for x ≤ 0
NAN_TEXT = re.compile(r"\bnan\b|\binf\b", re.IGNORECASE)


def everything_shown(at) -> list[str]:
    texts = [str(e.value) for kind in ("markdown", "caption", "warning", "error", "info", "success", "latex", "code")
             for e in getattr(at, kind)]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    texts += [df.value.to_string() for df in at.dataframe]
    return texts


@pytest.mark.parametrize("page, query", [
    ("playground", {"surface": "custom", "x1_custom": "-1", "y1_custom": "0"}),
    ("momentum", {"surface": "custom", "mx_custom": "-1", "my_custom": "0"}),
    ("adaptive_lr", {"surface": "custom", "ax_custom": "-1", "ay_custom": "0"}),
    ("critical_points", {"surface": "custom", "px_custom": "-1", "py_custom": "0"}),
    ("schedules", {"s_surface": "custom", "bx_custom": "-1", "by_custom": "0"}),
])
def test_a_start_where_f_is_not_defined_says_so_and_draws_nothing_nan(page, query):
    key = "s_surface" if page == "schedules" else "surface"
    at = open_link(page, {**query, f"{key}_formula": UNDEFINED})
    no_exception(at)
    assert any("f is not defined at the start (-1, 0)" in w.value for w in at.warning), [w.value for w in at.warning]
    for shown in everything_shown(at):
        if "f is not defined at the start" not in shown:
            assert not NAN_TEXT.search(shown), shown[:300]


def test_one_undefined_start_of_several_is_left_out_on_the_playground():
    at = open_link("playground", {"surface": "custom", "surface_formula": UNDEFINED, "starts": "2", "x1_custom": "-1",
                                  "y1_custom": "0", "x2_custom": "1", "y2_custom": "1", "steps": "30"})
    no_exception(at)
    table = at.dataframe[0].value
    assert len(table) == 3 and set(table["start"]) == {"(1, 1)"}  # 3 optimizers from the defined start only


@pytest.mark.parametrize("rows", [1, 2])
def test_pca_of_a_path_too_short_for_two_directions(rows):
    params = {"w": np.zeros(3, np.float32)}
    path = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
    (d1, d2), coords, explained = landscape.pca_directions(path, params)
    assert explained.shape == (2,) and coords.shape == (rows, 2)
    assert explained[1] == 0.0 and np.isfinite(explained).all()


def test_a_network_that_diverges_in_its_first_epoch_is_reported_and_drawn():
    at = open_link("network_lab", {"o9_momentum_lr": "10"})  # the default network, η = 10: NaN in epoch 0
    no_exception(at)
    assert any("diverged" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.get("plotly_chart")


def test_the_largest_network_asks_before_it_trains_and_states_the_estimate():
    largest = {"nl_depth": "4", "nl_width": "256", "nl_batch": "1", "nl_epochs": "200"}  # 153 s here, 1.15 GB
    at = open_link("network_lab", largest)
    no_exception(at)
    [warning] = [w.value for w in at.warning if "This run is long" in w.value]
    assert "287,600 updates of 216,586 parameters" in warning
    assert at.button(key="nl_train") and not at.get("plotly_chart")  # nothing trained yet


def test_the_default_network_trains_without_asking():
    import compute

    updates, parameters, seconds = compute.training_estimate(networks.lab_config(
        "digits", networks.MLP((64, 64)), "momentum", {"lr": 0.01, "momentum": 0.9}, "constant", {}, 64, 20, 0))
    assert seconds < compute.LONG_TRAINING_S and updates == 20 * 23
