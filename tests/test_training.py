"""Tests of the book's training loop and the tools around it
(introdl.training), including gradient clipping and misuse (issue 14)."""

import math
import types

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.regularization import EarlyStopping
from introdl.training import (
    History,
    accuracy,
    check_data,
    clip_grad_norm,
    eval_mode,
    evaluate,
    fit,
    iterate_minibatches,
    one_thread,
    parameter_count,
    per_example_gradients,
    train_epoch,
)


def _task(n=64, seed=0):
    """A tiny, linearly separable 3-class task."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 1).long()  # (n,) classes 0..2
    return X, y


def _model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(),
                               torch.nn.Linear(16, 3))


def _fit(model, **kwargs):
    args = dict(loss_fn=F.cross_entropy, num_epochs=20, batch_size=32,
                optimizer=torch.optim.Adam(model.parameters(), lr=0.05),
                generator=torch.Generator().manual_seed(0), progress=False)
    args.update(kwargs)
    return fit(model, _task(), _task(seed=1), **args)


def test_loss_falls_on_a_tiny_task():
    model = _model()
    history = _fit(model, metric=accuracy)
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    assert history.val_metric[-1] > 0.85


def test_history_fields():
    history = _fit(_model(), metric=accuracy, num_epochs=5)
    assert isinstance(history, History) and history.num_epochs == 5
    for values in (history.train_loss, history.val_loss, history.train_metric,
                   history.val_metric):
        assert len(values) == 5 and all(isinstance(v, float) for v in values)
    assert history.best_epoch == min(range(5), key=history.val_loss.__getitem__)
    assert history.stopped_epoch is None and history.grad_norm == []


def test_without_validation_or_metric_lists_stay_empty():
    model = _model()
    history = fit(model, _task(), loss_fn=F.cross_entropy, num_epochs=2,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                  progress=False)
    assert len(history.train_loss) == 2
    assert history.val_loss == history.train_metric == history.val_metric == []
    assert history.best_epoch is None


def test_seeded_runs_repeat():
    first = _fit(_model(seed=3), metric=accuracy, num_epochs=5)
    second = _fit(_model(seed=3), metric=accuracy, num_epochs=5)
    assert first == second
    other = _fit(_model(seed=4), metric=accuracy, num_epochs=5)
    assert other.train_loss != first.train_loss


def test_train_loss_is_the_mean_over_the_epoch():
    # with lr=0 the model never changes, so the epoch mean is the full-data loss
    model = _model()
    X, y = _task()
    history = fit(model, (X, y), loss_fn=F.cross_entropy, num_epochs=1, batch_size=10,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.0), progress=False)
    with torch.no_grad():
        expected = F.cross_entropy(model(X), y).item()
    assert history.train_loss[0] == pytest.approx(expected, rel=1e-5)


def test_clipping_records_grad_norms():
    history = _fit(_model(), clip_norm=0.5, num_epochs=3)
    assert len(history.grad_norm) == 3 and all(n > 0 for n in history.grad_norm)


class _StopAfter:
    """Minimal early-stopping stand-in: stops after ``patience`` calls."""

    def __init__(self, patience):
        self.patience, self.calls = patience, 0
        self.best_epoch, self.best_state = 0, None

    def step(self, value, state):
        if self.best_state is None:
            self.best_state = {k: v.clone() for k, v in state.items()}
        self.calls += 1
        return self.calls >= self.patience


def test_early_stopping_interface():
    model = _model()
    stopper = _StopAfter(patience=3)
    history = _fit(model, early_stopping=stopper, restore_best=True)
    assert history.num_epochs == 3 and history.stopped_epoch == 2
    assert history.best_epoch == 0
    for name, value in model.state_dict().items():  # restored to the first state
        torch.testing.assert_close(value, stopper.best_state[name])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_epochs=0), ValueError, "num_epochs"),
    (dict(num_epochs=2.5), TypeError, "num_epochs"),
    (dict(restore_best=True), ValueError, "restore_best"),
    (dict(clip_norm=0.0), ValueError, "max_norm"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        _fit(_model(), **kwargs)


def test_bad_data():
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, y = _task()
    with pytest.raises(TypeError, match="train_data must be a pair"):
        fit(model, X, loss_fn=F.cross_entropy, optimizer=opt, num_epochs=1)
    with pytest.raises(ValueError, match=r"same number \(> 0\) of rows, got shapes "
                                         r"\(64, 2\) and \(10,\)"):
        fit(model, (X, y[:10]), loss_fn=F.cross_entropy, optimizer=opt, num_epochs=1)
    with pytest.raises(ValueError, match="val_data"):
        fit(model, (X, y), (X, y[:3]), loss_fn=F.cross_entropy, optimizer=opt,
            num_epochs=1)
    with pytest.raises(ValueError, match="early_stopping needs val_data"):
        fit(model, (X, y), loss_fn=F.cross_entropy, optimizer=opt, num_epochs=1,
            early_stopping=_StopAfter(1))


@given(n=st.integers(1, 200), batch_size=st.one_of(st.none(), st.integers(1, 250)),
       seed=st.integers(0, 2**31), shuffle=st.booleans())
@settings(max_examples=100, deadline=None)
def test_minibatches_cover_every_index_once(n, batch_size, seed, shuffle):
    gen = torch.Generator().manual_seed(seed)
    batches = list(iterate_minibatches(n, batch_size, gen, shuffle=shuffle))
    assert sorted(torch.cat(batches).tolist()) == list(range(n))
    size = n if batch_size is None else batch_size
    assert all(len(b) == size for b in batches[:-1]) and 0 < len(batches[-1]) <= size
    if not shuffle:
        assert torch.cat(batches).tolist() == list(range(n))


def test_minibatches_are_seeded_and_validated():
    a = list(iterate_minibatches(20, 6, torch.Generator().manual_seed(1)))
    b = list(iterate_minibatches(20, 6, torch.Generator().manual_seed(1)))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(10, 0))
    with pytest.raises(ValueError, match="n must be"):
        list(iterate_minibatches(0, 4))


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1, 1])) == 0.75
    with pytest.raises(ValueError, match="logits must be"):
        accuracy(logits, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="logits must be"):
        accuracy(logits[:, 0], torch.tensor([0, 1, 1, 1]))


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_restores_mode_and_uses_eval(training):
    model = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(2, 3))
    model.train(training)
    X, y = _task()
    loss, acc = evaluate(model, (X, y), F.cross_entropy, accuracy)
    assert model.training is training
    with torch.no_grad():
        expected = F.cross_entropy(model[1](X), y).item()  # dropout off in eval mode
    assert loss == pytest.approx(expected) and 0 <= acc <= 1
    assert evaluate(model, (X, y), F.cross_entropy)[1] is None


def test_evaluate_restores_mode_when_the_loss_fails():
    model = torch.nn.Linear(2, 3)
    model.train()

    def broken_loss(out, y):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        evaluate(model, _task(), broken_loss)
    assert model.training


def test_clip_grad_norm_matches_torch():
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    X = torch.randn(8, 4)
    (a(X) ** 2).sum().backward()
    (b(X) ** 2).sum().backward()
    ours = clip_grad_norm(a.parameters(), 0.1)
    theirs = torch.nn.utils.clip_grad_norm_(b.parameters(), 0.1)
    torch.testing.assert_close(ours, theirs)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p.grad, q.grad)
    assert clip_grad_norm(torch.nn.Linear(2, 2).parameters(), 1.0).item() == 0.0


# --- gradient clipping by global norm (clip_grad_norm) ---------------------------

def _twins(seed=0, scale=5.0, dtype=torch.float64):
    """Two identical lists of parameters with identical random gradients."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    a = [torch.randn(s, generator=g, dtype=dtype, requires_grad=True) for s in shapes]
    b = [p.detach().clone().requires_grad_() for p in a]
    for p, q in zip(a, b):
        p.grad = scale * torch.randn(p.shape, generator=g, dtype=dtype)
        q.grad = p.grad.clone()
    return a, b


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e6])
def test_norm_and_scaling_match_torch(max_norm):
    ours, theirs = _twins()
    norm = clip_grad_norm(ours, max_norm)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    torch.testing.assert_close(norm, expected)
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p.grad, q.grad)


def test_clipping_keeps_the_direction_and_caps_the_length():
    ours, _ = _twins(scale=10.0)
    before = torch.cat([p.grad.flatten() for p in ours]).clone()
    norm = clip_grad_norm(ours, 1.0)
    after = torch.cat([p.grad.flatten() for p in ours])
    torch.testing.assert_close(norm, before.norm())
    torch.testing.assert_close(after.norm(), torch.tensor(1.0, dtype=after.dtype),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(after / after.norm(), before / before.norm())


def test_small_gradients_are_left_alone():
    ours, _ = _twins(scale=1e-3)
    before = [p.grad.clone() for p in ours]
    clip_grad_norm(ours, 1.0)
    for p, b in zip(ours, before):
        torch.testing.assert_close(p.grad, b)


def test_single_tensor_generator_and_missing_grads():
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.tensor([3.0, 0.0, 4.0])
    torch.testing.assert_close(clip_grad_norm(p, 1.0), torch.tensor(5.0))
    torch.testing.assert_close(p.grad, torch.tensor([0.6, 0.0, 0.8]), atol=1e-6,
                               rtol=0)
    model = torch.nn.Linear(3, 2)
    model(torch.randn(4, 3)).sum().backward()
    model.bias.grad = None  # parameters without gradients are skipped
    expected = model.weight.grad.norm()
    torch.testing.assert_close(clip_grad_norm(model.parameters(), 1e9), expected)
    assert clip_grad_norm([torch.zeros(2, requires_grad=True)], 1.0).item() == 0.0


def test_infinite_max_norm_never_clips():
    ours, _ = _twins(scale=1e6)
    before = [p.grad.clone() for p in ours]
    clip_grad_norm(ours, math.inf)
    for p, b in zip(ours, before):
        torch.testing.assert_close(p.grad, b)


@pytest.mark.parametrize("max_norm, error", [(0.0, ValueError), (-1.0, ValueError),
                                             ("1", TypeError)])
def test_bad_max_norm_is_rejected(max_norm, error):
    ours, _ = _twins()
    with pytest.raises(error, match="max_norm"):
        clip_grad_norm(ours, max_norm)


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(1e-4, 1e4), max_norm=st.floats(1e-3, 1e3))
def test_clipped_norm_is_the_smaller_of_norm_and_max_norm(scale, max_norm):
    ours, _ = _twins(scale=scale)
    norm = clip_grad_norm(ours, max_norm).item()
    after = math.sqrt(sum(p.grad.pow(2).sum().item() for p in ours))
    # the 1e-6 that guards against dividing by 0 shortens clipped norms by <= 1e-6
    assert after == pytest.approx(min(norm, max_norm), rel=1e-6, abs=2e-6)


def test_fit_clips_every_step():
    """With clip_norm, each update of plain SGD moves the weights by at most
    lr * clip_norm; fit records the norms before clipping."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(32, 3, generator=g), 100 * torch.randn(32, 1, generator=g)
    model = torch.nn.Linear(3, 1)
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    history = fit(model, (X, y), loss_fn=torch.nn.functional.mse_loss,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=1,
                  clip_norm=0.5)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm() <= 0.1 * 0.5 + 1e-6
    assert history.grad_norm[0] > 0.5


def test_clip_grad_norm_refuses_a_used_up_generator_where_torch_only_warns():
    model = torch.nn.Linear(3, 2)
    model(torch.randn(4, 3)).sum().backward()
    params = model.parameters()
    list(params)  # used up, e.g. by an earlier loop over it
    with pytest.raises(ValueError, match="parameters must hold at least one tensor"):
        clip_grad_norm(params, 1.0)
    used = model.parameters()
    list(used)
    with pytest.warns(UserWarning, match="empty generator"):
        torch.nn.utils.clip_grad_norm_(used, 1.0)
    with pytest.raises(ValueError, match="at least one tensor"):
        clip_grad_norm([], 1.0)


@pytest.mark.parametrize("parameters, error, match", [
    (torch.nn.Linear(2, 2), TypeError, "parameters must be an iterable of tensors"),
    (None, TypeError, "parameters must be an iterable"),
    ([torch.zeros(2, requires_grad=True), "w"], TypeError, r"parameters\[1\]"),
    ([torch.zeros(2, dtype=torch.int64)], TypeError, "floating-point"),
])
def test_clip_grad_norm_bad_parameters(parameters, error, match):
    with pytest.raises(error, match=match):
        clip_grad_norm(parameters, 1.0)


def test_clip_grad_norm_refuses_a_tensor_listed_twice():
    """Listed twice, a gradient would count twice in the norm and be scaled twice."""
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.ones(3)
    with pytest.raises(ValueError, match="twice"):
        clip_grad_norm([p, p], 1.0)
    assert torch.equal(p.grad, torch.ones(3))  # refused before touching anything


@pytest.mark.parametrize("max_norm", [math.nan, None, -math.inf])
def test_clip_grad_norm_bad_max_norm(max_norm):
    ours, _ = _twins()
    with pytest.raises((TypeError, ValueError), match="max_norm"):
        clip_grad_norm(ours, max_norm)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_clip_grad_norm_non_finite_gradients_as_torch(bad):
    """Documented result: a non-finite norm is returned, and the gradients are
    spoiled exactly as torch.nn.utils.clip_grad_norm_ spoils them."""
    ours, theirs = _twins()
    ours[0].grad[0, 0] = theirs[0].grad[0, 0] = bad
    norm = clip_grad_norm(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    torch.testing.assert_close(norm, expected, equal_nan=True)
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p.grad, q.grad, equal_nan=True)


def test_clip_grad_norm_zero_dim_and_empty_tensors():
    a = torch.tensor(3.0, requires_grad=True)
    b = torch.zeros(0, requires_grad=True)
    a.grad, b.grad = torch.tensor(-4.0), torch.zeros(0)
    torch.testing.assert_close(clip_grad_norm([a, b], 2.0), torch.tensor(4.0))
    torch.testing.assert_close(a.grad, torch.tensor(-2.0), atol=1e-5, rtol=0)


# --- per-example gradients -----------------------------------------------------

def test_per_example_gradients_average_to_the_full_gradient(make_data):
    from introdl.landscape import tiny_mlp

    X, y = make_data(n=48)
    model = tiny_mlp(5, 4, 3, seed=0).double()
    G = per_example_gradients(model, F.cross_entropy, X, y)
    assert G.shape == (48, 4 * 6 + 3 * 5)
    full = torch.autograd.grad(F.cross_entropy(model(X), y), list(model.parameters()))
    torch.testing.assert_close(G.mean(0), torch.cat([g.reshape(-1) for g in full]))
    one = torch.autograd.grad(F.cross_entropy(model(X[7:8]), y[7:8]),
                              list(model.parameters()))
    torch.testing.assert_close(G[7], torch.cat([g.reshape(-1) for g in one]))


def test_per_example_gradients_skip_frozen_and_zero_unused_parameters(make_data):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = torch.nn.Linear(3, 2), torch.nn.Linear(4, 4)

        def forward(self, X):
            return self.used(X)  # self.unused never runs: its gradient is 0

    X, y = make_data(n=6, d=3, C=2)
    model = Net().double()
    model.used.bias.requires_grad_(False)  # frozen: left out
    G = per_example_gradients(model, F.cross_entropy, X, y)
    assert G.shape == (6, 6 + 16 + 4)
    assert torch.equal(G[:, -20:], torch.zeros(6, 20, dtype=torch.float64))
    assert (G[:, :6] != 0).any()


@pytest.mark.parametrize("X, y, error", [
    (torch.zeros(4, 3), torch.zeros(3, dtype=torch.int64), ValueError),
    (torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64), ValueError),
    (torch.tensor(1.0), torch.tensor(0), ValueError),
    ([[0.0, 1.0, 2.0]], torch.zeros(1, dtype=torch.int64), TypeError),
])
def test_per_example_gradients_misuse(X, y, error):
    with pytest.raises(error, match=r"\(X, y\)"):
        per_example_gradients(torch.nn.Linear(3, 2), F.cross_entropy, X, y)


# --- fit: misuse and diverging runs (issue 14) -----------------------------------

def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same_state(model, state):
    return all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def _nan_val_data():
    X, y = _task(seed=1)
    return X, torch.full_like(y, -100)  # cross_entropy ignores every target: NaN


def test_nan_validation_loss_really_is_nan():
    model = _model()
    assert math.isnan(evaluate(model, _nan_val_data(), F.cross_entropy)[0])


@pytest.mark.parametrize("patience", [0, 1, 3])
def test_restore_best_without_any_improvement_restores_the_starting_weights(patience):
    """Issue 14 (1): every validation loss is NaN, so no epoch ever improves;
    fit must not crash on the missing best state but restore the start."""
    model = _model()
    start = _state(model)
    stopper = EarlyStopping(patience)
    history = fit(model, _task(), _nan_val_data(), loss_fn=F.cross_entropy,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.5), num_epochs=6,
                  batch_size=16, early_stopping=stopper, restore_best=True)
    assert history.num_epochs == max(patience, 1)  # stopped after patience epochs
    assert history.best_epoch is None and stopper.best_state is None
    assert _same_state(model, start)  # the weights it started from


def test_restore_best_with_a_first_nan_then_improvements():
    """A NaN first epoch is no improvement; a later finite one is."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    X = torch.ones(4, 1)
    values = iter([math.nan, 0.5, 0.4, 0.6, 0.7])

    def loss_fn(out, y):
        return F.mse_loss(out, y) if torch.is_grad_enabled() else torch.tensor(
            next(values))

    stopper = EarlyStopping(patience=2)
    h = fit(model, (X, 2 * X), (X, X), loss_fn=loss_fn, num_epochs=5,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            early_stopping=stopper, restore_best=True)
    assert math.isnan(h.val_loss[0]) and h.best_epoch == 2 and h.stopped_epoch == 4
    assert torch.equal(model.weight, stopper.best_state["weight"])


def test_an_early_stopping_object_reused_for_three_runs_starts_afresh():
    """Issue 14 (2): fit resets the stopper, so each run lasts as long as with a
    fresh one (before the fix: 50, 5 and 1 epochs)."""
    def run(stopper, seed):
        model = _model(seed)
        return fit(model, _task(), _task(seed=1), loss_fn=F.cross_entropy,
                   optimizer=torch.optim.Adam(model.parameters(), lr=0.05),
                   num_epochs=40, batch_size=None, early_stopping=stopper,
                   generator=torch.Generator().manual_seed(seed))

    shared = EarlyStopping(patience=3)
    reused = [run(shared, seed) for seed in range(3)]
    fresh = [run(EarlyStopping(patience=3), seed) for seed in range(3)]
    assert [h.num_epochs for h in reused] == [h.num_epochs for h in fresh]
    assert [h.best_epoch for h in reused] == [h.best_epoch for h in fresh]
    assert shared.best_epoch == fresh[-1].best_epoch


def test_a_diverging_run_is_recorded_and_never_crashes_fit():
    """A learning rate far too large: the loss overflows to inf, then NaN. fit
    records the first such epoch, keeps every list in step, and with early
    stopping and restore_best it restores weights from before the blow-up."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(64, 3, generator=g), 100 * torch.randn(64, 1, generator=g)
    model = torch.nn.Linear(3, 1)
    start = _state(model)
    h = fit(model, (X, y), (X, y), loss_fn=F.mse_loss, num_epochs=6, batch_size=16,
            optimizer=torch.optim.SGD(model.parameters(), lr=10.0), clip_norm=math.inf,
            metric=lambda out, y: (out - y).abs().mean().item())
    assert h.diverged_epoch is not None and not math.isfinite(h.train_loss[-1])
    assert all(math.isfinite(v) for v in h.train_loss[:h.diverged_epoch])
    assert len(h.train_loss) == len(h.val_loss) == len(h.grad_norm) == 6
    assert h.best_epoch is None or math.isfinite(h.val_loss[h.best_epoch])

    model.load_state_dict(start)
    stopper = EarlyStopping(patience=2)
    h = fit(model, (X, y), (X, y), loss_fn=F.mse_loss, num_epochs=6, batch_size=16,
            optimizer=torch.optim.SGD(model.parameters(), lr=10.0),
            early_stopping=stopper, restore_best=True, metric=accuracy_like)
    assert h.stopped_epoch is not None
    assert all(torch.isfinite(p).all() for p in model.parameters())


def accuracy_like(out, y):
    return (out.sign() == y.sign()).float().mean().item()


def test_a_run_that_never_diverges_records_none():
    history = _fit(_model(), num_epochs=3)
    assert history.diverged_epoch is None


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_epochs=None), TypeError, "num_epochs"),
    (dict(num_epochs=-1), ValueError, "num_epochs"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=2.5), TypeError, "batch_size"),
    (dict(batch_size=True), TypeError, "batch_size"),
    (dict(clip_norm=math.nan), ValueError, "max_norm"),
    (dict(clip_norm="1"), TypeError, "max_norm"),
    (dict(generator=0), TypeError, "generator"),
    (dict(loss_fn=lambda out, y: F.cross_entropy(out, y, reduction="none")),
     ValueError, "loss_fn must return one number"),
])
def test_fit_misuse_is_refused_naming_the_argument(kwargs, error, match):
    model = _model()
    start = _state(model)
    with pytest.raises(error, match=match):
        _fit(model, **kwargs)
    assert _same_state(model, start)  # refused before any step


@pytest.mark.parametrize("train_data, error", [
    ((x for x in _task()), TypeError),  # a generator, not a pair
    ([_task()[0]], TypeError),
    ((_task()[0], _task()[1], None), TypeError),
    ((_task()[0].tolist(), _task()[1]), TypeError),
    ((torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)), ValueError),
    ((torch.tensor(1.0), torch.tensor(0)), ValueError),
])
def test_fit_refuses_bad_training_data(train_data, error):
    model = _model()
    with pytest.raises(error, match="train_data"):
        fit(model, train_data, loss_fn=F.cross_entropy, num_epochs=1,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def test_fit_checks_val_data_before_training():
    model = _model()
    start = _state(model)
    X, y = _task()
    with pytest.raises(ValueError, match="val_data"):
        fit(model, (X, y), (X[:5], y), loss_fn=F.cross_entropy, num_epochs=3,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert _same_state(model, start)


def test_fit_refuses_what_is_not_a_model_or_an_optimizer():
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        fit(lambda X: X, _task(), loss_fn=F.cross_entropy, num_epochs=1,
            optimizer=torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
    model = _model()
    with pytest.raises(TypeError, match="zero_grad"):  # the class, not an optimizer
        fit(model, _task(), loss_fn=F.cross_entropy, num_epochs=1,
            optimizer=torch.optim.SGD)


def test_fit_accepts_lists_as_pairs_and_none_for_every_option():
    model = _model()
    X, y = _task()
    history = fit(model, [X, y], None, loss_fn=F.cross_entropy, num_epochs=2,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                  batch_size=None, metric=None, early_stopping=None,
                  clip_norm=None, generator=None)
    assert history.num_epochs == 2 and history.grad_norm == []


def test_fit_accepts_a_stopper_without_reset():
    """Any object with step/best_epoch/best_state works; reset() is optional."""
    stopper = _StopAfter(patience=2)
    assert not hasattr(stopper, "reset")
    history = _fit(_model(), early_stopping=stopper)
    assert history.num_epochs == 2


def test_fit_progress_prints_one_line_per_epoch(capsys):
    _fit(_model(), num_epochs=3, progress=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 0: training loss")


def test_fit_with_batch_larger_than_the_data_is_full_batch():
    a, b = _model(), _model()
    h1 = fit(a, _task(), loss_fn=F.cross_entropy, num_epochs=2, batch_size=10_000,
             optimizer=torch.optim.SGD(a.parameters(), lr=0.1),
             generator=torch.Generator().manual_seed(0))
    h2 = fit(b, _task(), loss_fn=F.cross_entropy, num_epochs=2, batch_size=None,
             optimizer=torch.optim.SGD(b.parameters(), lr=0.1),
             generator=torch.Generator().manual_seed(0))
    assert h1 == h2


def test_train_epoch_returns_the_mean_loss_and_no_norm_without_clipping():
    model = _model()
    X, y = _task()
    loss, norm = train_epoch(model, (X, y), F.cross_entropy,
                             torch.optim.SGD(model.parameters(), lr=0.0), batch_size=8)
    assert norm is None and loss == pytest.approx(
        F.cross_entropy(model(X), y).item(), rel=1e-5)
    assert model.training


# --- History, check_data, eval_mode, one_thread, parameter_count, accuracy -------

def test_history_add_skips_what_was_not_measured():
    h = History()
    h.add(train_loss=1.0, val_loss=None, grad_norm=2.0)
    h.add(train_loss=0.5, val_loss=None, grad_norm=None)
    assert h.train_loss == [1.0, 0.5] and h.val_loss == [] and h.grad_norm == [2.0]
    assert h.num_epochs == 2
    with pytest.raises(AttributeError):
        h.add(bogus=1.0)


@pytest.mark.parametrize("data, error", [
    (None, TypeError), (torch.zeros(3, 2), TypeError), ((torch.zeros(3),), TypeError),
    ({"X": 1, "y": 2}, TypeError), ((torch.zeros(3), [0, 1, 2]), TypeError),
    ((torch.zeros(3), torch.zeros(2)), ValueError),
    ((torch.zeros(0, 2), torch.zeros(0)), ValueError),
    ((torch.tensor(0.0), torch.tensor(0.0)), ValueError),
])
def test_check_data_misuse(data, error):
    with pytest.raises(error, match="data"):
        check_data("data", data)


def test_check_data_returns_the_pair():
    X, y = torch.zeros(3, 2), torch.zeros(3)
    assert check_data("d", [X, y]) == (X, y)


@pytest.mark.parametrize("training", [True, False])
def test_eval_mode_restores_the_mode_even_on_error(training):
    model = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(2, 2))
    model.train(training)
    with eval_mode(model) as inside:
        assert inside is model and not model.training and not model[0].training
    assert model.training is training
    with pytest.raises(RuntimeError, match="boom"):
        with eval_mode(model):
            raise RuntimeError("boom")
    assert model.training is training
    with eval_mode(model), eval_mode(model):  # nested
        assert not model.training
    assert model.training is training


def test_eval_mode_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        with eval_mode(lambda x: x):
            pass


def test_evaluate_misuse():
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        evaluate(lambda X: X, _task(), F.cross_entropy)
    with pytest.raises(TypeError, match="data must be a pair"):
        evaluate(_model(), _task()[0], F.cross_entropy)


def test_one_thread_restores_the_thread_count_even_on_error():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError):
            with one_thread():
                assert torch.get_num_threads() == 1
                raise RuntimeError
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_parameter_count():
    a, b = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    b.weight = a.weight  # tied: counted once, as model.parameters() yields it once
    assert parameter_count(torch.nn.Sequential(a, b)) == 9 + 3 + 3
    assert parameter_count(torch.nn.ReLU()) == 0
    with pytest.raises(TypeError, match="module must be an nn.Module"):
        parameter_count([torch.zeros(3)])


def test_accuracy_edge_cases():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0]])
    assert accuracy(logits.tolist(), [0, 0]) == 0.5  # lists are read as tensors
    assert math.isnan(accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(ValueError, match="C > 0"):
        accuracy(torch.zeros(2, 0), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="logits must be"):
        accuracy(torch.tensor(1.0), torch.tensor(0))
    nan_logits = torch.full((3, 2), math.nan)
    assert 0 <= accuracy(nan_logits, torch.tensor([0, 1, 0])) <= 1  # no crash


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 20), C=st.integers(1, 6), seed=st.integers(0, 1000))
def test_accuracy_is_the_share_of_correct_rows(n, C, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, C, generator=g)
    y = torch.randint(0, C, (n,), generator=g)
    expected = sum(int(logits[i].argmax() == y[i]) for i in range(n)) / n
    assert accuracy(logits, y) == pytest.approx(expected)


def test_iterate_minibatches_misuse():
    for n, batch_size, error in ((0, 2, ValueError), (3.0, 2, TypeError),
                                 (3, -1, ValueError), (3, "2", TypeError)):
        with pytest.raises(error):
            list(iterate_minibatches(n, batch_size))
    assert isinstance(iterate_minibatches(3, 2), types.GeneratorType)
