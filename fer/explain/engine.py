"""All Grad-CAM++ maps of one face from one forward pass, with pytorch-grad-cam's own maths.

A plain `GradCAMPlusPlus` call runs a forward pass and a full backward pass to every
parameter for ONE map. Here the forward pass is run once with hooks on the model's taps; each
map then asks autograd only for the gradient at its tap (`torch.autograd.grad`, keeping the
graph), which stops there instead of running through the backbone. The captured activations
and gradients go to the library's `compute_cam_per_layer` / `aggregate_multi_layers`, so each
map equals what the library returns when called directly (tests check this to 1e-5).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from pytorch_grad_cam import GradCAMPlusPlus
from torch import nn

from fer.errors import FERError, InputError
from fer.explain.targets import FusedLogOddsTarget, HeadLogitTarget, HeadsAndFused
from fer.models.base import FERModel
from fer.regions import Box

LAYERS = ("local", "shared")
HEAD_TARGETS = ("fused", "own")


class CapturedGradCAMPlusPlus(GradCAMPlusPlus):
    """The library's Grad-CAM++, fed activations and gradients captured by the caller.

    Its own hooks are released at once; `cam()` runs the library's per-layer routine
    (weights, weighted sum, ReLU, min-max scaling, resize) on the given tensors, resized to the
    size asked for (the library would resize to the whole input).
    """

    def __init__(self, model: nn.Module, target_layer: nn.Module) -> None:
        super().__init__(model=model, target_layers=[target_layer])
        self.activations_and_grads.release()
        self._target_size: tuple[int, int] | None = None

    def get_target_width_height(self, input_tensor):  # noqa: ARG002 - the size asked in cam()
        return self._target_size

    def cam(self, activation: torch.Tensor, gradient: torch.Tensor, size_wh: tuple[int, int]) -> np.ndarray:
        """(H, W) float32 map in [0, 1] from one (1, C, h, w) activation and its gradient."""
        store = self.activations_and_grads
        self._target_size = (int(size_wh[0]), int(size_wh[1]))
        store.activations, store.gradients = [activation.detach().cpu()], [gradient.detach().cpu()]
        try:
            per_layer = self.compute_cam_per_layer(None, targets=None, eigen_smooth=False)
            return self.aggregate_multi_layers(per_layer)[0]
        finally:
            store.activations, store.gradients = [], []


class TapRecorder:
    """Context manager: forward hooks keeping the (live) output of each tap module; removed on exit.

    Only forward passes of the thread that entered are recorded: a model shared by a server
    may run another request's forward pass meanwhile.
    """

    def __init__(self, modules: list[nn.Module]) -> None:
        self.modules = modules
        self.thread = threading.get_ident()
        self.outputs: list[torch.Tensor | None] = [None] * len(modules)
        self._handles = []

    def __enter__(self) -> TapRecorder:
        for i, module in enumerate(self.modules):
            self._handles.append(module.register_forward_hook(self._keeper(i)))
        return self

    def _keeper(self, i: int):
        def keep(module, inputs, output):
            if self.outputs[i] is None and threading.get_ident() == self.thread:  # the first call, as the library
                self.outputs[i] = output

        return keep

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


@dataclass
class CamMaps:
    """The maps of one face at model-input resolution, and the decisions they explain."""

    fused: np.ndarray  # (S, S) float32 in [0, 1]
    heads: np.ndarray  # (R, S, S) float32 in [0, 1]
    fused_class: int
    head_classes: tuple[int, ...]
    probs: np.ndarray  # (C,) fused probabilities
    head_probs: np.ndarray  # (R, C)
    layer: str  # the layer the head maps were computed at ("local" or "shared")
    region_boxes: list[Box]  # input pixels of each head's region; [] for single-head models


def resolve_class(target: int | str | None, class_names: tuple[str, ...], default: int) -> int:
    """A class index from an index, a class name, or None (= `default`)."""
    if target is None:
        return int(default)
    if isinstance(target, str):
        name = target.strip().lower()
        if name.isdigit():
            return resolve_class(int(name), class_names, default)
        if name not in class_names:
            raise InputError(f"unknown class {target!r}; this model's classes are: {', '.join(class_names)}")
        return class_names.index(name)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not 0 <= int(target) < len(class_names):
            raise InputError(f"class index {target} out of range 0..{len(class_names) - 1}")
        return int(target)
    raise InputError(f"target must be a class index, a class name or None, got {type(target).__name__}")


def check_model(model: object) -> FERModel:
    if not isinstance(model, FERModel):
        raise FERError(f"explain needs a fer FERModel (with Grad-CAM taps), got {type(model).__name__}")
    return model


def compute_maps(
    model: FERModel,
    x: torch.Tensor,
    target: int | str | None = None,
    head_target: str = "fused",
    layer: str = "local",
) -> CamMaps:
    """Fused map at `model.shared_tap`; one map per head at its region tap (or the shared tap).

    `target`: the class whose fused log-odds the fused map explains (None: the
    prediction). `head_target`: "fused" = every head explains that class, "own" = each head
    its own top class. Single-head models have no region taps: their head map is at the
    shared tap.
    """
    model = check_model(model)
    if head_target not in HEAD_TARGETS:
        raise InputError(f"head_target must be one of {HEAD_TARGETS}, got {head_target!r}")
    if layer not in LAYERS:
        raise InputError(f"layer must be one of {LAYERS}, got {layer!r}")
    if x.ndim != 4 or x.shape[0] != 1:
        raise InputError(f"explain takes one face: an input of shape (1, C, H, W), got {tuple(x.shape)}")

    region_taps = list(model.region_taps)
    taps = [model.shared_tap, *region_taps]
    was_training = model.training
    wrapper = HeadsAndFused(model)
    engine = CapturedGradCAMPlusPlus(wrapper, model.shared_tap)  # puts the model in eval mode
    try:
        device = engine.device
        with torch.enable_grad(), TapRecorder(taps) as recorder:
            # the input asks for gradients so the graph exists even when the weights are frozen
            outputs = wrapper(x.detach().to(device).requires_grad_(True))[0]  # (R + 1, C)
        shared, *regional = recorder.outputs
        if shared is None or any(r is None for r in regional):
            raise FERError(f"{type(model).__name__} did not pass its features through shared_tap/region_taps")
        head_logits = outputs[:-1]
        num_heads = head_logits.shape[0]
        if region_taps and len(region_taps) != num_heads:
            raise FERError(f"{type(model).__name__} has {len(region_taps)} region taps but {num_heads} heads")
        class_names = tuple(model.config.class_names)
        with torch.no_grad():
            probs = torch.sigmoid(outputs[-1])
            head_probs = torch.softmax(head_logits, dim=-1)
        fused_class = resolve_class(target, class_names, int(probs.argmax()))
        if head_target == "own":
            head_classes = tuple(int(c) for c in head_logits.argmax(dim=-1))
        else:
            head_classes = (fused_class,) * num_heads

        height, width = x.shape[-2:]
        local = layer == "local" and bool(region_taps)
        boxes = model.input_regions(height, width) if region_taps else []
        jobs = [(FusedLogOddsTarget(fused_class), shared, None)]
        for k, category in enumerate(head_classes):
            jobs.append((HeadLogitTarget(k, category), regional[k] if local else shared, boxes[k] if local else None))

        maps = []
        for i, (tgt, activation, box) in enumerate(jobs):
            (grad,) = torch.autograd.grad(
                tgt(outputs), activation, retain_graph=i < len(jobs) - 1, allow_unused=True
            )
            if grad is None:  # this output does not depend on that tap: nothing to show
                grad = torch.zeros_like(activation)
            if box is None:
                maps.append(engine.cam(activation, grad, (width, height)))
            else:  # the region's own map, resized to the region and pasted in place
                x1, y1, x2, y2 = box
                full = np.zeros((height, width), np.float32)
                full[y1:y2, x1:x2] = engine.cam(activation, grad, (x2 - x1, y2 - y1))
                maps.append(full)
    finally:
        model.train(was_training)
    return CamMaps(
        fused=maps[0],
        heads=np.stack(maps[1:]),
        fused_class=fused_class,
        head_classes=head_classes,
        probs=probs.detach().cpu().numpy(),
        head_probs=head_probs.detach().cpu().numpy(),
        layer="local" if local else "shared",
        region_boxes=boxes,
    )
