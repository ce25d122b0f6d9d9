"""What the library sees: model wrappers returning one tensor, and explicit CAM targets.

pytorch-grad-cam iterates over the batch of the wrapped model's output and calls each target
on one sample's output. `HeadsAndFused` returns (B, R + 1, C): the R head logits, then the
fused log-odds, so one forward pass serves every target.

The fused decision is `ModelOutput.probs`: softmax of the model's own whole-face
logits when its output carries them (the reference models), else the mean of the heads'
softmaxes (the paper's decision-level fusion, `ModelOutput.probs`). The map explains the
log-odds of the fused probability, log p - log(1 - p): for one softmax classifier that is
z_c - logsumexp_{j != c} z_j, a class score whose gradient does not vanish on a confident face
(the gradient of p or of log p is ~0 at p = 1, and the map would be blank).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fer.models.base import FERModel, ModelOutput


def fused_log_odds(output: ModelOutput) -> torch.Tensor:
    """(B, C) log p_c - log(1 - p_c) of the fused probabilities p, computed stably in log space."""
    whole = getattr(output, "whole_logits", None)
    logits = whole[:, None] if whole is not None else output.head_logits  # (B, K, C)
    lsm = F.log_softmax(logits, dim=-1)
    num_classes = lsm.shape[-1]
    log_p = torch.logsumexp(lsm, dim=1)  # log of K * p_c
    others = torch.full((num_classes, num_classes), 0.0, dtype=lsm.dtype, device=lsm.device)
    others.fill_diagonal_(float("-inf"))  # row c masks class c out
    log_not = torch.logsumexp(lsm[:, :, None, :] + others, dim=(1, 3))  # log of K * (1 - p_c)
    return log_p - log_not


class HeadsAndFused(nn.Module):
    """(B, R + 1, C): head logits in rows 0..R-1, fused log-odds in row R."""

    def __init__(self, model: FERModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output = self.model(x)
        return torch.cat([output.head_logits, fused_log_odds(output)[:, None]], dim=1)


class SingleHead(nn.Module):
    """One head's logits (B, C): a single-output view of the model, for the library's own targets."""

    def __init__(self, model: FERModel, head: int) -> None:
        super().__init__()
        self.model = model
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).head_logits[:, self.head]


class FusedLogOdds(nn.Module):
    """The fused decision's log-odds (B, C), as a single-output view of the model."""

    def __init__(self, model: FERModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_log_odds(self.model(x))


class HeadLogitTarget:
    """Target head `head`'s logit of class `category`, given one sample's (R + 1, C) output."""

    def __init__(self, head: int, category: int) -> None:
        self.head = head
        self.category = category

    def __call__(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs[..., self.head, self.category]


class FusedLogOddsTarget:
    """Target the fused log-odds of class `category`, given one sample's (R + 1, C) output."""

    def __init__(self, category: int) -> None:
        self.category = category

    def __call__(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs[..., -1, self.category]
