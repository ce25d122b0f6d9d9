"""ALFJ-Net (attention-guided local feature joint learning), its ablations and its base models.

Data flow (one class, `ALFJNet`, switched by `ALFJOptions`):

    x -> trunk (stem + stages 1-3) -> ECA -> shared_tap -> split 2x2 (TL, TR, BL, BR)
      -> per region: local stage (stage 4) -> CBAM -> region_taps[k] -> avg pool -> dropout -> linear
      -> head_logits (B, 4, C);  probs = softmax(head_logits).mean(1)

`split_at` moves the split earlier (after stage 1 or 2, or to the input image: `split_at=0`, the
"patch" variant), with the later trunk stages run per region; see `fer.models.alfj_split`.

With `split=False` the model is a single-head network: trunk -> [ECA] -> stage 4 -> shared_tap
-> pool -> dropout -> fc (the base model, and the "ECA only" ablation).

Registered names (see docs/model.md): alfj_resnet50, alfj_resnet18, alfj_ir50 (full model);
base_resnet50, base_resnet18 (no ECA, no split); ablation_eca_resnet{50,18} (ECA, single head);
ablation_split_resnet{50,18} (split, no ECA, no CBAM); ablation_split_cbam_resnet{50,18}
(split + CBAM, no ECA); alfj_split2_{resnet50,resnet18} (split after stage 2, as MA-Net);
alfj_patch_{resnet50,resnet18} (each image quadrant through the trunk alone); and the same four
families on `resnet18_half` (half width), the size of the SynthFER checkpoints.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fer.models.alfj_split import SPLIT_POINTS, mosaic, run_shared, run_tails, separate_tails, trunk_tail
from fer.models.attention import CBAM, ECA
from fer.models.backbones import BACKBONES, apply_caffe_resnet_layout, backbone_preprocess, build_backbone
from fer.models.base import FERModel, ModelConfig, ModelOutput, Preprocess
from fer.models.registry import register_model
from fer.regions import ODD_SPLIT_MODES, cells_to_pixels, slices_to_cells, split_bounds, split_slices

LOCAL_STAGE_MODES = ("separate", "shared")


@dataclass
class ALFJOptions:
    """Architecture options. Defaults are the project's reading of the paper (docs/model.md)."""

    backbone: str = "resnet50"  # resnet50 (paper) | resnet18 (CPU work) | ir50 (face.evoLVe, 112 px)
    use_eca: bool = True  # global feature enhancement on the stage-3 output
    eca_kernel: int | None = None  # None: ECA paper's adaptive rule (k=5 for 1024 and 256 channels)
    split: bool = True  # 2x2 local split with four heads; False: one global head
    odd_split: str = "first_larger"  # odd grid: middle row/col goes to the top/left regions; or "overlap"
    local_stage: str = "shared"
    use_cbam: bool = True  # mixed (channel + spatial) attention per region
    cbam_reduction: int = 16  # CBAM paper's default
    cbam_spatial_kernel: int = 7
    dropout: float = 0.5  # before each linear classifier
    caffe_resnet: bool = False  # Caffe stride/pool layout (set when VGGFace2 resnet50_ft is loaded)
    split_at: int = 3  # 3: split the stage-3 map (paper); 1, 2: after that stage; 0: the input image

    @property
    def early_split(self) -> bool:
        return self.split and self.split_at < 3

    def validate(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {self.backbone!r}")
        if self.odd_split not in ODD_SPLIT_MODES:
            raise ValueError(f"odd_split must be one of {ODD_SPLIT_MODES}, got {self.odd_split!r}")
        if self.local_stage not in LOCAL_STAGE_MODES:
            raise ValueError(f"local_stage must be one of {LOCAL_STAGE_MODES}, got {self.local_stage!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.caffe_resnet and self.backbone != "resnet50":
            raise ValueError("caffe_resnet applies to the resnet50 backbone only")
        if self.split_at not in SPLIT_POINTS:
            raise ValueError(f"split_at must be one of {SPLIT_POINTS} (0 = the input image), got {self.split_at!r}")
        if not self.split and self.split_at != 3:
            raise ValueError("split_at applies only with split=True")
        if not self.split and self.use_cbam:
            raise ValueError("use_cbam applies only with split=True (local_stage is ignored without a split)")


def split_regions(f: torch.Tensor, mode: str = "first_larger") -> list[torch.Tensor]:
    """Split (B, C, H, W) into [top-left, top-right, bottom-left, bottom-right]."""
    rows = split_bounds(f.shape[-2], mode)
    cols = split_bounds(f.shape[-1], mode)
    return [f[:, :, r, c] for r in rows for c in cols]


class ALFJNet(FERModel):
    """ALFJ-Net and its ablations; see the module docstring for the data flow."""

    def __init__(self, config: ModelConfig, options: ALFJOptions) -> None:
        options.validate()
        num_regions = 4 if options.split else 0
        super().__init__(config, num_regions)
        self.options = options
        parts = build_backbone(options.backbone)
        self.trunk = parts.trunk
        self.eca = ECA(parts.trunk_channels, options.eca_kernel) if options.use_eca else nn.Identity()
        n_stages = 4 if options.split and options.local_stage == "separate" else 1
        stages = [parts.local_stage] + [copy.deepcopy(parts.local_stage) for _ in range(n_stages - 1)]
        self.local_stages = nn.ModuleList(stages)
        if options.early_split and n_stages == 4:  # own copies of the per-region trunk stages
            self.region_trunks = separate_tails(self.trunk, options.split_at)
        if options.caffe_resnet:
            apply_caffe_resnet_layout(self.trunk, self.local_stages)
        n_heads = max(1, num_regions)
        channels = parts.out_channels
        if options.split and options.use_cbam:
            self.region_attention = nn.ModuleList(
                CBAM(channels, options.cbam_reduction, options.cbam_spatial_kernel) for _ in range(n_heads)
            )
        else:
            self.region_attention = nn.ModuleList(nn.Identity() for _ in range(n_heads))
        self.dropout = nn.Dropout(options.dropout)
        self.heads = nn.ModuleList(nn.Linear(channels, config.num_classes) for _ in range(n_heads))

    def region_slices(self, h: int, w: int) -> list[tuple[slice, slice]]:
        """(rows, cols) of the shared map (h, w) each head sees, in head order; [] for one-head models.

        `fer.explain` reads this to place each head's CAM on the face.
        """
        if not self.options.split:
            return []
        # an early split's shared map is the mosaic of the regions' own maps: cut where they meet
        return split_slices(h, w, "first_larger" if self.options.early_split else self.options.odd_split)

    def input_regions(self, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """Pixel boxes each head is meant to see. For an early split: the split of the map where it is
        made, on the input (for the input split, `split_at=0`, exactly the image quadrants the heads see;
        after stage 1 or 2 the quadrants the per-region stages start from, which their cells' receptive
        fields overreach by a margin, see docs/locality.md)."""
        if not self.options.early_split:
            return super().input_regions(height, width)
        key = ("input", int(height), int(width))
        if key not in self._region_cache:
            fh, fw = int(height), int(width)
            if self.options.split_at > 0:  # the size of the map that is split
                param = next(self.parameters())
                with torch.no_grad():
                    probe = torch.zeros(1, 3, fh, fw, device=param.device, dtype=param.dtype)
                    fh, fw = run_shared(self.trunk, probe, self.options.split_at).shape[-2:]
            cells = slices_to_cells(split_slices(fh, fw, self.options.odd_split), fh, fw)
            self._region_cache[key] = cells_to_pixels(cells, (fh, fw), int(height), int(width))
        return list(self._region_cache[key])

    def _classify(self, k: int, feature: torch.Tensor) -> torch.Tensor:
        pooled = feature.mean(dim=(2, 3))
        return self.heads[k](self.dropout(pooled))

    def _local_features(self, regions: list[torch.Tensor]) -> list[torch.Tensor]:
        if len(self.local_stages) == 4:
            return [stage(r) for stage, r in zip(self.local_stages, regions)]
        stage = self.local_stages[0]
        if all(r.shape == regions[0].shape for r in regions):
            # one shared stage, equal region sizes: one call on the regions stacked along the batch
            return list(stage(torch.cat(regions, dim=0)).chunk(len(regions), dim=0))
        return [stage(r) for r in regions]

    def _early_split_map(self, x: torch.Tensor) -> torch.Tensor:
        """Trunk up to `split_at`, cut 2x2, the rest per region, ECA per region, tiled back."""
        s = self.options.split_at
        f = run_shared(self.trunk, x, s)
        rows, cols = (
            split_bounds(f.shape[-2], self.options.odd_split),
            split_bounds(f.shape[-1], self.options.odd_split),
        )
        tails = [trunk_tail(self.trunk, s), *getattr(self, "region_trunks", [])]
        maps = run_tails(tails, [f[:, :, r, c] for r in rows for c in cols])
        return mosaic(run_tails([self.eca], maps))

    def forward(self, x: torch.Tensor) -> ModelOutput:
        if self.options.early_split:
            f = self.shared_tap(self._early_split_map(x))
        else:
            f = self.shared_tap(self.eca(self.trunk(x))) if self.options.split else self.eca(self.trunk(x))
        if not self.options.split:
            g = self.shared_tap(self.local_stages[0](f))
            return ModelOutput(self._classify(0, g).unsqueeze(1))
        regions = [f[:, :, r, c] for r, c in self.region_slices(f.shape[-2], f.shape[-1])]
        logits = []
        for k, g in enumerate(self._local_features(regions)):
            g = self.region_taps[k](self.region_attention[k](g))
            logits.append(self._classify(k, g))
        return ModelOutput(torch.stack(logits, dim=1))


def _provenance(options: ALFJOptions, backbone_weights: str | None) -> str:
    if backbone_weights:
        return (
            f"backbone initialised from {backbone_weights}; heads randomly initialised; not trained on expression data"
        )
    return "randomly initialised; not trained on expression data"


def build_alfj(
    name: str,
    defaults: dict[str, Any],
    num_classes: int = 7,
    *,
    input_size: int | None = None,
    backbone_weights: str | os.PathLike | None = None,
    pretrained: str | os.PathLike | None = None,
    class_names: tuple[str, ...] | list[str] | None = None,
    **arch: Any,
) -> ALFJNet:
    """Build a registered variant: `defaults` are the variant's options, `arch` the caller's overrides.

    `backbone_weights` (alias `pretrained`) is a local file only (nothing is downloaded); it is loaded
    with `fer.models.pretrained.load_backbone_weights`, which may switch the model to the Caffe layout.
    """
    if pretrained is not None:
        if isinstance(pretrained, bool) or not isinstance(pretrained, (str, os.PathLike)):
            raise ValueError(
                "pretrained takes the path of a local backbone file (nothing is downloaded); "
                "see fer.models.pretrained.list_pretrained_inits()"
            )
        backbone_weights = backbone_weights or pretrained
    backbone_weights = os.fspath(backbone_weights) if backbone_weights else None
    known = {f.name for f in dataclasses.fields(ALFJOptions)}
    unknown = sorted(set(arch) - known)
    if unknown:
        raise TypeError(f"unknown option(s) for {name}: {unknown}; known options: {sorted(known)}")
    options = ALFJOptions(**{**defaults, **arch})
    options.validate()
    parts_size, mean, std = backbone_preprocess(options.backbone)
    config = ModelConfig(
        name=name,
        num_classes=num_classes,
        class_names=tuple(class_names or ()),
        preprocess=Preprocess(input_size=input_size or parts_size, mean=mean, std=std),
        arch=dataclasses.asdict(options),
        trained=False,
        provenance=_provenance(options, backbone_weights),
    )
    model = ALFJNet(config, options)
    if backbone_weights:
        from fer.models.pretrained import load_backbone_weights

        load_backbone_weights(model, backbone_weights)
    return model


def _register(name: str, family: str, description: str, **defaults: Any) -> None:
    def builder(num_classes: int = 7, **config: Any) -> ALFJNet:
        return build_alfj(name, defaults, num_classes, **config)

    builder.__doc__ = description
    register_model(name, description, family)(builder)


_FULL = dict(use_eca=True, split=True, use_cbam=True)
_BASE = dict(use_eca=False, split=False, use_cbam=False)
for _bb, _note in (("resnet50", "the paper's backbone"), ("resnet18", "small, for CPU work")):
    _register(f"alfj_{_bb}", "alfj", f"ALFJ-Net on {_bb} ({_note}): ECA + 2x2 split + CBAM, 4 heads",
              backbone=_bb, **_FULL)
    _register(f"base_{_bb}", "base", f"Base model: plain {_bb} (stages 1-4, pool, dropout, fc), one head",
              backbone=_bb, **_BASE)
    _register(
        f"ablation_eca_{_bb}", "ablation", f"Ablation: {_bb} + ECA after stage 3, one head (no split)",
        backbone=_bb, use_eca=True, split=False, use_cbam=False,
    )
    _register(
        f"ablation_split_{_bb}", "ablation", f"Ablation: {_bb} 2x2 local split, 4 heads, no ECA, no CBAM",
        backbone=_bb, use_eca=False, split=True, use_cbam=False,
    )
    _register(
        f"ablation_split_cbam_{_bb}", "ablation", f"Ablation: {_bb} 2x2 local split + CBAM, 4 heads, no ECA",
        backbone=_bb, use_eca=False, split=True, use_cbam=True,
    )
for _bb in ("resnet50", "resnet18", "resnet18_half"):
    _register(
        f"alfj_split2_{_bb}", "alfj",
        f"ALFJ-Net on {_bb}, split after stage 2 (as MA-Net): stage 3-4 + CBAM per region",
        backbone=_bb, split_at=2, **_FULL,
    )
    _register(
        f"alfj_patch_{_bb}", "alfj", f"ALFJ-Net on {_bb}, input split: each image quadrant through the trunk alone",
        backbone=_bb, split_at=0, **_FULL,
    )
_register("alfj_resnet18_half", "alfj", "ALFJ-Net on resnet18_half (half-width ResNet-18, SynthFER size)",
          backbone="resnet18_half", **_FULL)
_register("base_resnet18_half", "base", "Base model: half-width ResNet-18, one head (SynthFER size)",
          backbone="resnet18_half", **_BASE)
_register("alfj_ir50", "alfj", "ALFJ-Net on face.evoLVe IR-50 (112 px, mean/std 0.5): ECA + split + CBAM",
          backbone="ir50", **_FULL)
