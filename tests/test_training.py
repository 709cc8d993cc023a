import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.training import (History, accuracy, clip_grad_norm, evaluate, fit,
                              iterate_minibatches)


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
    with pytest.raises(ValueError, match="X has 64 rows but y has 10"):
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
