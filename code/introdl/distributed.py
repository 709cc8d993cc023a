"""Data-parallel training with PyTorch's own engine (chapter "Scaling up").

The book's digits model trained by several processes with
``torch.nn.parallel.DistributedDataParallel`` (DDP) and a
``DistributedSampler``, on the CPU with the gloo backend. Start it with
``torchrun``, for example two processes on this machine::

    python -m torch.distributed.run --nproc_per_node 2 \\
        --master_addr 127.0.0.1 --master_port 29511 \\
        -m introdl.distributed --out-dir ddp-run

(or give the path of this file instead of ``-m introdl.distributed``). Every
process writes ``rank<r>.pt`` into ``--out-dir``: its final weights and the
loss of each step on its share of the data. :func:`launch` does the same from
Python, on the loopback interface only, with a timeout that ends every process.

The pieces are importable: :func:`accumulate_gradients` (one step's gradient
in micro-batches), :func:`train_data_parallel` (the loop each process runs;
``world_size=1`` is the single-process run with the same global batch) and
:func:`ddp_worker` (join the process group, wrap the model, train).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_positive_int
from introdl.data import load_digits
from introdl.landscape import tiny_mlp

__all__ = ["accumulate_gradients", "train_data_parallel", "ddp_worker", "main",
           "free_port", "launch"]


def accumulate_gradients(model: nn.Module, loss_fn: Callable, X: torch.Tensor,
                         y: torch.Tensor, num_micro_batches: int = 1) -> float:
    """Set the parameters' ``.grad`` to the gradient of the mean loss over
    ``(X, y)``, computed in ``num_micro_batches`` equal parts one after another.

    Each part's mean loss is divided by the number of parts, so the gradients
    that ``backward`` adds up are those of the mean over the whole batch.
    ``X``: ``(B, ...)``, ``y``: ``(B, ...)``. Returns the mean loss.

    Raises:
        ValueError: if ``B`` is not a multiple of ``num_micro_batches``.
    """
    check_positive_int("num_micro_batches", num_micro_batches)
    if len(X) != len(y) or len(X) % num_micro_batches:
        raise ValueError(f"X and y must have one length, a multiple of "
                         f"num_micro_batches={num_micro_batches}, got {len(X)}"
                         f" and {len(y)}")
    model.zero_grad()
    total = 0.0
    for X_part, y_part in zip(X.chunk(num_micro_batches), y.chunk(num_micro_batches)):
        loss = loss_fn(model(X_part), y_part) / num_micro_batches
        loss.backward()  # adds to .grad
        total += loss.item()
    return total


def train_data_parallel(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *,
                        batch_size: int, num_epochs: int, lr: float,
                        rank: int = 0, world_size: int = 1,
                        num_micro_batches: int = 1, seed: int = 0) -> list[float]:
    """SGD with momentum 0.9 on the cross-entropy, where process ``rank`` of
    ``world_size`` takes its share of each global batch of ``batch_size``.

    A ``DistributedSampler`` shuffles the examples with ``seed + epoch`` (the
    same order on every process) and gives process ``rank`` every
    ``world_size``-th of them, so together the processes see the same global
    batches as one process with ``world_size=1``. Incomplete batches are dropped.
    ``model`` is a DDP-wrapped model when ``world_size > 1``.

    Returns:
        The loss of every step, on this process's share of the batch.
    Raises:
        ValueError: if ``batch_size`` is not a multiple of
            ``world_size * num_micro_batches``.
    """
    if batch_size % (world_size * num_micro_batches):
        raise ValueError(f"batch_size must be a multiple of world_size * "
                         f"num_micro_batches = {world_size * num_micro_batches}, "
                         f"got {batch_size}")
    data = torch.utils.data.TensorDataset(X, y)
    sampler = torch.utils.data.DistributedSampler(
        data, num_replicas=world_size, rank=rank, seed=seed, drop_last=True)  # shuffles
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size // world_size,
                                         sampler=sampler, drop_last=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for epoch in range(num_epochs):
        sampler.set_epoch(epoch)  # a new order each epoch, the same on every process
        for X_batch, y_batch in loader:  # (batch_size / world_size, ...) each
            losses.append(accumulate_gradients(model, F.cross_entropy, X_batch,
                                               y_batch, num_micro_batches))
            optimizer.step()
    return losses


def ddp_worker(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
               **train_kwargs) -> list[float]:
    """What each process started by ``torchrun`` runs: join the process group,
    wrap ``model`` in DDP, train it with :func:`train_data_parallel`, leave.

    ``torchrun`` sets the environment variables (``RANK``, ``WORLD_SIZE``,
    ``MASTER_ADDR``, ``MASTER_PORT``) that ``init_process_group`` reads.
    ``model`` must start with the same weights on every process (DDP also
    copies process 0's weights to the others). Returns the losses.
    """
    torch.distributed.init_process_group("gloo")  # "nccl" for GPUs
    try:
        rank = torch.distributed.get_rank()
        world_size = torch.distributed.get_world_size()
        ddp_model = nn.parallel.DistributedDataParallel(model)  # averages gradients
        return train_data_parallel(ddp_model, X, y, rank=rank, world_size=world_size,
                                   **train_kwargs)
    finally:
        torch.distributed.destroy_process_group()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="introdl.distributed",
        description="Train the digits MLP with DistributedDataParallel (gloo, CPU).")
    parser.add_argument("--out-dir", required=True, help="where rank<r>.pt goes")
    parser.add_argument("--num-epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch")
    parser.add_argument("--num-micro-batches", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--data", default=None,
                        help="a .pt file with tensors X and y to train on "
                             "instead of the digits (saves loading scikit-learn)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds after which the process ends itself")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of each process: train and save ``rank<r>.pt``.

    Run by ``torchrun`` (several processes, DDP) or directly (one process).
    A watchdog ends the process after ``--timeout`` seconds, whatever happens.
    """
    args = _parse_args(argv)
    watchdog = threading.Timer(args.timeout, os._exit, args=(124,))
    watchdog.daemon = True
    watchdog.start()
    try:
        _train_and_save(args)
    finally:
        watchdog.cancel()


def _train_and_save(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    if args.data is None:
        X, y = load_digits(n_train=args.n_train, seed=args.seed).train
    else:
        data = torch.load(args.data)
        X, y = data["X"], data["y"]
    model = tiny_mlp(hidden_size=args.hidden_size, seed=args.seed)
    kwargs = dict(batch_size=args.batch_size, num_epochs=args.num_epochs, lr=args.lr,
                  num_micro_batches=args.num_micro_batches, seed=args.seed)
    if torch.distributed.is_torchelastic_launched():
        rank = int(os.environ["RANK"])
        world_size = int(os.environ["WORLD_SIZE"])
        losses = ddp_worker(model, X, y, **kwargs)
    else:
        rank, world_size = 0, 1
        losses = train_data_parallel(model, X, y, **kwargs)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "losses": losses, "rank": rank,
                "world_size": world_size}, out / f"rank{rank}.pt")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(nproc: int, args: Sequence[str], *, timeout: float = 120.0,
           script: str | None = None):
    """Run ``torchrun`` with ``nproc`` processes on this machine, over the
    loopback interface only, and wait for it.

    Runs ``python -m torch.distributed.run --nnodes 1 --nproc_per_node nproc
    --master_addr 127.0.0.1 --master_port <free> -m introdl.distributed *args``
    (or ``script`` instead of ``-m introdl.distributed``). gloo is told to use
    the loopback interface (``GLOO_SOCKET_IFNAME=lo``). After ``timeout``
    seconds torchrun is stopped, which stops its workers; each worker also
    ends itself after ``--timeout`` (passed on as ``timeout``).

    Returns:
        The finished process (a ``subprocess.CompletedProcess``), with its
        ``stdout`` and ``stderr`` as text.
    Raises:
        RuntimeError: if torchrun fails (its stderr is in the message).
        TimeoutError: if it runs longer than ``timeout`` (it has been stopped).
    """
    check_positive_int("nproc", nproc)
    target = ["-m", "introdl.distributed"] if script is None else [str(script)]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
           "--nproc_per_node", str(nproc), "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()), *target, *args,
           "--timeout", str(timeout)]
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1",
           "PYTHONWARNINGS": "ignore"}
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            _stop(proc)
            raise TimeoutError(f"torchrun ran longer than {timeout} s; it and its "
                               f"workers were stopped") from error
        except BaseException:  # interrupted: stop torchrun and its workers
            _stop(proc)
            raise
    if proc.returncode != 0:
        raise RuntimeError(f"torchrun exited with {proc.returncode}:\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM torchrun (it forwards the signal to its workers), then SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    main()
