"""Backbones for ALFJ-Net, cut into a shared trunk (stem + stages 1-3) and a local stage (stage 4).

* `resnet18` / `resnet50`: torchvision ResNets built without weights. Module names inside the trunk
  are torchvision's (`conv1`, `bn1`, `layer1`..`layer3`) and the local stage is `layer4` itself, so a
  torchvision-style state dict maps onto them by prefix alone.
* `resnet18_half`: ResNet-18 at half width (32-64-128-256 channels, a quarter of the weights), for
  the small SynthFER checkpoints shipped with the package; built from torchvision's BasicBlock.
* `ir50`: the IR-50 of face.evoLVe (`backbone/model_irse.py`, mode "ir"), 112x112 input: an
  `input_layer` (3x3 conv, BN, PReLU) and 24 "bottleneck_IR" units `body.0..23` with
  `res_layer` (BN, 3x3 conv, PReLU, 3x3 conv with the stride, BN) and `shortcut_layer` (1x1 max pool
  with the stride when the width is unchanged, else 1x1 conv + BN). Units 0-20 (stages 1-3,
  256 channels, stride 8) form the trunk; units 21-23 (stage 4, 512 channels) the local stage.
  The trunk keeps the names `input_layer.*` and `body.<i>.*` of the original.

`BACKBONE_SPECS` is the one home of each backbone's facts: its design input size and normalisation
(used by the models' `Preprocess`), the foreign weight layouts that fit it, and its key map (as timm's
`filter_fn`): a function from a foreign tensor name to the model's names. Nothing is downloaded:
weights come from `fer.models.pretrained.load_backbone_weights`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from fer.models.base import IMAGENET_MEAN, IMAGENET_STD

IR50_UNITS = (3, 4, 14, 3)  # units per stage (face.evoLVe get_blocks(50))
IR50_TRUNK_UNITS = sum(IR50_UNITS[:3])  # body.0..20 in the trunk, body.21..23 in the local stage

KeyMap = Callable[[str, int], "list[str] | str"]  # (source key, number of stage-4 copies) -> model keys or a reason


def resnet_key_map(key: str, n_stages: int) -> list[str] | str:
    """torchvision ResNet names: stem and layer1-3 into the trunk, layer4 into every stage-4 copy."""
    head, _, rest = key.partition(".")
    if head in ("conv1", "bn1", "layer1", "layer2", "layer3"):
        return [f"trunk.{key}"]
    if head == "layer4":
        return [f"local_stages.{s}.{rest}" for s in range(n_stages)]
    if head == "fc":
        return "classifier of the source task, not used"
    return "not a backbone tensor"


def ir50_key_map(key: str, n_stages: int) -> list[str] | str:
    """face.evoLVe IR-50 names: input layer and units 0-20 into the trunk, units 21-23 into each stage-4 copy."""
    head, _, rest = key.partition(".")
    if head == "input_layer":
        return [f"trunk.{key}"]
    if head == "body":
        idx, _, tail = rest.partition(".")
        if idx.isdigit():
            i = int(idx)
            if i < IR50_TRUNK_UNITS:
                return [f"trunk.{key}"]
            return [f"local_stages.{s}.{i - IR50_TRUNK_UNITS}.{tail}" for s in range(n_stages)]
    if head == "output_layer":
        return "face-embedding head of the source, not used"
    return "not a backbone tensor"


@dataclass(frozen=True)
class BackboneSpec:
    input_size: int  # the input size the backbone was designed for
    mean: tuple[float, ...]
    std: tuple[float, ...]
    layouts: tuple[str, ...]  # foreign weight layouts (fer.models.pretrained) whose tensors fit it
    key_map: KeyMap


BACKBONE_SPECS: dict[str, BackboneSpec] = {
    "resnet18": BackboneSpec(224, IMAGENET_MEAN, IMAGENET_STD, ("torchvision",), resnet_key_map),
    "resnet50": BackboneSpec(224, IMAGENET_MEAN, IMAGENET_STD, ("torchvision", "vggface2"), resnet_key_map),
    "resnet18_half": BackboneSpec(224, IMAGENET_MEAN, IMAGENET_STD, (), resnet_key_map),  # no foreign weights fit
    "ir50": BackboneSpec(112, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), ("ir50",), ir50_key_map),
}
BACKBONES = tuple(BACKBONE_SPECS)


def backbone_spec(name: str) -> BackboneSpec:
    if name not in BACKBONE_SPECS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    return BACKBONE_SPECS[name]


def backbone_preprocess(name: str) -> tuple[int, tuple[float, ...], tuple[float, ...]]:
    """(input size, mean, std) the backbone `name` was designed for."""
    spec = backbone_spec(name)
    return spec.input_size, spec.mean, spec.std


@dataclass
class BackboneParts:
    trunk: nn.Module  # stem + stages 1-3
    local_stage: nn.Module  # stage 4 (each region head gets a deep copy, or all share it)
    trunk_channels: int
    out_channels: int
    spec: BackboneSpec  # design input size, normalisation, fitting weight layouts, key map


class ResNetTrunk(nn.Module):
    """Stem + stages 1-3 of a torchvision ResNet, keeping torchvision's module names."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3 = net.layer1, net.layer2, net.layer3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer3(self.layer2(self.layer1(x)))


def apply_caffe_resnet_layout(*modules: nn.Module) -> int:
    """Turn torchvision bottlenecks into the Caffe ResNet-50 layout of VGGFace2 `resnet50_ft`.

    Caffe puts a downsampling block's stride on its first 1x1 conv (torchvision: on the 3x3 conv),
    and its stem max pool has padding 0 with ceil_mode=True. Output sizes are unchanged for the
    even sizes used here. Returns the number of modules changed.
    """
    from torchvision.models.resnet import Bottleneck  # torchvision only when a ResNet is built (start-up time)

    changed = 0
    for root in modules:
        for m in root.modules():
            if isinstance(m, Bottleneck) and m.conv2.stride != (1, 1):
                m.conv1.stride, m.conv2.stride = m.conv2.stride, (1, 1)
                changed += 1
            elif isinstance(m, nn.MaxPool2d) and m.kernel_size == 3:
                m.padding, m.ceil_mode = 0, True
                changed += 1
    return changed


def _half_resnet18() -> nn.Module:
    """torchvision's ResNet-18 with every stage at half width (torchvision's initialisation)."""
    from torchvision.models import resnet18
    from torchvision.models.resnet import BasicBlock

    net = resnet18(weights=None)
    net.inplanes = 32
    net.conv1 = nn.Conv2d(3, 32, kernel_size=7, stride=2, padding=3, bias=False)
    net.bn1 = nn.BatchNorm2d(32)
    for i in range(4):
        layer = net._make_layer(BasicBlock, 32 * 2**i, 2, stride=1 if i == 0 else 2)
        setattr(net, f"layer{i + 1}", layer)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return net


def _resnet_parts(name: str) -> BackboneParts:
    from torchvision.models import resnet18, resnet50

    builders = {"resnet18": resnet18, "resnet50": resnet50}
    net = _half_resnet18() if name == "resnet18_half" else builders[name](weights=None)
    trunk_channels = {"resnet18": 256, "resnet18_half": 128, "resnet50": 1024}[name]
    return BackboneParts(
        trunk=ResNetTrunk(net),
        local_stage=net.layer4,
        trunk_channels=trunk_channels,
        out_channels=2 * trunk_channels,
        spec=BACKBONE_SPECS[name],
    )


class IRUnit(nn.Module):
    """face.evoLVe `bottleneck_IR`: pre-activation-style residual unit with PReLU."""

    def __init__(self, in_channels: int, depth: int, stride: int) -> None:
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_channels, depth, 1, stride, bias=False), nn.BatchNorm2d(depth)
            )
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


def _ir50_units() -> list[IRUnit]:
    units: list[IRUnit] = []
    in_ch = 64
    for depth, n in zip((64, 128, 256, 512), IR50_UNITS):
        units.append(IRUnit(in_ch, depth, 2))
        units.extend(IRUnit(depth, depth, 1) for _ in range(n - 1))
        in_ch = depth
    return units


class IRTrunk(nn.Module):
    """IR-50 input layer + units 0-20 (stages 1-3), keeping face.evoLVe's module names."""

    def __init__(self, units: list[IRUnit]) -> None:
        super().__init__()
        self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        self.body = nn.Sequential(*units)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.input_layer(x))


def _ir50_parts() -> BackboneParts:
    units = _ir50_units()
    trunk = IRTrunk(units[:IR50_TRUNK_UNITS])
    for m in trunk.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    local = nn.Sequential(*units[IR50_TRUNK_UNITS:])
    for m in local.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return BackboneParts(trunk, local, 256, 512, BACKBONE_SPECS["ir50"])


def build_backbone(name: str) -> BackboneParts:
    """Fresh, randomly initialised trunk and local stage for `name` (one of BACKBONES)."""
    backbone_spec(name)
    return _ir50_parts() if name == "ir50" else _resnet_parts(name)
