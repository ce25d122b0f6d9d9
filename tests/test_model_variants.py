"""ALFJ-Net split variants: split after stage 1/2, the input split ("patch"), and what must work for them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer.models import create_model, list_models, load_checkpoint, model_entry, save_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIZE = 64
REQUIRED = ("alfj_split2_resnet18", "alfj_split2_resnet50", "alfj_patch_resnet18", "alfj_patch_resnet50")
SMALL = ("alfj_resnet18_half", "alfj_split2_resnet18_half", "alfj_patch_resnet18_half", "base_resnet18_half")


def _model(name: str, **arch) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(name, input_size=SIZE, **arch).eval()


def hidden_region_crosstalk(model, x: torch.Tensor) -> np.ndarray:
    """(4, 4): fer.robustness.locality's cross-talk (row j = region j hidden with grey, column k = head k)."""
    from fer.robustness.locality import crosstalk

    return crosstalk(model, x, cam_limit=0).crosstalk


def test_registered_with_their_options():
    names = set(list_models("alfj")) | set(list_models("base"))
    assert set(REQUIRED) <= names and set(SMALL) <= names
    assert model_entry("alfj_patch_resnet50").family == "alfj"
    assert create_model("alfj_split2_resnet50").config.arch["split_at"] == 2
    assert create_model("alfj_patch_resnet18").config.arch["split_at"] == 0
    assert create_model("alfj_resnet18").config.arch["split_at"] == 3  # the paper's default
    for bad in ({"split_at": 4}, {"split_at": -1}):
        with pytest.raises(ValueError, match="split_at"):
            create_model("alfj_resnet18", **bad)
    with pytest.raises(ValueError, match="split_at"):
        create_model("base_resnet18", split_at=2)


def test_half_width_backbone_is_a_quarter_of_the_weights():
    full = sum(p.numel() for p in create_model("base_resnet18").parameters())
    half = sum(p.numel() for p in create_model("base_resnet18_half").parameters())
    assert 0.2 < half / full < 0.3


@pytest.mark.parametrize("split_at", [0, 1, 2, 3])
@pytest.mark.parametrize("local_stage", ["shared", "separate"])
def test_shapes_and_joint_gradients_at_every_split_point(split_at, local_stage):
    model = _model("alfj_resnet18_half", split_at=split_at, local_stage=local_stage).train()
    out = model(torch.randn(2, 3, SIZE, SIZE))
    assert out.head_logits.shape == (2, 4, 7)
    out.head_logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters()), "a parameter is not used by the forward pass"
    if split_at < 3 and local_stage == "separate":
        assert len(model.region_trunks) == 3  # own copies of the per-region stages for regions 2-4
    with torch.no_grad():  # odd sizes tile too (the middle row/column goes to the top/left regions)
        assert model.eval()(torch.randn(1, 3, 73, 81)).head_logits.shape == (1, 4, 7)


@pytest.mark.parametrize("local_stage", ["shared", "separate"])
def test_patch_variant_has_no_crosstalk_and_the_paper_split_has(local_stage):
    x = torch.randn(2, 3, SIZE, SIZE)
    patch = hidden_region_crosstalk(_model("alfj_patch_resnet18_half", local_stage=local_stage), x)
    off = ~np.eye(4, dtype=bool)
    assert np.all(patch[off] == 0.0), patch  # exact: a head never sees another quadrant
    assert np.all(np.diag(patch) > 1e-4), patch  # but it does see its own
    paper = hidden_region_crosstalk(_model("alfj_resnet18_half", local_stage=local_stage), x)
    assert np.all(paper[off] > 1e-6), paper  # the stage-3 cells see the whole face
    split2 = hidden_region_crosstalk(_model("alfj_split2_resnet18_half", local_stage=local_stage), x)
    assert split2[off].max() > 0  # after stage 2 the cells still reach over the quadrant borders


def test_early_split_shared_map_is_the_mosaic_of_the_regions():
    model = _model("alfj_patch_resnet18_half")
    seen = {}
    model.shared_tap.register_forward_hook(lambda _m, _i, out: seen.setdefault("shared", out))
    with torch.no_grad():
        model(torch.randn(1, 3, SIZE, SIZE))
    h, w = seen["shared"].shape[-2:]
    assert (h, w) == (4, 4)  # each 32 px quadrant gives a 2x2 stage-3 map; four of them side by side
    assert model.region_slices(h, w) == [(slice(0, 2), slice(0, 2)), (slice(0, 2), slice(2, 4)),
                                         (slice(2, 4), slice(0, 2)), (slice(2, 4), slice(2, 4))]


def test_input_regions_declare_the_pixels_each_head_sees():
    patch = _model("alfj_patch_resnet18_half")
    assert patch.input_regions(65, 64) == [(0, 0, 32, 33), (32, 0, 64, 33), (0, 33, 32, 65), (32, 33, 64, 65)]
    split2 = _model("alfj_split2_resnet18_half")  # the stage-2 map (8x8 at 64 px) is split: its quadrants
    assert split2.input_regions(64, 64) == [(0, 0, 32, 32), (32, 0, 64, 32), (0, 32, 32, 64), (32, 32, 64, 64)]
    assert _model("base_resnet18_half").input_regions(64, 64) == []


@pytest.mark.parametrize("name", SMALL)
def test_checkpoint_round_trip(name, tmp_path):
    model = _model(name, **({} if name.startswith("base") else {"local_stage": "separate"}))
    x = torch.randn(2, 3, SIZE, SIZE)
    path = save_checkpoint(model, tmp_path / f"{name}.safetensors")
    back = load_checkpoint(path)
    assert back.config.arch == model.config.arch and back.config.preprocess.input_size == SIZE
    with torch.no_grad():
        assert torch.equal(back(x).head_logits, model(x).head_logits)


@pytest.mark.parametrize("name", ["alfj_patch_resnet18_half", "alfj_split2_resnet18_half"])
def test_grad_cam_maps_for_each_head(name):
    from fer.explain import explain

    rng = np.random.default_rng(0)
    face = rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    expl = explain(_model(name), face)
    assert expl.fused.shape == (SIZE, SIZE) and expl.heads.shape == (4, SIZE, SIZE)
    h = SIZE // 2
    quadrants = [(0, 0, h, h), (h, 0, SIZE, h), (0, h, h, SIZE), (h, h, SIZE, SIZE)]
    assert [tuple(b) for b in expl.region_boxes] == quadrants  # each head's box is its image quadrant
    for k, (x1, y1, x2, y2) in enumerate(quadrants):
        outside = expl.heads[k].copy()
        outside[y1:y2, x1:x2] = 0
        assert not outside.any()  # a head's local map lies in its own quadrant
    shared = explain(_model(name), face, layer="shared")
    assert shared.layer == "shared" and np.isfinite(shared.heads).all()


@pytest.mark.parametrize("name", ["alfj_patch_resnet18_half", "alfj_split2_resnet18_half"])
def test_robustness_sweeps_run(name):
    from fer.robustness import Condition, sweep, sweep_face
    from fer.robustness.sources import synthfer_samples

    samples = synthfer_samples("test", 8, SIZE, seed=0)
    model = _model(name)
    result = sweep([model], samples, [Condition("clean"), Condition("half:top", 1.0)], batch_size=8, progress=False)
    assert {r["occluder"] for r in result.rows} >= {"clean", "half:top"}
    rows, fig = sweep_face(model, samples.crops[0], occluders=["sunglasses"], severities=(1.0,))
    assert len(rows) == 1 + 1 + 4 and all(f"head_{h}" in rows[0] for h in ("top-left", "bottom-right"))
