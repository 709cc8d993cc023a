import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl import optim
from introdl.experiments.learning_rates import parameter_trajectory
from introdl.landscape import gradient_descent, rosenbrock, tiny_mlp
from introdl.optim import check_params, optimize

F = torch.nn.functional

SETTINGS = [
    ("SGD", dict(lr=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.003, alpha=0.8, eps=1e-6)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6)),
]
NAMES = ["SGD", "RMSprop", "Adam"]


def _make(name, params, **hyper):
    return getattr(optim, name)(params, **{"lr": 0.1, **hyper})


@pytest.mark.parametrize("name, hyper", SETTINGS)
def test_trajectory_equals_torch_optim_in_float64(name, hyper, make_data):
    X, y = make_data()
    paths = []
    for library in (optim, torch.optim):
        model = tiny_mlp(5, 6, 3, seed=1).double()
        opt = getattr(library, name)(model.parameters(), **hyper)
        paths.append(parameter_trajectory(model, opt, F.cross_entropy, X, y, 12))
    assert paths[0].shape == (13, 6 * 6 + 3 * 7)
    assert not torch.allclose(paths[0][0], paths[0][-1])  # the weights did move
    torch.testing.assert_close(paths[0], paths[1])


@pytest.mark.parametrize("name, hyper", SETTINGS[1::2])
def test_mini_batch_training_equals_torch_optim(name, hyper, make_data):
    """Different gradients at every step (mini-batches), several tensors."""
    X, y = make_data(n=48)
    params = []
    for library in (optim, torch.optim):
        model = tiny_mlp(5, 6, 3, seed=2).double()
        opt = getattr(library, name)(model.parameters(), **hyper)
        for idx in torch.arange(48).split(8) * 2:
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
        params.append(torch.nn.utils.parameters_to_vector(model.parameters()))
    torch.testing.assert_close(params[0], params[1])


def test_parameters_without_gradient_are_left_alone():
    a = torch.ones(3, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a ** 2).sum().backward()
    opt.step()
    assert torch.equal(b, torch.ones(2)) and not torch.equal(a, torch.ones(3))
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD(p, lr=-0.1), r"lr must lie in \[0, inf\], got -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
    (lambda p: optim.RMSprop(p, lr=-1e-3), "lr"),
    (lambda p: optim.RMSprop(p, alpha=1.0), r"alpha must lie in \[0, 1\), got 1.0"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "alpha"),
    (lambda p: optim.RMSprop(p, eps=-1.0), "eps"),
    (lambda p: optim.Adam(p, lr=-0.01), "lr"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.5)), r"betas\[1\]"),
    (lambda p: optim.Adam(p, betas=(-0.1, 0.999)), r"betas\[0\]"),
    (lambda p: optim.Adam(p, betas=(0.9,)), "betas must be a pair"),
    (lambda p: optim.Adam(p, betas=(b for b in (0.9, 0.99))), "betas must be a pair"),
    (lambda p: optim.SGD([], lr=0.1), "params"),
    (lambda p: optim.SGD(p, lr=math.nan), "lr"),
    (lambda p: optim.Adam(p, eps=math.nan), "eps"),
])
def test_bad_hyperparameters_raise_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make([torch.zeros(2, requires_grad=True)])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("hyper, arg", [(dict(lr=None), "lr"), (dict(lr="0.1"), "lr"),
                                        (dict(lr=True), "lr")])
def test_hyperparameters_of_the_wrong_type_raise_type_error(name, hyper, arg):
    with pytest.raises(TypeError, match=arg):
        _make(name, [torch.zeros(2, requires_grad=True)], **hyper)


def test_non_tensor_parameters_raise_type_error():
    with pytest.raises(TypeError, match=r"params\[1\] must be a torch.Tensor"):
        optim.SGD([torch.zeros(2), [1.0]], lr=0.1)


# --- misuse of params (issue 14) ------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_a_bare_tensor_is_refused_like_torch_optim(name):
    w = torch.zeros(3, 2, requires_grad=True)
    with pytest.raises(TypeError, match="params must be an iterable of tensors, "
                                        "got Tensor"):
        _make(name, w)
    with pytest.raises(TypeError):  # PyTorch refuses it too
        getattr(torch.optim, name)(w, lr=0.1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("params", [torch.nn.Linear(2, 2), 3.0, None])
def test_a_module_or_a_number_is_refused(name, params):
    with pytest.raises(TypeError, match="params must be an iterable of tensors"):
        _make(name, params)


@pytest.mark.parametrize("name", NAMES)
def test_a_used_up_generator_is_refused(name):
    model = torch.nn.Linear(2, 2)
    params = model.parameters()
    list(params)  # the generator is used up: nothing left to optimise
    with pytest.raises(ValueError, match="at least one tensor"):
        _make(name, params)
    opt = _make(name, model.parameters())  # a fresh generator is fine
    assert len(opt.params) == 2


@pytest.mark.parametrize("name", NAMES)
def test_a_parameter_listed_twice_is_refused_and_never_stepped_twice(name):
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="must not list a tensor twice"):
        _make(name, [w, w])
    with pytest.warns(UserWarning, match="duplicate parameters"):  # torch only warns
        getattr(torch.optim, name)([w, w], lr=0.1)


def test_a_shared_parameter_of_a_model_appears_once():
    """Tied weights: model.parameters() yields a shared tensor once, so it is
    stepped once, exactly as torch steps it."""
    a, b = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    b.weight = a.weight
    model = torch.nn.Sequential(a, b).double()
    twin = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)).double()
    twin[1].weight = twin[0].weight
    twin.load_state_dict(model.state_dict())
    X = torch.randn(5, 3, dtype=torch.float64)
    for net, library in ((model, optim), (twin, torch.optim)):
        opt = library.RMSprop(net.parameters(), lr=0.01)
        net(X).pow(2).sum().backward()
        opt.step()
    torch.testing.assert_close(model[0].weight, twin[0].weight)


@pytest.mark.parametrize("name", NAMES)
def test_a_computed_tensor_is_refused_like_torch_optim(name):
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"params\[0\] must be a leaf tensor"):
        _make(name, [2 * w])
    with pytest.raises(ValueError, match="non-leaf"):
        getattr(torch.optim, name)([2 * w], lr=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_integer_tensors_and_param_groups_are_refused(name):
    with pytest.raises(TypeError, match="floating-point"):
        _make(name, [torch.zeros(2, dtype=torch.int64)])
    group = {"params": [torch.zeros(2, requires_grad=True)]}
    with pytest.raises(TypeError, match=r"params\[0\] must be a torch.Tensor, got"):
        _make(name, [group])


@pytest.mark.parametrize("name, hyper", SETTINGS)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_zero_dim_and_empty_parameters_match_torch(name, hyper, shape):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(shape, generator=g, dtype=torch.float64)
    ours, theirs = w.clone().requires_grad_(), w.clone().requires_grad_()
    opts = [getattr(optim, name)([ours], **hyper),
            getattr(torch.optim, name)([theirs], **hyper)]
    for _ in range(3):
        for p, opt in zip((ours, theirs), opts):
            opt.zero_grad()
            (p ** 3).sum().backward()
            opt.step()
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("name, hyper", SETTINGS)
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_gradients_spread_as_in_torch(name, hyper, bad):
    """Documented result: a NaN or infinite gradient is applied as given, as
    torch.optim does (fit records the divergence; see test_training)."""
    ours = torch.ones(3, dtype=torch.float64, requires_grad=True)
    theirs = torch.ones(3, dtype=torch.float64, requires_grad=True)
    for p, library in ((ours, optim), (theirs, torch.optim)):
        opt = getattr(library, name)([p], **hyper)
        p.grad = torch.tensor([1.0, bad, -1.0], dtype=torch.float64)
        opt.step()
    torch.testing.assert_close(ours, theirs, equal_nan=True)
    assert not torch.isfinite(ours[1])


def test_an_optimizer_keeps_its_state_like_torch_when_reused():
    """Reusing one optimizer for a second run continues its moving averages,
    exactly as torch.optim does (a new run needs a new optimizer)."""
    ours = torch.ones(2, dtype=torch.float64, requires_grad=True)
    theirs = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opts = [optim.Adam([ours], lr=0.1), torch.optim.Adam([theirs], lr=0.1)]
    for _ in range(2):  # two "runs" of three steps
        for _ in range(3):
            for p, opt in zip((ours, theirs), opts):
                opt.zero_grad()
                (p ** 2).sum().backward()
                opt.step()
    torch.testing.assert_close(ours, theirs)
    assert opts[0].state[0]["t"] == 6


@settings(max_examples=60, deadline=None)
@given(lr=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(),
                    st.text(max_size=3), st.booleans()),
       name=st.sampled_from(NAMES))
def test_any_learning_rate_is_accepted_or_refused_naming_lr(lr, name):
    p = torch.ones(2, dtype=torch.float64, requires_grad=True)
    try:
        opt = _make(name, [p], lr=lr)
    except (TypeError, ValueError) as error:
        assert "lr" in str(error)
        return
    assert isinstance(lr, float) and lr >= 0 and not math.isnan(lr)
    assert opt.lr == lr


@settings(max_examples=40, deadline=None)
@given(items=st.lists(st.sampled_from(["a", "b", "c", "int", "none", "num"]),
                      max_size=5))
def test_check_params_accepts_exactly_distinct_float_leaves(items):
    pool = {k: torch.zeros(2, requires_grad=True) for k in "abc"}
    pool.update(int=torch.zeros(2, dtype=torch.int64), none=None, num=1.5)
    params = [pool[k] for k in items]
    bad_type = any(k in ("int", "none", "num") for k in items)
    try:
        out = check_params("params", iter(params))  # a generator, used once
    except TypeError as error:
        assert bad_type and "params[" in str(error)
        return
    except ValueError as error:
        assert not items or len(set(items)) < len(items)
        assert "params" in str(error)
        return
    assert not bad_type and out == params and len(set(items)) == len(items) > 0


def test_adam_first_step_has_size_lr_whatever_the_gradient():
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (torch.tensor([1e-3, -50.0, 7.0], dtype=torch.float64) * w).sum().backward()
    opt.step()
    expected = torch.tensor([0.9, -1.9, 2.9], dtype=torch.float64)
    torch.testing.assert_close(w.detach(), expected, rtol=0, atol=1e-5)


# --- optimize ------------------------------------------------------------------

def test_optimize_records_path_and_stops_on_divergence():
    start = torch.tensor([-1.5, 2.0], dtype=torch.float64)
    path, losses = optimize(rosenbrock, start, optim.Adam, 200, lr=0.1)
    assert path.shape == (201, 2) and losses.shape == (201,)
    assert losses[-1] < 0.2 * losses[0]
    torch.testing.assert_close(losses, rosenbrock(path))
    path, losses = optimize(rosenbrock, start, optim.SGD, 500, lr=0.1)
    assert len(path) < 501 and not math.isfinite(losses[-1].item())
    assert start.tolist() == [-1.5, 2.0]


@pytest.mark.parametrize("lr, num_steps", [(1e-3, 50), (0.1, 500)])
def test_optimize_with_sgd_is_the_gradient_descent_of_the_landscape(lr, num_steps):
    """The two loops that minimise f from w0 agree, including where a diverging
    run stops."""
    start = torch.tensor([-1.5, 2.0], dtype=torch.float64)
    path, losses = optimize(rosenbrock, start, optim.SGD, num_steps, lr=lr)
    path_gd, losses_gd = gradient_descent(rosenbrock, start, lr, num_steps)
    torch.testing.assert_close(path, path_gd, equal_nan=True)
    torch.testing.assert_close(losses, losses_gd, equal_nan=True)


def test_optimize_works_on_a_single_number_and_with_torch_optim():
    w0 = torch.tensor(3.0, dtype=torch.float64)
    path, losses = optimize(lambda w: (w - 1) ** 2, w0, torch.optim.SGD, 20, lr=0.1)
    assert path.shape == (21,) and losses[-1] < 1e-3


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(f=lambda w: w ** 2), ValueError, "f must return a one-element tensor"),
    (dict(f=lambda w: 1.0), ValueError, "f must return a one-element tensor"),
    (dict(w0=torch.tensor([1, 2])), TypeError, "w0"),
    (dict(w0=[1.0, 2.0]), TypeError, "w0"),
    (dict(num_steps=0), ValueError, "num_steps"),
    (dict(num_steps=None), TypeError, "num_steps"),
])
def test_optimize_misuse(kwargs, error, match):
    args = dict(f=lambda w: (w ** 2).sum(), w0=torch.ones(2, dtype=torch.float64),
                optimizer=optim.SGD, num_steps=5)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        optimize(args.pop("f"), args.pop("w0"), args.pop("optimizer"),
                 args.pop("num_steps"), lr=0.1)


def test_no_warning_from_our_optimizers():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = torch.nn.Linear(2, 2)
        for name in NAMES:
            _make(name, model.parameters())


def test_the_base_class_has_no_update_rule():
    p = torch.ones(2, requires_grad=True)
    opt = optim.Optimizer([p], lr=0.1)
    opt.step()  # no gradient yet: nothing to update
    p.grad = torch.ones(2)
    with pytest.raises(NotImplementedError):
        opt.step()
