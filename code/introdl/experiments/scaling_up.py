"""Experiments of the chapter "Scaling up": DDP with torchrun against one process."""

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from introdl.checks import check_positive_int
from introdl.data import load_digits
from introdl.distributed import launch, train_data_parallel
from introdl.landscape import tiny_mlp

__all__ = ["DDPComparison", "ddp_vs_single", "sampler_shards"]


@dataclass
class DDPComparison:
    """Final weights and per-step losses of a torchrun run with ``world_size``
    processes and of one process with the same global batch."""

    world_size: int
    single_state: dict
    rank_states: list[dict]  # one state_dict per process
    single_losses: list[float]
    rank_losses: list[list[float]]  # per process: loss on its share of each batch
    launch_seconds: float  # wall time of torchrun, start-up included
    max_difference: float  # largest |w_ddp - w_single| over every weight


def ddp_vs_single(nproc: int = 2, *, n_train: int = 512, batch_size: int = 64,
                  num_epochs: int = 2, lr: float = 0.1, hidden_size: int = 32,
                  num_micro_batches: int = 1, seed: int = 0,
                  timeout: float = 120.0) -> DDPComparison:
    """Train the digits MLP (``introdl.landscape.tiny_mlp``) with torchrun and
    ``nproc`` processes (:func:`introdl.distributed.launch`), then in this
    process alone with the same global batch, and collect both results."""
    check_positive_int("nproc", nproc)
    X, y = load_digits(n_train=n_train, seed=seed).train
    args = ["--num-epochs", str(num_epochs), "--batch-size", str(batch_size),
            "--lr", str(lr), "--hidden-size", str(hidden_size), "--seed", str(seed),
            "--num-micro-batches", str(num_micro_batches)]
    with tempfile.TemporaryDirectory() as folder:
        torch.save({"X": X, "y": y}, Path(folder) / "data.pt")
        start = time.perf_counter()
        launch(nproc, [*args, "--data", str(Path(folder) / "data.pt"),
                       "--out-dir", folder], timeout=timeout)
        seconds = time.perf_counter() - start
        runs = [torch.load(Path(folder) / f"rank{r}.pt") for r in range(nproc)]
    model = tiny_mlp(hidden_size=hidden_size, seed=seed)
    single_losses = train_data_parallel(model, X, y, batch_size=batch_size,
                                        num_epochs=num_epochs, lr=lr, seed=seed,
                                        num_micro_batches=num_micro_batches)
    single = model.state_dict()
    diff = max((run["state_dict"][k] - w).abs().max().item()
               for run in runs for k, w in single.items())
    return DDPComparison(nproc, single, [run["state_dict"] for run in runs],
                         single_losses, [run["losses"] for run in runs], seconds, diff)


def sampler_shards(n: int, world_size: int, batch_size: int, *, num_steps: int = 2,
                   epoch: int = 0, seed: int = 0) -> list[list[list[int]]]:
    """Which examples each process gets in the first ``num_steps`` global
    batches: ``shards[step][rank]`` lists example indices, as the
    ``DistributedSampler`` and ``DataLoader`` of
    :func:`introdl.distributed.train_data_parallel` hand them out."""
    check_positive_int("world_size", world_size)
    if batch_size % world_size:
        raise ValueError(f"batch_size must be a multiple of world_size={world_size}, "
                         f"got {batch_size}")
    per_rank = []
    for rank in range(world_size):
        sampler = torch.utils.data.DistributedSampler(
            range(n), num_replicas=world_size, rank=rank, shuffle=True, seed=seed,
            drop_last=True)
        sampler.set_epoch(epoch)
        order = list(sampler)
        b = batch_size // world_size
        per_rank.append([order[s * b:(s + 1) * b] for s in range(num_steps)])
    return [[per_rank[r][s] for r in range(world_size)] for s in range(num_steps)]
