"""Data parallelism: one mini-batch, several worker processes (chapter
"Stochastic gradient descent").

:func:`data_parallel_gradient` splits a mini-batch across ``world_size``
worker processes. Each worker holds a copy of the model and computes the
gradient on its own share; an all-reduce with ``torch.distributed`` (gloo
backend, CPU) averages the gradients, and every worker ends with the gradient
of the whole mini-batch. This is the core of PyTorch's
``DistributedDataParallel``.

The workers are started with ``torch.multiprocessing`` using ``fork``, so they
start in milliseconds and inherit the model and data without pickling; the
worker function lives here, in the package, so it is importable from any
process. They meet through a file in a temporary folder
(``init_method="file://..."``), and are joined (or terminated on error) before
the function returns.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import warnings
from typing import Callable

import torch

from introdl.checks import check_positive_int

__all__ = ["data_parallel_gradient", "draw_data_parallel"]


def _worker(rank: int, world_size: int, init_method: str, model, X, y, loss_fn,
            out_path: str) -> None:
    """One worker (a child process): gradient on its shard, all-reduce."""
    import torch.distributed as dist

    warnings.simplefilter("ignore")  # a child must not write into a notebook
    torch.set_num_threads(1)  # the parent's thread pool does not survive fork
    dist.init_process_group("gloo", init_method=init_method, rank=rank,
                            world_size=world_size,
                            timeout=datetime.timedelta(seconds=60))
    try:
        shard = torch.tensor_split(torch.arange(len(X)), world_size)[rank]
        model.zero_grad()
        loss_fn(model(X[shard]), y[shard]).backward()  # mean over the shard
        for p in model.parameters():
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)  # sum over workers,
            p.grad /= world_size  # then the average, as in DDP
        if rank == 0:
            torch.save([p.grad for p in model.parameters()], out_path)
    finally:
        dist.destroy_process_group()


def data_parallel_gradient(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor,
                           loss_fn: Callable, world_size: int = 2) -> list:
    """The gradient of ``loss_fn(model(X), y)``, computed by ``world_size``
    processes that each see ``1 / world_size`` of the mini-batch.

    Each worker computes the mean loss on its equal share of the rows and its
    gradient; the gradients are summed across workers with
    ``torch.distributed.all_reduce`` and divided by ``world_size``. With equal
    shares, this average of means is exactly the gradient of the mean loss
    over the whole batch. ``model`` itself is not changed.

    Args:
        model: any module whose parameters all receive a gradient.
        X, y: the mini-batch, ``(B, ...)`` and ``(B, ...)``.
        loss_fn: a loss that averages over the batch, e.g.
            ``torch.nn.functional.cross_entropy``.
        world_size: number of worker processes.
    Returns:
        The averaged gradients, one tensor per parameter of ``model``, in the
        order of ``model.parameters()``.
    Raises:
        ValueError: if ``B`` is not a multiple of ``world_size``.
        RuntimeError: if ``torch.distributed`` is not available.
    """
    import torch.distributed as dist
    import torch.multiprocessing as mp

    check_positive_int("world_size", world_size)
    if len(X) != len(y) or len(X) % world_size:
        raise ValueError(f"X and y must have the same length, a multiple of "
                         f"world_size={world_size}, got {len(X)} and {len(y)}")
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this PyTorch build")
    with tempfile.TemporaryDirectory() as folder:
        out_path = os.path.join(folder, "grads.pt")
        init_method = "file://" + os.path.join(folder, "rendezvous")
        with warnings.catch_warnings():  # Python >= 3.12 warns on fork with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            mp.start_processes(_worker, nprocs=world_size, join=True,
                               start_method="fork",
                               args=(world_size, init_method, model, X, y, loss_fn,
                                     out_path))
        return torch.load(out_path)


def draw_data_parallel(world_size: int = 2):
    """Diagram: a mini-batch split across workers, gradients all-reduced.

    Returns the ``Figure``.
    """
    from introdl.figures import diagrams

    check_positive_int("world_size", world_size)
    height = 1.3 * world_size + 0.9
    fig, ax = diagrams.new_diagram(6.4, 6.4 * height / 10.6, xlim=(0, 10.6),
                                   ylim=(0, height))
    mid = (height + 0.5) / 2
    ys = [height - 0.8 - 1.3 * r for r in range(world_size)]
    diagrams.box(ax, (0.85, mid), "mini-batch\n$B$ examples", width=1.5,
                 height=1.0, kind="input", fontsize=8)
    diagrams.box(ax, (7.3, mid), "all-reduce\n" r"$\bar g = \frac{1}{W}\sum_r g_r$",
                 width=1.8, height=1.1, kind="op", fontsize=8)
    diagrams.box(ax, (9.6, mid), "every worker:\n" r"$w \leftarrow w - \eta\,\bar g$",
                 width=1.8, height=1.1, kind="output", fontsize=8)
    diagrams.arrow(ax, (7.3, mid), (9.6, mid), r_start=0.9, r_end=0.9,
                   label=r"$\bar g$")
    for r, y in enumerate(ys):
        diagrams.box(ax, (2.9, y), f"shard {r}\n$B/{world_size}$ examples",
                     width=1.6, height=0.9, kind="input", fontsize=8)
        diagrams.box(ax, (5.1, y), f"worker {r}\nmodel copy", width=1.6,
                     height=0.9, kind="hidden", fontsize=8)
        diagrams.arrow(ax, (0.85, mid), (2.9, y), r_start=0.75, r_end=0.8)
        diagrams.arrow(ax, (2.9, y), (5.1, y), r_start=0.8, r_end=0.8)
        diagrams.arrow(ax, (5.1, y), (7.3, mid), r_start=0.8, r_end=0.9,
                       label=f"$g_{r}$")
    diagrams.caption(ax, (5.3, 0.25), f"W = {world_size} workers, one process each")
    return fig
