import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.data import load_digits
from introdl.regularization import (
    Dropout,
    EarlyStopping,
    apply_dropout_mask,
    corrupt_labels,
    dropout,
    dropout_mask,
    replay_early_stopping,
)
from introdl.training import fit


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
    with pytest.raises(ValueError, match=r"mask shape \[4\] is not x's \[3, 4\]"):
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


# --- label noise ----------------------------------------------------------------

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




def test_corrupt_labels_is_bit_identical_to_its_first_version():
    """The same draws in the same order as before the rewrite: the chapter's
    noisy labels do not change."""
    y = torch.arange(10).repeat(30)
    g = torch.Generator().manual_seed(1)
    wrong = torch.rand(y.shape, generator=g) < 0.2
    shift = torch.randint(1, 10, y.shape, generator=g)
    assert torch.equal(corrupt_labels(y, 0.2, seed=1),
                       torch.where(wrong, (y + shift) % 10, y))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 50), C=st.integers(2, 12), fraction=st.floats(0, 1),
       seed=st.integers(0, 100))
def test_corrupt_labels_only_ever_changes_a_label_to_another_class(n, C, fraction,
                                                                    seed):
    y = torch.randint(0, C, (n,), generator=_gen(seed))
    noisy = corrupt_labels(y, fraction, num_classes=C, seed=seed)
    assert noisy.shape == y.shape and noisy.dtype == y.dtype
    assert ((noisy >= 0) & (noisy < C)).all()
    if fraction == 1.0:
        assert (noisy != y).all()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(y=[1, 2]), TypeError, "y must be a torch.Tensor"),
    (dict(fraction=math.nan), ValueError, "fraction"),
    (dict(fraction=None), TypeError, "fraction"),
    (dict(num_classes=1), ValueError, "num_classes must be >= 2, got 1"),
    (dict(num_classes=0), ValueError, "num_classes"),
    (dict(num_classes=2.0), TypeError, "num_classes"),
])
def test_corrupt_labels_misuse(kwargs, error, match):
    args = dict(y=torch.arange(4), fraction=0.5, num_classes=4)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        corrupt_labels(**args)


def test_corrupt_labels_zero_dim_and_empty():
    assert corrupt_labels(torch.tensor(3), 1.0, num_classes=4).shape == ()
    assert corrupt_labels(torch.tensor(3), 1.0, num_classes=4).item() != 3
    assert corrupt_labels(torch.zeros(0, dtype=torch.long), 0.5).shape == (0,)


# --- dropout: misuse -----------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2)])
def test_dropout_zero_dim_and_empty_tensors_keep_their_shape(shape):
    x = torch.ones(shape)
    out = dropout(x, 0.5, generator=_gen(0))
    assert out.shape == x.shape and dropout_mask(x, 0.5).shape == x.shape
    assert set(out.flatten().tolist()) <= {0.0, 2.0}
    assert Dropout(0.5)(x).shape == x.shape


@pytest.mark.parametrize("p, error", [(None, TypeError), ("0.5", TypeError),
                                      (True, TypeError), (math.inf, ValueError)])
def test_dropout_bad_p_type(p, error):
    for call in (lambda: dropout(torch.ones(3), p), lambda: Dropout(p),
                 lambda: dropout_mask(torch.ones(3), p),
                 lambda: apply_dropout_mask(torch.ones(3), torch.ones(3), p)):
        with pytest.raises(error, match="p"):
            call()


def test_dropout_bad_x_and_generator():
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        dropout([1.0, 2.0], 0.5)
    with pytest.raises(TypeError, match="generator"):
        dropout(torch.ones(3), 0.5, generator=7)


def test_dropout_with_none_generator_uses_the_global_generator():
    x = torch.ones(100)
    torch.manual_seed(1)
    a = dropout(x, 0.5, generator=None)
    torch.manual_seed(1)
    assert torch.equal(a, Dropout(0.5, generator=None)(x))


def test_dropout_passes_nan_and_inf_on_like_torch():
    """Documented result: a dropped NaN or inf stays NaN (x * 0), as in torch."""
    x = torch.tensor([math.nan, math.inf, 1.0] * 100)
    mask = (torch.rand(300, generator=_gen(0)) < 0.5).float()
    ours = apply_dropout_mask(x, mask, 0.5)
    theirs = x * mask / 0.5
    torch.testing.assert_close(ours, theirs, equal_nan=True)


def test_apply_dropout_mask_reads_a_mask_of_any_type_in_x_dtype():
    x = torch.ones(2, dtype=torch.float64)
    expected = torch.tensor([2.0, 0.0], dtype=torch.float64)
    for mask in ([1, 0], [True, False], torch.tensor([1, 0])):
        assert torch.equal(apply_dropout_mask(x, mask, 0.5), expected)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        apply_dropout_mask([1.0, 1.0], torch.ones(2), 0.5)
    with pytest.raises(ValueError, match=r"mask shape \[3\]"):
        apply_dropout_mask(x, [1, 0, 1], 0.5)


def test_dropout_layer_reused_in_eval_and_train_mode():
    layer = Dropout(0.5, generator=_gen(0))
    x = torch.ones(50)
    first = layer(x)
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert not torch.equal(layer(x), first)  # the generator moved on: a new mask


# --- early stopping: misuse and reuse ------------------------------------------

def test_reset_forgets_a_run():
    es = EarlyStopping(patience=1)
    assert _run(es, [1.0, 2.0]) == [False, True]
    es.reset()
    assert es.best == math.inf and es.best_epoch is None and es.stopped_epoch is None
    assert es.best_state is None and es.num_bad_epochs == 0
    assert _run(es, [3.0, 2.0, 2.5]) == [False, False, True]
    assert es.best_epoch == 1 and es.stopped_epoch == 2  # counted from 0 again


def test_a_stopper_reused_by_fit_behaves_like_a_fresh_one():
    """fit calls reset() at the start of every run (issue 14, item 2)."""
    model = torch.nn.Linear(1, 1, bias=False)
    X = torch.ones(4, 1)
    shared, lengths = EarlyStopping(patience=2), []
    for _ in range(3):
        torch.nn.init.zeros_(model.weight)
        h = fit(model, (X, 2 * X), (X, X), loss_fn=F.mse_loss, num_epochs=50,
                optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                early_stopping=shared)
        lengths.append(h.num_epochs)
    assert lengths[0] == lengths[1] == lengths[2] < 50


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values(value):
    es = EarlyStopping(patience=1)
    stop = es.step(value)
    if value == -math.inf:  # the lowest loss there is: an improvement
        assert not stop and es.best == -math.inf and es.best_epoch == 0
    else:  # NaN and inf never improve on inf
        assert stop and es.best_epoch is None and es.stopped_epoch == 0


@pytest.mark.parametrize("value, error", [
    (None, TypeError), ("1.0", TypeError), (True, TypeError),
    (torch.tensor([1.0, 2.0]), TypeError), ([0.5], TypeError),
])
def test_step_refuses_what_is_not_one_number(value, error):
    es = EarlyStopping(patience=1)
    with pytest.raises(error, match="value must be a real number"):
        es.step(value)
    assert es.epoch == -1  # nothing was recorded


def test_step_accepts_ints_and_one_element_tensors_of_any_shape():
    es = EarlyStopping(patience=1)
    assert not es.step(3)
    assert not es.step(torch.tensor([[2.0]]))
    assert es.best == 2.0 and isinstance(es.best, float)


def test_best_state_none_and_empty_states():
    es = EarlyStopping(patience=1)
    es.step(1.0, None)
    assert es.best_state is None and es.best_epoch == 0
    es.step(0.5, {})
    assert es.best_state == {}


@pytest.mark.parametrize("kwargs, error", [
    (dict(patience=None), TypeError), (dict(patience=True), TypeError),
    (dict(patience=1, min_delta=None), TypeError),
    (dict(patience=1, min_delta=math.nan), ValueError),
])
def test_early_stopping_bad_construction(kwargs, error):
    with pytest.raises(error, match="patience|min_delta"):
        EarlyStopping(**kwargs)


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.one_of(st.floats(0, 10), st.just(math.nan)), max_size=15),
       patience=st.integers(0, 4))
def test_replay_stops_after_patience_bad_epochs(values, patience):
    es = replay_early_stopping(iter(values), patience)  # a generator works too
    seen = values[:es.epoch + 1]
    finite = [v for v in seen if not math.isnan(v)]
    if es.best_epoch is None:
        assert not finite
    else:
        assert seen[es.best_epoch] == min(finite)
    if es.stopped_epoch is not None:
        assert es.stopped_epoch == es.epoch and es.num_bad_epochs == max(patience, 1)
