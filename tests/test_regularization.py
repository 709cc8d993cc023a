import dataclasses

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.data import load_digits
from introdl.regularization import (Dropout, EarlyStopping, apply_dropout_mask,
                                    corrupt_labels, digits_mlp, draw_dropout,
                                    dropout, dropout_mask, plot_dropout_curves,
                                    plot_early_stopping, replay_early_stopping,
                                    train_digits)
from introdl.training import History, fit


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# --- dropout ---------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_dropout_statistics(p):
    x = torch.full((200_000,), 2.0, dtype=torch.float64)
    out = dropout(x, p, generator=_gen(1))
    kept = out != 0
    assert abs(kept.double().mean().item() - (1 - p)) < 0.005  # kept share ~ 1 - p
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 2.0 / (1 - p)))
    assert abs(out.mean().item() - 2.0) < 0.03  # the mean is preserved


def test_dropout_is_reproducible_with_a_generator():
    x = torch.randn(64, 32)
    a, b = dropout(x, 0.4, generator=_gen(7)), dropout(x, 0.4, generator=_gen(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, dropout(x, 0.4, generator=_gen(8)))


def test_dropout_identity_in_eval_and_for_p_zero():
    x = torch.randn(5, 4)
    assert dropout(x, 0.7, training=False) is x
    assert dropout(x, 0.0) is x
    assert Dropout(0.7).eval()(x) is x


def test_dropout_p_one_gives_zeros_and_zero_gradient():
    x = torch.randn(3, 4, requires_grad=True)
    out = dropout(x, 1.0)
    assert torch.equal(out, torch.zeros(3, 4))
    out.sum().backward()
    assert torch.equal(x.grad, torch.zeros(3, 4))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must lie in"):
        dropout(torch.randn(3), p)
    with pytest.raises(ValueError, match="p must lie in"):
        Dropout(p)


def test_dropout_rejects_integer_tensors():
    with pytest.raises(TypeError, match="floating"):
        dropout(torch.ones(3, dtype=torch.int64), 0.5)


def test_gradient_flows_only_through_kept_units():
    x = torch.randn(50, 20, dtype=torch.float64, requires_grad=True)
    w = torch.randn(50, 20, dtype=torch.float64)
    out = dropout(x, 0.5, generator=_gen(3))
    (out * w).sum().backward()
    kept = (out != 0).double()
    torch.testing.assert_close(x.grad, kept * w / 0.5)
    assert (x.grad[kept == 0] == 0).all() and (x.grad[kept == 1] != 0).all()


def test_dropped_hidden_units_give_their_weights_no_gradient():
    layer1, layer2 = torch.nn.Linear(4, 6), torch.nn.Linear(6, 1)
    x = torch.randn(1, 4)
    h = torch.relu(layer1(x) + 1.0)  # (1, 6), mostly positive
    h_drop = dropout(h, 0.5, generator=_gen(2))
    layer2(h_drop).sum().backward()
    dropped = (h_drop == 0)[0]
    assert dropped.any()
    assert (layer1.weight.grad[dropped] == 0).all()


def test_same_mask_gives_exactly_torchs_output_and_gradient():
    x = torch.randn(30, 10, dtype=torch.float64, requires_grad=True)
    theirs = F.dropout(x, 0.3)
    mask = (theirs != 0).to(x.dtype)  # torch's mask, read off its output
    ours = apply_dropout_mask(x, mask, 0.3)
    assert torch.equal(ours, theirs)
    (g_ours,) = torch.autograd.grad(ours.sum(), x)
    (g_theirs,) = torch.autograd.grad(theirs.sum(), x)
    assert torch.equal(g_ours, g_theirs)


def test_same_seed_gives_torchs_mask_on_cpu():
    x = torch.randn(1000)
    torch.manual_seed(5)
    theirs = F.dropout(x, 0.25)
    torch.manual_seed(5)
    assert torch.equal(dropout(x, 0.25), theirs)


def test_apply_dropout_mask_checks_shape():
    with pytest.raises(ValueError, match="mask must have the shape"):
        apply_dropout_mask(torch.randn(3, 4), torch.ones(4), 0.5)


@settings(max_examples=30, deadline=None)
@given(p=st.floats(0.0, 0.95), rows=st.integers(1, 6), cols=st.integers(1, 6),
       seed=st.integers(0, 1000))
def test_dropout_entries_are_zero_or_scaled(p, rows, cols, seed):
    x = torch.randn(rows, cols, dtype=torch.float64, generator=_gen(seed)) + 5.0
    out = dropout(x, p, generator=_gen(seed))
    kept = out != 0
    torch.testing.assert_close(out[kept], x[kept] / (1 - p))
    assert dropout_mask(x, p).shape == x.shape


def test_dropout_module_matches_nn_dropout_behaviour():
    ours, theirs = Dropout(0.4), torch.nn.Dropout(0.4)
    assert list(ours.parameters()) == [] and "p=0.4" in repr(ours)
    x = torch.randn(400, 50)
    torch.manual_seed(0)
    a = ours(x)
    torch.manual_seed(0)
    assert torch.equal(a, theirs(x))
    ours.eval()
    assert torch.equal(ours(x), x)


# --- early stopping ----------------------------------------------------------

def _run(stopper, values):
    return [stopper.step(v) for v in values]


def test_patience_counts_consecutive_epochs_without_improvement():
    es = EarlyStopping(patience=2)
    assert _run(es, [5.0, 4.0, 4.5, 3.0, 3.5, 3.2]) == [False] * 5 + [True]
    assert es.best == 3.0 and es.best_epoch == 3 and es.stopped_epoch == 5


@pytest.mark.parametrize("patience", [0, 1])
def test_patience_zero_behaves_like_one(patience):
    es = EarlyStopping(patience)
    assert _run(es, [3.0, 2.0, 2.5]) == [False, False, True]
    assert es.stopped_epoch == 2 and es.best_epoch == 1


def test_min_delta_requires_a_large_enough_improvement():
    es = EarlyStopping(patience=2, min_delta=0.1)
    assert _run(es, [1.0, 0.95, 0.9]) == [False, False, True]
    assert es.best == 1.0 and es.best_epoch == 0
    es = EarlyStopping(patience=2, min_delta=0.1)
    assert _run(es, [1.0, 0.95, 0.85, 0.8]) == [False, False, False, False]
    assert es.best_epoch == 2


def test_no_stop_and_nan_is_no_improvement():
    es = EarlyStopping(patience=3)
    assert not any(_run(es, [3.0, 2.0, 1.0]))
    assert es.stopped_epoch is None
    es = EarlyStopping(patience=1)
    assert _run(es, [1.0, float("nan")]) == [False, True]


def test_best_state_is_a_deep_copy():
    model = torch.nn.Linear(3, 2)
    es = EarlyStopping(patience=1)
    es.step(1.0, model.state_dict())
    before = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)  # training goes on and changes the weights
    es.step(2.0, model.state_dict())  # worse: best_state must keep the old ones
    torch.testing.assert_close(es.best_state["weight"], before)


def test_bad_arguments():
    with pytest.raises(ValueError, match="patience must be >= 0"):
        EarlyStopping(-1)
    with pytest.raises(TypeError, match="patience must be an int"):
        EarlyStopping(2.5)
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(1, min_delta=-0.1)
    with pytest.raises(TypeError, match="value must be a real number"):
        EarlyStopping(1).step("0.3")


def test_step_accepts_a_scalar_tensor():
    es = EarlyStopping(1)
    es.step(torch.tensor(0.5))
    assert es.best == 0.5


def test_replay_matches_step_by_step():
    values = [3.0, 2.0, 2.2, 1.5, 1.7, 1.8, 1.9, 1.0]
    es = replay_early_stopping(values, patience=3)
    assert es.best_epoch == 3 and es.stopped_epoch == 6


def _noisy_digits(n_train=150):
    split = load_digits(n_train=n_train)
    return dataclasses.replace(
        split, y_train=corrupt_labels(split.y_train, 0.3, seed=1))


def test_fit_with_early_stopping_stops_and_restores():
    # one weight w, pulled by the training loss towards 2; the validation
    # loss (w - 1)^2 is lowest when w passes 1 and rises after: overfitting
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    X = torch.ones(4, 1)
    es = EarlyStopping(patience=3)
    h = fit(model, (X, torch.full((4, 1), 2.0)), (X, torch.ones(4, 1)),
            loss_fn=F.mse_loss, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            num_epochs=50, early_stopping=es, restore_best=True)
    assert h.stopped_epoch == es.stopped_epoch == es.best_epoch + 3
    assert h.best_epoch == es.best_epoch > 0 and h.num_epochs == h.stopped_epoch + 1
    assert h.val_loss[h.best_epoch] == min(h.val_loss) == es.best
    assert h.val_loss[-1] > es.best
    assert torch.equal(model.weight, es.best_state["weight"])
    assert abs(model.weight.item() - 1.0) < 0.15  # restored: near the best w = 1


def test_fit_rejects_restore_without_early_stopping():
    model = torch.nn.Linear(64, 10)
    split = load_digits(n_train=20)
    with pytest.raises(ValueError, match="restore_best"):
        fit(model, split.train, split.val, loss_fn=F.cross_entropy,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=1,
            restore_best=True)


# --- experiment helpers and figures -------------------------------------------

def test_corrupt_labels_changes_the_requested_share():
    y = torch.arange(10).repeat(500)
    noisy = corrupt_labels(y, 0.2, seed=3)
    changed = noisy != y
    assert abs(changed.float().mean().item() - 0.2) < 0.02
    assert ((noisy >= 0) & (noisy < 10)).all()
    assert torch.equal(noisy, corrupt_labels(y, 0.2, seed=3))
    assert torch.equal(corrupt_labels(y, 0.0), y)
    with pytest.raises(ValueError, match="fraction"):
        corrupt_labels(y, 1.2)


def test_digits_mlp_is_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b = digits_mlp(32, p=0.0, seed=4), digits_mlp(32, p=0.5, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    assert a.state_dict().keys() == b.state_dict().keys()
    for key in a.state_dict():
        assert torch.equal(a.state_dict()[key], b.state_dict()[key])
    assert a(torch.zeros(2, 64)).shape == (2, 10)


def test_seeded_training_repeats():
    split = _noisy_digits(60)
    runs = [train_digits(digits_mlp(32, p=0.5, seed=2), split, num_epochs=3)
            for _ in range(2)]
    assert runs[0].val_loss == runs[1].val_loss


def _history():
    h = History(train_loss=[2.0, 1.0, 0.5, 0.3, 0.2, 0.1],
                val_loss=[2.1, 1.2, 0.9, 1.0, 1.1, 1.3],
                val_metric=[0.1, 0.5, 0.8, 0.8, 0.7, 0.7])
    h.best_epoch, h.stopped_epoch = 2, 4
    return h


def test_plot_early_stopping_marks_best_and_stop():
    fig = plot_early_stopping(_history(), patience=2)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("best epoch 2" in s for s in labels)
    assert any("stop at epoch 4" in s for s in labels)
    assert any("patience" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="val_loss"):
        plot_early_stopping(History(train_loss=[1.0]))


def test_plot_dropout_curves_and_diagram():
    fig = plot_dropout_curves({"a": _history(), "b": _history()})
    assert len(fig.axes[0].lines) == 4 and len(fig.axes[1].lines) == 2
    fig = draw_dropout(p=0.5, seed=3)
    gen = torch.Generator().manual_seed(3)
    dropped = sum((dropout_mask(torch.zeros(5), 0.5, gen) == 0).sum().item()
                  for _ in range(4))  # two masks over two hidden layers
    crosses = [ln for ln in fig.axes[0].lines if len(ln.get_xdata()) == 2]
    assert dropped > 0 and len(crosses) == 2 * dropped  # two strokes per unit
