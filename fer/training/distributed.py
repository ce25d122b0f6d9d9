"""The process group of a `torchrun` launch.

Under torchrun (its rendezvous variables MASTER_ADDR / MASTER_PORT / WORLD_SIZE set) a process group is
started even for one process, so `torchrun --nproc_per_node 1` runs the same NCCL / gloo code path as
several processes (DistributedDataParallel, all-reduce, broadcast); a plain `python -m fer train` has none."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

LAUNCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE")  # what env:// initialisation reads


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local: int = 0
    launched: bool = False  # started by torchrun (or another env:// launcher), whatever the world size

    @property
    def distributed(self) -> bool:
        """True when this process takes part in a process group (torchrun, or more than one process)."""
        return self.launched or self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def ranks_from_env() -> Ranks:
    """Rank, world size and local rank as torchrun sets them (1 process, not launched, when unset)."""
    launched = all(os.environ.get(k) for k in LAUNCH_VARIABLES)
    return Ranks(int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1")),
                 int(os.environ.get("LOCAL_RANK", "0")), launched)


def describe(ranks: Ranks) -> str:
    """The process group in words, for the training log: "process group nccl, world 1" or "no process group"."""
    if ranks.distributed and dist.is_available() and dist.is_initialized():
        return f"process group {dist.get_backend()}, world {dist.get_world_size()}"
    return "no process group"


def setup_device(ranks: Ranks, device: str | None) -> torch.device:
    """The device of this process (its own GPU under torchrun), with the process group started."""
    if device is None:
        device = f"cuda:{ranks.local}" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:  # "cuda" under torchrun: this process's own GPU
        dev = torch.device("cuda", ranks.local)
    if ranks.distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    return dev


def gather(obj: Any, ranks: Ranks) -> list:
    """`obj` of every rank, in rank order."""
    if not ranks.distributed:
        return [obj]
    out: list = [None] * ranks.world
    dist.all_gather_object(out, obj)
    return out


def from_main(values: list, ranks: Ranks) -> list:
    """`values` as rank 0 holds them, on every rank."""
    if ranks.distributed:
        dist.broadcast_object_list(values, src=0)
    return values


def cleanup_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
