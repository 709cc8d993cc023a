import pytest
import torch

from introdl.experiments.neural_networks import (
    DepthWidthRun,
    depth_width_demo,
    spiral_data,
)


def test_spiral_data_is_seeded_balanced_and_shaped():
    X, y = spiral_data(n=60, seed=1)
    X2, y2 = spiral_data(n=60, seed=1)
    assert X.shape == (60, 2) and X.dtype == torch.float32
    assert y.dtype == torch.int64 and y.sum() == 30
    torch.testing.assert_close(X, X2)
    X0, _ = spiral_data(n=60, noise=0.0)
    assert X0.norm(dim=1).max() <= 1.0 + 1e-6
    with pytest.raises(ValueError, match="turns"):
        spiral_data(turns=0)
    with pytest.raises(TypeError, match="seed"):
        spiral_data(seed=None)
    with pytest.raises(ValueError, match="noise"):
        spiral_data(noise=-1.0)


@pytest.mark.slow
def test_depth_width_demo_hidden_layer_beats_linear():
    X, y = spiral_data(n=120, seed=0)
    res = depth_width_demo({"none": [], "wide": [32]}, X, y, num_epochs=150, lr=0.03)
    assert all(isinstance(r, DepthWidthRun) for r in res.values())
    assert res["none"].num_params == 6 and res["wide"].num_params == 162
    assert res["none"].accuracy < 0.75 < 0.9 < res["wide"].accuracy
    again = depth_width_demo({"wide": [32]}, X, y, num_epochs=150, lr=0.03)
    assert again["wide"].history.train_loss == res["wide"].history.train_loss


def test_depth_width_demo_checks_its_arguments():
    X, y = spiral_data(n=10)
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        depth_width_demo({"none": []}, X.tolist(), y)
    with pytest.raises(ValueError, match="num_epochs"):
        depth_width_demo({"none": []}, X, y, num_epochs=0)
    assert depth_width_demo({}, X, y) == {}
