"""Tests of introdl.schedules: our schedules give the learning rates of
torch.optim.lr_scheduler's, with our optimizers and torch's, and refuse misuse."""

import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler

from introdl import optim
from introdl.schedules import (
    Scheduler,
    cosine_annealing,
    linear_warmup,
    step_decay,
    warmup_cosine,
)
from introdl.training import fit

T = 60


def lrs_of(optimizer, scheduler, num_steps=T):
    """The learning rates of every parameter group at steps 0..num_steps-1."""
    def read():
        if hasattr(optimizer, "param_groups"):
            return [g["lr"] for g in optimizer.param_groups]
        return [optimizer.lr]
    out = []
    for _ in range(num_steps):
        out.append(read())
        optimizer.step()  # no gradients: no weight changes
        scheduler.step()
    return out


def torch_sgd(lrs=(0.1,)):
    """A torch SGD with one parameter group per learning rate in ``lrs``."""
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
              for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


PAIRS = {  # name: (our factor, torch's scheduler for optimizer o, base lrs)
    "step": (lambda t: step_decay(t, 7, gamma=0.1),
             lambda o: lr_scheduler.StepLR(o, step_size=7, gamma=0.1)),
    "step-0.5": (lambda t: step_decay(t, 1, gamma=0.5),
                 lambda o: lr_scheduler.StepLR(o, step_size=1, gamma=0.5)),
    "cosine": (lambda t: cosine_annealing(t, T - 1),
               lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=T - 1)),
    "linear": (lambda t: linear_warmup(t, 10, start_factor=0.1),
               lambda o: lr_scheduler.LinearLR(o, 0.1, total_iters=10)),
    "linear-default": (lambda t: linear_warmup(t, 5),
                       lambda o: lr_scheduler.LinearLR(o)),
    "linear-down": (lambda t: linear_warmup(t, 20, 1.0, 0.25),
                    lambda o: lr_scheduler.LinearLR(o, 1.0, 0.25, total_iters=20)),
    "warmup-cosine": (
        lambda t: warmup_cosine(t, 10, T - 1, start_factor=0.2),
        lambda o: lr_scheduler.SequentialLR(
            o, [lr_scheduler.LinearLR(o, 0.2, total_iters=10),
                lr_scheduler.CosineAnnealingLR(o, T - 11)], milestones=[10])),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_equal_to_torch_schedulers_on_every_step(name):
    factor, make_theirs = PAIRS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our use of torch's schedulers is clean
        o = torch_sgd((0.1, 0.03))
        theirs = lrs_of(o, make_theirs(o))
    o = torch_sgd((0.1, 0.03))
    ours = lrs_of(o, Scheduler(o, factor))
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=0)
    o = optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    assert [lr for lr, _ in ours] == [lrs[0] for lrs in lrs_of(o, Scheduler(o, factor))]


def test_cosine_with_a_floor_equals_eta_min():
    o = torch_sgd((0.2,))
    theirs = lrs_of(o, lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=0.002), 31)
    o = torch_sgd((0.2,))
    ours = lrs_of(o, Scheduler(o, lambda t: cosine_annealing(t, 30, 0.01)), 31)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-15)
    assert ours[-1][0] == pytest.approx(0.002)


@pytest.mark.parametrize("name", list(PAIRS))
def test_lambda_lr_with_our_factor_is_bit_identical(name):
    factor = PAIRS[name][0]
    o = torch_sgd((0.1, 0.3))
    theirs = lrs_of(o, lr_scheduler.LambdaLR(o, factor))
    o = torch_sgd((0.1, 0.3))
    assert lrs_of(o, Scheduler(o, factor)) == theirs


def test_past_its_end_our_cosine_stays_down_where_torch_climbs_again():
    o = torch_sgd((1.0,))
    theirs = [lr for (lr,) in lrs_of(o, lr_scheduler.CosineAnnealingLR(o, 10), 16)]
    ours = [cosine_annealing(t, 10) for t in range(16)]
    torch.testing.assert_close(ours[:11], theirs[:11], rtol=1e-12, atol=1e-15)
    assert ours[10:] == [0.0] * 6
    assert theirs[15] > 0.3  # torch follows the cosine back up


def test_step_decay_and_warmup_hold_their_last_value():
    assert step_decay(0, 3) == 1 and step_decay(2, 3) == 1
    assert step_decay(3, 3) == pytest.approx(0.1) and step_decay(6, 3) == pytest.approx(
        0.01)
    assert linear_warmup(0, 4, 0.2) == pytest.approx(0.2)
    assert linear_warmup(4, 4, 0.2) == linear_warmup(100, 4, 0.2) == 1.0
    assert warmup_cosine(0, 5, 20, 0.5) == 0.5
    assert warmup_cosine(5, 5, 20) == 1.0 and warmup_cosine(20, 5, 20) == 0.0
    assert warmup_cosine(500, 5, 20, min_factor=0.1) == pytest.approx(0.1)


def test_scheduler_sets_rates_at_creation_and_after_each_step():
    p = torch.zeros(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.5)
    sched = Scheduler(opt, lambda t: 1 / (t + 2))
    assert sched.base_lrs == [0.5] and opt.lr == 0.25 and sched.t == 0
    sched.step()
    assert opt.lr == pytest.approx(0.5 / 3) and sched.get_last_lr() == [opt.lr]


def test_scheduled_rates_are_the_rates_the_optimizer_uses():
    # with SGD, lr times the gradient is the step: check that each step used s(t)
    p = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = Scheduler(opt, lambda t: linear_warmup(t, 4, 0.25))
    for t in range(6):
        before = p.detach().clone()
        p.grad = torch.ones(1)
        opt.step()
        sched.step()
        assert (before - p.detach()).item() == pytest.approx(linear_warmup(t, 4, 0.25))


def test_fit_steps_the_scheduler_after_every_mini_batch(make_data):
    X, y = make_data(n=40)
    model = torch.nn.Linear(5, 3).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = []
    sched = Scheduler(opt, lambda t: seen.append(t) or 1.0)
    fit(model, (X, y), loss_fn=F.cross_entropy, optimizer=opt, num_epochs=3,
        batch_size=10, scheduler=sched)
    assert seen == list(range(13))  # t = 0 at creation, then 4 batches x 3 epochs


def test_a_zero_factor_freezes_training(make_data):
    X, y = make_data(n=20)
    model = torch.nn.Linear(5, 3).double()
    start = [p.detach().clone() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=0.5)
    fit(model, (X, y), loss_fn=F.cross_entropy, optimizer=opt, num_epochs=2,
        batch_size=5, scheduler=Scheduler(opt, lambda t: 0.0))
    for p, p0 in zip(model.parameters(), start):
        assert torch.equal(p, p0)


@settings(max_examples=60, deadline=None)
@given(t=st.integers(0, 10_000), n=st.integers(1, 500),
       low=st.floats(0, 1), start=st.floats(1e-6, 1))
def test_schedule_properties(t, n, low, start):
    c = cosine_annealing(t, n, low)
    assert low - 1e-12 <= c <= 1 + 1e-12
    assert cosine_annealing(t + 1, n, low) <= c + 1e-12  # never rises
    w = linear_warmup(t, n, start)
    assert start - 1e-12 <= w <= 1 + 1e-12
    assert linear_warmup(t + 1, n, start) >= w - 1e-12  # never falls
    assert 0 <= step_decay(t, n, 0.5) <= 1  # 0.5 ** 1075 underflows to 0
    assert step_decay(t + 1, n, 0.5) <= step_decay(t, n, 0.5)
    if n > 1:
        v = warmup_cosine(t, 1, n, start, low)
        assert min(low, start) - 1e-12 <= v <= 1 + 1e-12


@pytest.mark.parametrize("call, error, match", [
    (lambda: step_decay(-1, 5), ValueError, "t must be >= 0"),
    (lambda: step_decay(1.5, 5), TypeError, "t must be an int"),
    (lambda: step_decay(True, 5), TypeError, "t must be an int"),
    (lambda: step_decay(torch.tensor(3), 5), TypeError, "t must be an int"),
    (lambda: step_decay(3, 0), ValueError, "step_size must be > 0"),
    (lambda: step_decay(3, 2, gamma=0.0), ValueError, "gamma must lie in"),
    (lambda: step_decay(3, 2, gamma=-0.5), ValueError, "gamma must lie in"),
    (lambda: step_decay(3, 2, gamma="0.1"), TypeError, "gamma must be a real"),
    (lambda: step_decay(3, 2, gamma=math.nan), ValueError, "gamma must lie in"),
    (lambda: cosine_annealing(-3, 10), ValueError, "t must be >= 0"),
    (lambda: cosine_annealing(3, 0), ValueError, "num_steps must be > 0"),
    (lambda: cosine_annealing(3, 10.0), TypeError, "num_steps must be an int"),
    (lambda: cosine_annealing(3, 10, min_factor=1.5), ValueError, "min_factor"),
    (lambda: cosine_annealing(3, 10, min_factor=-0.1), ValueError, "min_factor"),
    (lambda: linear_warmup(-1, 10), ValueError, "t must be >= 0"),
    (lambda: linear_warmup(1, -10), ValueError, "num_steps must be > 0"),
    (lambda: linear_warmup(1, 10, start_factor=0.0), ValueError, "start_factor"),
    (lambda: linear_warmup(1, 10, start_factor=2.0), ValueError, "start_factor"),
    (lambda: linear_warmup(1, 10, end_factor=1.5), ValueError, "end_factor"),
    (lambda: warmup_cosine(-1, 5, 10), ValueError, "t must be >= 0"),
    (lambda: warmup_cosine(1, 10, 10), ValueError,
     r"warmup_steps must lie in \[1, 10\), got 10"),
    (lambda: warmup_cosine(1, 0, 10), ValueError,
     r"warmup_steps must lie in \[1, 10\), got 0"),
    (lambda: warmup_cosine(1, 5, None), TypeError, "num_steps must be an int"),
])
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_scheduler_misuse():
    p = torch.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(TypeError, match="factor must be callable"):
        Scheduler(opt, 0.5)
    with pytest.raises(TypeError, match="optimizer must have param_groups or lr"):
        Scheduler(torch.nn.Linear(2, 2), lambda t: 1.0)  # a model, not its optimizer
    with pytest.raises(ValueError, match=r"factor\(0\) must lie in"):
        Scheduler(opt, lambda t: -1.0)
    with pytest.raises(ValueError, match=r"factor\(0\) must lie in"):
        Scheduler(opt, lambda t: math.inf)
    with pytest.raises(ValueError, match=r"factor\(0\) must lie in"):
        Scheduler(opt, lambda t: math.nan)
    with pytest.raises(TypeError, match=r"factor\(0\) must be a real number"):
        Scheduler(opt, lambda t: None)
    sched = Scheduler(opt, lambda t: 1.0 if t < 2 else -1.0)
    sched.step()
    with pytest.raises(ValueError, match=r"factor\(2\)"):
        sched.step()  # a bad value later is caught when it is reached
    assert opt.lr == 0.1  # and not set
