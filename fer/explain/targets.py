"""What the library sees: a model wrapper returning one tensor, and explicit CAM targets.

pytorch-grad-cam iterates over the batch of the wrapped model's output and calls each target
on one sample's output. `HeadLogits` returns the (B, R, C) head logits, so a target receives
an (R, C) tensor and picks what it explains from it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fer.models.base import FERModel


class HeadLogits(nn.Module):
    """`model(x).head_logits` as a plain tensor (the library breaks on dataclass/tuple outputs)."""

    def __init__(self, model: FERModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).head_logits


class SingleHead(nn.Module):
    """One head's logits (B, C): a single-head view of the model, for the library's own targets."""

    def __init__(self, model: FERModel, head: int) -> None:
        super().__init__()
        self.model = model
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).head_logits[:, self.head]


class FusedLogProbs(nn.Module):
    """The fused decision's log-probabilities (B, C): log of the mean of the heads' softmaxes."""

    def __init__(self, model: FERModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_log_probs(self.model(x).head_logits)


def fused_log_probs(head_logits: torch.Tensor) -> torch.Tensor:
    """log(mean_k softmax(logits_k)) over the head axis (-2), computed stably."""
    num_heads = head_logits.shape[-2]
    return torch.logsumexp(F.log_softmax(head_logits, dim=-1), dim=-2) - torch.log(
        torch.tensor(float(num_heads), dtype=head_logits.dtype, device=head_logits.device)
    )


class HeadLogitTarget:
    """Target head `head`'s logit of class `category`, given one sample's (R, C) head logits."""

    def __init__(self, head: int, category: int) -> None:
        self.head = head
        self.category = category

    def __call__(self, head_logits: torch.Tensor) -> torch.Tensor:
        return head_logits[..., self.head, self.category]


class FusedLogProbTarget:
    """Target the fused log-probability of class `category`, given one sample's (R, C) head logits.

    The log of the fused probability plays the part a logit plays for a single softmax
    classifier: its gradient is that of the probability, scaled by 1/p, so the map does not
    vanish when the model is confident.
    """

    def __init__(self, category: int) -> None:
        self.category = category

    def __call__(self, head_logits: torch.Tensor) -> torch.Tensor:
        return fused_log_probs(head_logits)[..., self.category]
