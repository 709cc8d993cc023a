"""Data parallelism with DistributedDataParallel, torchrun and gloo on the CPU."""

import os
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from introdl.data import load_digits
from introdl.distributed import (
    accumulate_gradients,
    free_port,
    launch,
    main,
    train_data_parallel,
)
from introdl.landscape import tiny_mlp


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(n_train=256, seed=0).train
    return X, y


def grads(model):
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("parts", [1, 2, 4, 8])
def test_accumulated_gradient_equals_the_large_batch(digits, parts):
    X, y = digits[0][:64].double(), digits[1][:64]
    model = tiny_mlp(hidden_size=16, seed=0).double()
    model.zero_grad()
    full_loss = F.cross_entropy(model(X), y)
    full_loss.backward()
    expected = grads(model)
    loss = accumulate_gradients(model, F.cross_entropy, X, y, parts)
    for ours, theirs in zip(grads(model), expected):
        torch.testing.assert_close(ours, theirs)
    assert loss == pytest.approx(full_loss.item())


def test_accumulated_step_equals_the_large_batch_step(digits):
    X, y = digits[0][:64].double(), digits[1][:64]
    big, small = (tiny_mlp(hidden_size=16, seed=1).double() for _ in range(2))
    for model, parts in ((big, 1), (small, 4)):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        for _ in range(3):
            accumulate_gradients(model, F.cross_entropy, X, y, parts)
            optimizer.step()
    for p, q in zip(big.parameters(), small.parameters()):
        torch.testing.assert_close(p, q)


def test_accumulate_clears_old_gradients(digits):
    X, y = digits[0][:8], digits[1][:8]
    model = tiny_mlp(hidden_size=4, seed=0)
    accumulate_gradients(model, F.cross_entropy, X, y)
    first = grads(model)
    accumulate_gradients(model, F.cross_entropy, X, y)  # not doubled
    for a, b in zip(first, grads(model)):
        torch.testing.assert_close(a, b)


def test_accumulate_misuse(digits):
    X, y = digits[0][:10], digits[1][:10]
    model = tiny_mlp(hidden_size=4)
    with pytest.raises(ValueError, match="multiple of"):
        accumulate_gradients(model, F.cross_entropy, X, y, 4)
    with pytest.raises(ValueError, match="one length"):
        accumulate_gradients(model, F.cross_entropy, X, y[:8], 2)
    with pytest.raises(ValueError, match="num_micro_batches"):
        accumulate_gradients(model, F.cross_entropy, X, y, 0)


def test_train_one_process_is_deterministic_and_learns(digits):
    X, y = digits
    runs = []
    for _ in range(2):
        model = tiny_mlp(hidden_size=16, seed=0)
        losses = train_data_parallel(model, X, y, batch_size=32, num_epochs=3, lr=0.1)
        runs.append((losses, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert len(runs[0][0]) == 3 * (len(X) // 32)
    assert sum(runs[0][0][-8:]) / 8 < sum(runs[0][0][:8]) / 8 - 0.3


def test_micro_batches_give_the_same_training(digits):
    X, y = digits[0].double(), digits[1]
    states = []
    for parts in (1, 4):
        model = tiny_mlp(hidden_size=16, seed=0).double()
        train_data_parallel(model, X, y, batch_size=32, num_epochs=2, lr=0.1,
                            num_micro_batches=parts)
        states.append(model.state_dict())
    for k in states[0]:
        torch.testing.assert_close(states[0][k], states[1][k])


def test_processes_share_each_global_batch(digits):
    """Rank r's batch k is every world_size-th example of global batch k."""
    X = torch.arange(100.0)[:, None]
    y = torch.zeros(100, dtype=torch.long)
    seen = {}

    class Recorder(torch.nn.Module):
        def __init__(self, key):
            super().__init__()
            self.key, self.w = key, torch.nn.Parameter(torch.zeros(1, 2))

        def forward(self, x):
            seen.setdefault(self.key, []).append(x[:, 0].long().tolist())
            return x @ self.w

    for rank, world in ((0, 1), (0, 2), (1, 2)):
        train_data_parallel(Recorder((rank, world)), X, y, batch_size=8,
                            num_epochs=2, lr=0.0, rank=rank, world_size=world)
    single, r0, r1 = seen[(0, 1)], seen[(0, 2)], seen[(1, 2)]
    assert len(single) == len(r0) == len(r1) == 2 * (100 // 8)
    for batch, a, b in zip(single, r0, r1):
        assert a == batch[0::2] and b == batch[1::2]
    assert single[0] != single[12]  # a new order in the second epoch


def test_train_misuse(digits):
    X, y = digits
    with pytest.raises(ValueError, match="batch_size must be a multiple"):
        train_data_parallel(tiny_mlp(), X, y, batch_size=33, num_epochs=1, lr=0.1,
                            world_size=2)
    with pytest.raises(ValueError, match="batch_size must be a multiple"):
        train_data_parallel(tiny_mlp(), X, y, batch_size=32, num_epochs=1, lr=0.1,
                            world_size=2, num_micro_batches=3)
    with pytest.raises(ValueError):
        train_data_parallel(tiny_mlp(), X, y, batch_size=32, num_epochs=1, lr=0.1,
                            rank=2, world_size=2)


def test_free_port_is_on_loopback_and_bindable():
    import socket

    port = free_port()
    assert 1024 <= port < 65536
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_main_in_one_process_saves_weights(tmp_path, digits):
    X, y = digits
    torch.save({"X": X, "y": y}, tmp_path / "data.pt")
    main(["--out-dir", str(tmp_path / "out"), "--data", str(tmp_path / "data.pt"),
          "--num-epochs", "1", "--hidden-size", "8"])
    run = torch.load(tmp_path / "out" / "rank0.pt")
    model = tiny_mlp(hidden_size=8, seed=0)
    losses = train_data_parallel(model, X, y, batch_size=64, num_epochs=1, lr=0.1)
    assert run["world_size"] == 1 and run["losses"] == losses
    for k, w in model.state_dict().items():
        assert torch.equal(run["state_dict"][k], w)


def test_launch_misuse():
    with pytest.raises(ValueError, match="nproc"):
        launch(0, ["--out-dir", "x"])


def _processes_mentioning(text):
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, PermissionError, ProcessLookupError,
                NotADirectoryError):
            continue
        if text.encode() in cmdline:
            found.append(int(pid))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("micro", [1, 2])
def test_torchrun_two_processes_equal_one_process(tmp_path, digits, micro):
    X, y = digits
    torch.save({"X": X, "y": y}, tmp_path / "data.pt")
    launch(2, ["--out-dir", str(tmp_path), "--data", str(tmp_path / "data.pt"),
               "--num-epochs", "2", "--batch-size", "32", "--hidden-size", "16",
               "--num-micro-batches", str(micro)], timeout=240)
    runs = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    assert [r["world_size"] for r in runs] == [2, 2]
    model = tiny_mlp(hidden_size=16, seed=0)
    losses = train_data_parallel(model, X, y, batch_size=32, num_epochs=2, lr=0.1,
                                 num_micro_batches=micro)
    for k, w in model.state_dict().items():
        assert torch.equal(runs[0]["state_dict"][k], runs[1]["state_dict"][k])
        torch.testing.assert_close(runs[0]["state_dict"][k], w)
    mean = [(a + b) / 2 for a, b in zip(runs[0]["losses"], runs[1]["losses"])]
    torch.testing.assert_close(torch.tensor(mean), torch.tensor(losses))
    assert not _processes_mentioning(str(tmp_path))


@pytest.mark.slow
def test_torchrun_with_the_file_path(tmp_path, digits):
    import introdl.distributed as module

    X, y = digits
    torch.save({"X": X[:64], "y": y[:64]}, tmp_path / "data.pt")
    launch(2, ["--out-dir", str(tmp_path), "--data", str(tmp_path / "data.pt"),
               "--num-epochs", "1"], script=module.__file__, timeout=240)
    assert (tmp_path / "rank0.pt").exists() and (tmp_path / "rank1.pt").exists()


@pytest.mark.slow
def test_a_run_that_times_out_leaves_no_process(tmp_path, digits):
    X, y = digits
    torch.save({"X": X, "y": y}, tmp_path / "data.pt")
    with pytest.raises(TimeoutError, match="stopped"):
        launch(2, ["--out-dir", str(tmp_path), "--data", str(tmp_path / "data.pt"),
                   "--num-epochs", "1000000"], timeout=20)
    deadline = time.monotonic() + 30
    while _processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _processes_mentioning(str(tmp_path))
