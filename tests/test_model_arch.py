"""ALFJ-Net architecture: shapes, fusion, region independence, attention definitions, gradients, loss."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fer.models import ModelOutput, create_model, joint_loss, list_models, model_entry
from fer.models.alfj import split_regions
from fer.models.attention import CBAM, ECA, eca_kernel_size
from fer.models.loss import fused_log_probs
from fer.regions import split_bounds

MY_FAMILIES = ("alfj", "base", "ablation")
MY_MODELS = [n for fam in MY_FAMILIES for n in list_models(fam)]


def test_registry_has_the_required_names():
    for name in ("alfj_resnet50", "alfj_resnet18", "alfj_ir50", "base_resnet50", "base_resnet18"):
        assert name in MY_MODELS
    assert {"ablation_eca_resnet50", "ablation_split_resnet50", "ablation_split_cbam_resnet50"} <= set(MY_MODELS)
    assert model_entry("base_resnet18").family == "base"


@pytest.mark.parametrize("name", MY_MODELS)
def test_output_shapes_at_112_and_224(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=8).eval()
    heads = 4 if model.config.arch["split"] else 1
    assert len(model.region_taps) == (4 if heads == 4 else 0)
    assert model.config.name == name and model.config.trained is False
    assert model.config.preprocess.input_size == (112 if "ir50" in name else 224)
    with torch.no_grad():
        for size in (112, 224):
            out = model(torch.randn(1, 3, size, size))
            assert isinstance(out, ModelOutput)
            assert out.head_logits.shape == (1, heads, 8)
            assert out.probs.shape == (1, 8)
            assert torch.allclose(out.probs.sum(1), torch.ones(1), atol=1e-5)


def test_fusion_is_the_mean_of_head_softmaxes():
    torch.manual_seed(0)
    model = create_model("alfj_resnet18").eval()
    with torch.no_grad():
        out = model(torch.randn(3, 3, 112, 112))
    manual = sum(F.softmax(out.head_logits[:, k], dim=-1) for k in range(4)) / 4
    assert torch.allclose(out.probs, manual, atol=1e-6)
    assert torch.allclose(fused_log_probs(out.head_logits).exp(), manual, atol=1e-6)
    assert torch.equal(out.probs.argmax(1), manual.argmax(1))


def test_split_bounds_rules():
    assert split_bounds(14) == (slice(0, 7), slice(7, 14))
    assert split_bounds(7) == (slice(0, 4), slice(4, 7))  # middle row to the top/left region
    assert split_bounds(7, "overlap") == (slice(0, 4), slice(3, 7))
    f = torch.arange(49.0).reshape(1, 1, 7, 7)
    tl, tr, bl, br = split_regions(f)
    assert [r.shape[-2:] for r in (tl, tr, bl, br)] == [(4, 4), (4, 3), (3, 4), (3, 3)]
    assert sum(r.numel() for r in (tl, tr, bl, br)) == 49  # non-overlapping, covers everything
    assert tl[0, 0, 0, 0] == 0 and br[0, 0, -1, -1] == 48 and tr[0, 0, 0, 0] == 4 and bl[0, 0, 0, 0] == 28
    with pytest.raises(ValueError):
        split_bounds(1)
    model = create_model("alfj_resnet18", odd_split="overlap")
    assert model.region_slices(7, 7) == [
        (slice(0, 4), slice(0, 4)), (slice(0, 4), slice(3, 7)), (slice(3, 7), slice(0, 4)), (slice(3, 7), slice(3, 7))
    ]
    assert create_model("alfj_resnet18").region_slices(14, 14)[1] == (slice(0, 7), slice(7, 14))
    assert create_model("base_resnet18").region_slices(7, 7) == []


def _perturb_region(model, x, region, size):
    """Add noise to one region of the enhanced map (via a shared_tap hook); return head logits."""
    rows = cols = split_bounds(size)
    r, c = rows[region // 2], cols[region % 2]  # order TL, TR, BL, BR

    def hook(_module, _inp, out):
        delta = torch.zeros_like(out)
        delta[:, :, r, c] = torch.randn_like(delta[:, :, r, c]) * 3
        return out + delta

    handle = model.shared_tap.register_forward_hook(hook)
    try:
        with torch.no_grad():
            return model(x).head_logits
    finally:
        handle.remove()


@pytest.mark.parametrize("local_stage,size", [("separate", 112), ("shared", 128)])
def test_region_perturbation_changes_only_its_head(local_stage, size):
    torch.manual_seed(0)
    model = create_model("alfj_resnet18", local_stage=local_stage, dropout=0.0).eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        base = model(x).head_logits
    grid = size // 16  # 7 (odd: unequal regions) or 8 (equal regions, batched shared stage)
    for region in range(4):
        logits = _perturb_region(model, x, region, grid)
        for k in range(4):
            changed = not torch.allclose(logits[:, k], base[:, k], atol=1e-6)
            assert changed == (k == region), (region, k)


def test_eca_matches_definition():
    assert [eca_kernel_size(c) for c in (64, 256, 512, 1024, 2048)] == [3, 5, 5, 5, 7]
    torch.manual_seed(1)
    eca = ECA(1024)
    assert eca.kernel_size == 5
    with torch.no_grad():
        eca.conv.weight.normal_()
    x = torch.randn(2, 1024, 5, 6)
    w = eca.conv.weight.detach().flatten().tolist()
    k = len(w)
    y = x.mean(dim=(2, 3))  # (B, C)
    pad = torch.cat([torch.zeros(2, (k - 1) // 2), y, torch.zeros(2, (k - 1) // 2)], dim=1)
    z = torch.stack([sum(w[j] * pad[:, c + j] for j in range(k)) for c in range(1024)], dim=1)
    expected = x * (1 / (1 + torch.exp(-z)))[:, :, None, None]
    assert torch.allclose(eca(x), expected, atol=1e-5)
    assert ECA(256, kernel_size=3).kernel_size == 3
    with pytest.raises(ValueError):
        ECA(256, kernel_size=4)


def test_cbam_matches_definition():
    torch.manual_seed(2)
    c, r = 64, 16
    cbam = CBAM(c, reduction=r).eval()
    with torch.no_grad():
        for p in cbam.parameters():
            p.normal_(0, 0.3)
        cbam.spatial.bn.running_mean.fill_(0.2)
        cbam.spatial.bn.running_var.fill_(1.7)
    x = torch.randn(2, c, 6, 5)
    lin1, lin2 = cbam.channel.mlp[0], cbam.channel.mlp[2]
    w1, b1, w2, b2 = lin1.weight, lin1.bias, lin2.weight, lin2.bias
    assert w1.shape == (c // r, c)

    def mlp(v):
        return torch.relu(v @ w1.T + b1) @ w2.T + b2

    avg = x.sum(dim=(2, 3)) / 30
    mx = x.flatten(2).max(dim=2).values
    x1 = x * torch.sigmoid(mlp(avg) + mlp(mx))[:, :, None, None]
    desc = torch.stack([x1.max(dim=1).values, x1.sum(dim=1) / c], dim=1)  # [max, mean]
    conv = F.conv2d(desc, cbam.spatial.conv.weight, padding=3)
    bn = cbam.spatial.bn
    normed = (conv - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    expected = x1 * torch.sigmoid(normed)
    with torch.no_grad():
        assert torch.allclose(cbam(x), expected, atol=1e-5)


@pytest.mark.parametrize("name,options", [("alfj_resnet18", {}), ("alfj_resnet18", {"local_stage": "shared"})])
def test_every_parameter_gets_a_gradient_from_the_joint_loss(name, options):
    torch.manual_seed(0)
    model = create_model(name, **options).train()
    x = torch.randn(4, 3, 96, 96)
    loss = joint_loss(model(x), torch.tensor([0, 1, 2, 3]), fused_weight=0.5)
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


def test_joint_loss_terms():
    torch.manual_seed(0)
    logits = torch.randn(5, 4, 7)
    y = torch.tensor([0, 3, 6, 2, 2])
    per_head = [F.cross_entropy(logits[:, k], y) for k in range(4)]
    assert torch.allclose(joint_loss(ModelOutput(logits), y), sum(per_head), atol=1e-6)
    w = [0.1, 0.2, 0.3, 0.4]
    assert torch.allclose(joint_loss(logits, y, head_weights=w), sum(a * b for a, b in zip(w, per_head)), atol=1e-6)
    fused = -torch.log(F.softmax(logits, -1).mean(1)[torch.arange(5), y]).mean()
    total, terms = joint_loss(logits, y, fused_weight=0.7, return_terms=True)
    assert torch.allclose(total, sum(per_head) + 0.7 * fused, atol=1e-5)
    assert set(terms) == {"head0", "head1", "head2", "head3", "fused"}
    # soft one-hot targets equal hard targets; label smoothing as torch defines it
    assert torch.allclose(joint_loss(logits, F.one_hot(y, 7).float()), sum(per_head), atol=1e-6)
    smooth = sum(F.cross_entropy(logits[:, k], y, label_smoothing=0.1) for k in range(4))
    assert torch.allclose(joint_loss(logits, y, label_smoothing=0.1), smooth, atol=1e-5)
    soft = F.softmax(torch.randn(5, 7), -1)
    soft_ref = sum(F.cross_entropy(logits[:, k], soft) for k in range(4))
    assert torch.allclose(joint_loss(logits, soft), soft_ref, atol=1e-5)
    with pytest.raises(ValueError):
        joint_loss(logits, y, head_weights=[1.0, 1.0])
    with pytest.raises(ValueError):
        joint_loss(logits, torch.zeros(5, 3))


def test_options_are_recorded_and_validated():
    model = create_model("alfj_resnet18", eca_kernel=3, cbam_reduction=8, local_stage="shared")
    assert model.config.arch["eca_kernel"] == 3 and model.eca.kernel_size == 3
    assert len(model.local_stages) == 1
    assert model.region_attention[0].channel.mlp[0].out_features == 512 // 8
    assert len(create_model("alfj_resnet18").local_stages) == 1  # shared stage 4 by default
    assert len(create_model("alfj_resnet18", local_stage="separate").local_stages) == 4
    with pytest.raises(TypeError, match="unknown option"):
        create_model("alfj_resnet18", not_an_option=1)
    with pytest.raises(ValueError):
        create_model("alfj_resnet18", odd_split="middle")


def test_channels_last_gives_the_same_output():
    torch.manual_seed(0)
    model = create_model("alfj_resnet18").eval()
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        ref = model(x).head_logits
        model_cl = model.to(memory_format=torch.channels_last)
        out = model_cl(x.to(memory_format=torch.channels_last)).head_logits
    assert torch.allclose(ref, out, atol=1e-4)
    assert math.isfinite(out.sum().item())
