"""The joint loss of ALFJ-Net: the heads' cross-entropies, weighted and summed, plus an optional
cross-entropy on the fused prediction.

    L = sum_k w_k * CE(head_logits[:, k], y) + fused_weight * NLL(log(mean_k softmax(head_logits[:, k])), y)

`y` is either class indices (B,) or label distributions (B, C) (e.g. FERPlus vote proportions).
Label smoothing mixes the target with the uniform distribution: (1 - eps) * y + eps / C.
The fused log-probabilities are computed as logsumexp_k(log_softmax_k) - log R, which is stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fer.models.base import ModelOutput


def _target_distribution(target: torch.Tensor, num_classes: int, label_smoothing: float) -> torch.Tensor:
    if target.dim() == 1:
        dist = F.one_hot(target.long(), num_classes).to(torch.float32)
    elif target.dim() == 2 and target.shape[1] == num_classes:
        dist = target.to(torch.float32)
    else:
        raise ValueError(
            f"target must be class indices (B,) or distributions (B, {num_classes}), got {tuple(target.shape)}"
        )
    if label_smoothing:
        dist = dist * (1.0 - label_smoothing) + label_smoothing / num_classes
    return dist


def fused_log_probs(head_logits: torch.Tensor) -> torch.Tensor:
    """log of the fused probabilities softmax(head_logits).mean(1), shape (B, C)."""
    return torch.logsumexp(F.log_softmax(head_logits, dim=-1), dim=1) - math.log(head_logits.shape[1])


def joint_loss(
    output: ModelOutput | torch.Tensor,
    target: torch.Tensor,
    head_weights: Sequence[float] | torch.Tensor | None = None,
    fused_weight: float = 0.0,
    label_smoothing: float = 0.0,
    return_terms: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted sum of per-head cross-entropies (+ optional fused term), averaged over the batch.

    `head_weights` defaults to 1 for every head (the heads' losses summed, as the paper's joint
    loss). With `return_terms=True` also returns {"head0": ..., ..., "fused": ...} (unweighted terms,
    detached).
    """
    logits = output.head_logits if isinstance(output, ModelOutput) else output
    if logits.dim() != 3:
        raise ValueError(f"head logits must be (B, R, C), got {tuple(logits.shape)}")
    b, r, c = logits.shape
    if target.shape[0] != b:
        raise ValueError(f"batch size mismatch: logits {b}, target {target.shape[0]}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    weights = torch.ones(r) if head_weights is None else torch.as_tensor(head_weights, dtype=torch.float32)
    if weights.numel() != r:
        raise ValueError(f"{weights.numel()} head weights given for {r} heads")
    dist = _target_distribution(target, c, label_smoothing).to(logits.device)

    log_p = F.log_softmax(logits.float(), dim=-1)  # (B, R, C)
    per_head = -(dist[:, None, :] * log_p).sum(-1).mean(0)  # (R,)
    total = (weights.to(per_head) * per_head).sum()
    terms = {f"head{k}": per_head[k].detach() for k in range(r)}
    if fused_weight:
        fused = -(dist * fused_log_probs(logits.float())).sum(-1).mean()
        total = total + fused_weight * fused
        terms["fused"] = fused.detach()
    return (total, terms) if return_terms else total
