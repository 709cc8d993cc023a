"""Data parallelism: one mini-batch, several worker processes (chapter
"Stochastic gradient descent").

:func:`data_parallel_gradient` splits a mini-batch across ``world_size``
worker processes. Each worker holds a copy of the model and computes the
gradient on its own share (:func:`data_parallel_worker`); an all-reduce with
``torch.distributed`` (gloo backend, CPU) averages the gradients, and every
worker ends with the gradient of the whole mini-batch. This is the core of
PyTorch's ``DistributedDataParallel``.

The workers are started with ``torch.multiprocessing`` using ``fork``, so they
start in milliseconds and inherit the model, the data and the parent's warning
filters without pickling. They meet through a file in a temporary folder
(``init_method="file://..."``), and are joined (or terminated on error) before
the function returns.
"""

import datetime
import os
import tempfile
import warnings
from collections.abc import Callable

import torch
from torch import nn

from introdl.checks import check_positive_int

__all__ = ["data_parallel_gradient", "data_parallel_worker"]


def data_parallel_worker(rank: int, world_size: int, init_method: str,
                         model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                         loss_fn: Callable, out_path: str, timeout) -> None:
    """One worker process: the gradient on its shard of ``(X, y)``, averaged over
    all workers by an all-reduce; worker 0 saves it to ``out_path``."""
    import torch.distributed as dist

    torch.set_num_threads(1)  # the parent's thread pool does not survive fork
    dist.init_process_group("gloo", init_method=init_method, rank=rank,
                            world_size=world_size, timeout=timeout)
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


def data_parallel_gradient(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                           loss_fn: Callable, world_size: int = 2,
                           ) -> list[torch.Tensor]:
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
        TypeError: if ``model`` is not a module or ``X``, ``y`` not tensors.
        ValueError: if ``B`` is 0 or not a multiple of ``world_size``.
        RuntimeError: if ``torch.distributed`` is not available, or a worker
            fails (its error is shown).
    """
    import torch.distributed as dist
    import torch.multiprocessing as mp

    check_positive_int("world_size", world_size)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not (isinstance(X, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(f"X and y must be tensors, got {type(X).__name__} and "
                        f"{type(y).__name__}")
    if X.ndim == 0 or len(X) != len(y) or len(X) == 0 or len(X) % world_size:
        raise ValueError(f"X and y must have the same length, a positive multiple of "
                         f"world_size={world_size}, got shapes {tuple(X.shape)} and "
                         f"{tuple(y.shape)}")
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this PyTorch build")
    with tempfile.TemporaryDirectory() as folder:
        out_path = os.path.join(folder, "grads.pt")
        init_method = "file://" + os.path.join(folder, "rendezvous")
        timeout = datetime.timedelta(seconds=60)  # a lost worker fails, not hangs
        with warnings.catch_warnings():  # the forked workers inherit this filter:
            warnings.simplefilter("ignore")  # a child must not write into a notebook
            mp.start_processes(data_parallel_worker, nprocs=world_size, join=True,
                               start_method="fork",
                               args=(world_size, init_method, model, X, y, loss_fn,
                                     out_path, timeout))
        return torch.load(out_path)
