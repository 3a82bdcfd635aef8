"""Multi-process data-parallel training when launched by ``torchrun`` (gloo on CPU, nccl on GPU)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job: ``rank`` of ``world_size`` (1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files (metrics, checkpoints) and reports progress."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """True when more than one process trains."""
        return self.world_size > 1


def setup_distributed(device: torch.device) -> DistInfo:
    """Join the process group ``torchrun`` describes in the environment; a no-op for one process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistInfo()
    import torch.distributed as dist

    info = DistInfo(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return info


def device_for(requested: str, info: DistInfo) -> torch.device:
    """The device of this rank: ``cuda:<local rank>`` under torchrun on GPUs, else as asked."""
    if requested == "cuda":
        return torch.device("cuda", info.local_rank)
    return torch.device(requested)


def wrap_model(model: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """``model`` inside DistributedDataParallel when distributed (gradients all-reduced each step)."""
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def mean_across_ranks(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """The average of a scalar over all ranks (every rank gets the same number back)."""
    if not info.enabled:
        return value
    import torch.distributed as dist

    value = value.detach().clone()
    dist.all_reduce(value)
    return value / info.world_size


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True when ``flag`` is True on any rank, the same answer on every rank.

    A signal may reach the ranks a step apart; deciding together keeps them in lockstep, so all stop
    after the same step instead of one waiting forever in the next step's all-reduce.
    """
    if not info.enabled:
        return flag
    import torch.distributed as dist

    value = torch.tensor([float(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def weights_digest(model: nn.Module) -> str:
    """SHA-256 over every tensor of ``model``'s state: equal digests mean bit-identical weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def gather_digests(model: nn.Module, info: DistInfo) -> list[str]:
    """Every rank's :func:`weights_digest`, in rank order: recorded in the final checkpoint as proof that
    data-parallel training kept the replicas identical."""
    mine = weights_digest(model)
    if not info.enabled:
        return [mine]
    import torch.distributed as dist

    gathered: list[str | None] = [None] * info.world_size
    dist.all_gather_object(gathered, mine)
    return [str(d) for d in gathered]


def barrier(info: DistInfo) -> None:
    """Wait for every rank (e.g. until rank 0 has written the run's config.json)."""
    if info.enabled:
        import torch.distributed as dist

        dist.barrier()
