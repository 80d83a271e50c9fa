"""networks.slice_directions: the three kinds of 2-D landscape slice around a trained network."""
import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import networks


@pytest.fixture(scope="module")
def trained():
    config = networks.TrainConfig(dataset="iris", model=networks.MLP((6,), "tanh"), optimizer="adam",
                                  hyperparams=(("lr", 0.02),), batch_size=16, epochs=10)
    result = networks.train_network(config)
    return result, jax.tree.map(jax.numpy.asarray, result.final)


def test_random_slices_are_filter_normalized_and_span_as_asked(trained):
    result, params = trained
    d = networks.slice_directions("random", result, params, 0.5)
    assert d.extent == 0.5 and d.path is None and d.values is None
    flat = ravel_pytree(d.d1)[0]
    assert flat.shape == ravel_pytree(params)[0].shape and not np.allclose(flat, ravel_pytree(d.d2)[0])


def test_hessian_slice_is_scaled_to_the_weights(trained):
    result, params = trained
    d = networks.slice_directions("hessian", result, params, 1.0)
    lmax, lmin = d.values
    assert lmax >= lmin
    norm = float(np.linalg.norm(result.path[-1]))
    for v in (d.d1, d.d2):  # unit eigenvectors times ‖θ‖
        assert float(np.linalg.norm(ravel_pytree(v)[0])) == pytest.approx(norm, rel=1e-3)


def test_pca_slice_holds_the_whole_path(trained):
    result, params = trained
    d = networks.slice_directions("pca", result, params, 1.0)
    assert d.path.shape == (len(result.path), 2) and sum(d.values) <= 1.0 + 1e-6
    assert np.abs(d.path).max() < d.extent  # 1.25 × the path's reach
