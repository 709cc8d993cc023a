import pytest
import torch

from introdl.experiments.loss import loss_along_weight
from introdl.losses import mse


def _line_model():
    X = torch.linspace(-1, 1, 20)[:, None]
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(2.0)
    return model, (X, 2.0 * X)


def test_loss_along_weight_restores_and_is_minimal_at_optimum():
    # least squares: J(w) is a parabola whose minimum is the trained weight
    model, data = _line_model()
    offsets = torch.linspace(-1, 1, 21)
    losses = loss_along_weight(model, model.weight, (0, 0), data, offsets, mse)
    assert losses.argmin().item() == 10 and losses[10].item() == pytest.approx(0.0)
    assert model.weight.item() == 2.0


def test_loss_along_weight_restores_the_weight_even_if_the_loss_raises():
    model, data = _line_model()

    def broken(out, y):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        loss_along_weight(model, model.weight, (0, 0), data, torch.ones(3), broken)
    assert model.weight.item() == 2.0


def test_loss_along_weight_misuse():
    model, data = _line_model()
    stranger = torch.nn.Parameter(torch.zeros(1, 1))
    with pytest.raises(ValueError, match="one of model.parameters"):
        loss_along_weight(model, stranger, (0, 0), data, torch.ones(3), mse)
    with pytest.raises(ValueError, match=r"index must pick one entry.*\(1, 1\)"):
        loss_along_weight(model, model.weight, (0, 5), data, torch.ones(3), mse)
    with pytest.raises(ValueError, match="index must pick one entry"):
        loss_along_weight(model, model.weight, "0", data, torch.ones(3), mse)
    wide = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"index must pick one entry.*\(1, 2\)"):
        loss_along_weight(wide, wide.weight, (0,), (torch.ones(4, 2), torch.ones(4, 1)),
                          torch.ones(3), mse)
    with pytest.raises(TypeError, match="offsets must be a torch.Tensor"):
        loss_along_weight(model, model.weight, (0, 0), data, [0.0, 1.0], mse)
    with pytest.raises(ValueError, match="offsets must have 1"):
        loss_along_weight(model, model.weight, (0, 0), data, torch.zeros(2, 2), mse)
    assert loss_along_weight(model, model.weight, (0, 0), data, torch.zeros(0),
                             mse).shape == (0,)
