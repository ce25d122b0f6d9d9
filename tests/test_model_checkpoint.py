"""Checkpoints: round trip, refusal of bad files, and backbone initialisation from foreign layouts."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
import torch
import torchvision
from safetensors.torch import save_file

from fer.errors import CheckpointError
from fer.models import create_model, load_backbone_weights, load_checkpoint, save_checkpoint
from fer.models.checkpoint import read_checkpoint_config, read_checkpoint_metadata
from fer.models.pretrained import list_pretrained_inits


@pytest.fixture(scope="module")
def trained_like_model():
    """alfj_resnet18 with non-trivial BN statistics (one train-mode pass)."""
    torch.manual_seed(0)
    model = create_model("alfj_resnet18")
    with torch.no_grad():
        model.train()(torch.randn(4, 3, 96, 96))
    model.config.trained = True
    model.config.provenance = "unit test"
    return model.eval()


def test_round_trip_gives_identical_outputs(tmp_path, trained_like_model):
    path = save_checkpoint(trained_like_model, tmp_path / "sub" / "m.safetensors", {"epoch": 3, "note": "hi"})
    assert [p.name for p in path.parent.iterdir()] == ["m.safetensors"]  # no temporary file left
    loaded = load_checkpoint(path)
    assert not loaded.training
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        assert torch.equal(trained_like_model(x).head_logits, loaded(x).head_logits)
    assert loaded.config == trained_like_model.config
    assert read_checkpoint_config(path).provenance == "unit test"
    meta = read_checkpoint_metadata(path)
    assert meta["epoch"] == "3" and meta["note"] == "hi"
    with pytest.raises(CheckpointError, match="holds a 'alfj_resnet18'"):
        load_checkpoint(path, expected_name="alfj_resnet50")


def test_failed_save_keeps_the_previous_file(tmp_path, trained_like_model):
    path = save_checkpoint(trained_like_model, tmp_path / "m.safetensors")
    before = path.read_bytes()
    with pytest.raises(CheckpointError):
        save_checkpoint(trained_like_model, path, {"fer_config": "overwrite"})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_bad_checkpoint_files_raise_checkpoint_error(tmp_path, trained_like_model):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.safetensors")
    good = save_checkpoint(trained_like_model, tmp_path / "good.safetensors").read_bytes()
    for cut in (4, 100, len(good) // 2, len(good) - 1):
        (tmp_path / "cut.safetensors").write_bytes(good[:cut])
        with pytest.raises(CheckpointError):
            load_checkpoint(tmp_path / "cut.safetensors")
    (tmp_path / "text.safetensors").write_text("hello, I am not a checkpoint")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "text.safetensors")
    torch.save(trained_like_model.state_dict(), tmp_path / "m.pth")
    with pytest.raises(CheckpointError, match="load_backbone_weights"):
        load_checkpoint(tmp_path / "m.pth")
    save_file({"w": torch.zeros(2)}, tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match="without an alfj-fer model config"):
        load_checkpoint(tmp_path / "foreign.safetensors")


def test_wrong_architecture_raises(tmp_path, trained_like_model):
    # base_resnet18 tensors under alfj_resnet18's config: another architecture
    other = create_model("base_resnet18")
    tensors = {k: v.contiguous() for k, v in other.state_dict().items()}
    meta = {"fer_format": "alfj-fer/1", "fer_config": trained_like_model.config.to_json()}
    save_file(tensors, tmp_path / "wrong.safetensors", metadata=meta)
    with pytest.raises(CheckpointError, match="does not match the architecture"):
        load_checkpoint(tmp_path / "wrong.safetensors")
    # right names, wrong shapes: an 8-class head under a 7-class config
    eight = create_model("alfj_resnet18", num_classes=8)
    tensors = {k: v.contiguous() for k, v in eight.state_dict().items()}
    save_file(tensors, tmp_path / "classes.safetensors", metadata=meta)
    with pytest.raises(CheckpointError, match="other shapes"):
        load_checkpoint(tmp_path / "classes.safetensors")


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("suffix", [".pkl", ".pth", ".safetensors"])
def test_code_executing_pickle_is_refused_and_does_not_run(tmp_path, suffix):
    marker = tmp_path / "pwned"
    evil = tmp_path / f"evil{suffix}"
    payload = {"conv1.weight": np.zeros((64, 3, 7, 7), np.float32), "x": _Exploit(str(marker))}
    evil.write_bytes(pickle.dumps(payload, protocol=2))
    model = create_model("base_resnet18")
    with pytest.raises(CheckpointError):
        load_backbone_weights(model, evil, verbose=False)
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
    assert not marker.exists()


def _torchvision_state(arch, num_classes):
    torch.manual_seed(3)
    return getattr(torchvision.models, arch)(num_classes=num_classes).state_dict()


def test_torchvision_msceleb_layout_with_wrapper_and_module_prefix(tmp_path):
    state = _torchvision_state("resnet18", 12666)  # any fc size
    path = tmp_path / "resnet18_msceleb.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 40}, path)
    model = create_model("alfj_resnet18", local_stage="separate")
    report = load_backbone_weights(model, path, verbose=False)
    assert report.layout == "torchvision"
    assert set(report.skipped) == {"fc.weight", "fc.bias"}
    assert report.missing == []
    n_l4 = sum(k.startswith("layer4.") for k in state)
    n_trunk = sum(k.split(".")[0] in ("conv1", "bn1", "layer1", "layer2", "layer3") for k in state)
    assert len(report.loaded) == n_trunk + 4 * n_l4
    assert all(k.startswith(("eca.", "region_attention.", "heads.")) for k in report.new_modules)
    assert torch.equal(model.trunk.layer2[0].conv1.weight, state["layer2.0.conv1.weight"])
    for stage in model.local_stages:  # every per-region copy of stage 4
        assert torch.equal(stage[1].conv2.weight, state["layer4.1.conv2.weight"])
        assert torch.equal(stage[0].bn1.running_var, state["layer4.0.bn1.running_var"])
    assert "resnet18_msceleb.pth" in model.config.provenance and model.config.trained is False
    # the initialised model survives a checkpoint round trip
    again = load_checkpoint(save_checkpoint(model, tmp_path / "init.safetensors"))
    assert torch.equal(again.local_stages[2][0].conv1.weight, state["layer4.0.conv1.weight"])


def test_bare_safetensors_state_dict_into_shared_stage(tmp_path):
    state = _torchvision_state("resnet18", 1000)
    save_file({k: v.contiguous() for k, v in state.items()}, tmp_path / "r18.safetensors")
    model = create_model("ablation_split_resnet18", local_stage="shared")
    report = load_backbone_weights(model, tmp_path / "r18.safetensors", verbose=False)
    assert report.missing == [] and len(report.loaded) == len(state) - 2
    assert torch.equal(model.local_stages[0][0].conv1.weight, state["layer4.0.conv1.weight"])


def test_shape_mismatch_is_reported_as_skipped():
    state = _torchvision_state("resnet18", 1000)
    state["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    model = create_model("base_resnet18")
    report = load_backbone_weights(model, state, verbose=False)
    assert "shape" in report.skipped["layer1.0.conv1.weight"]
    assert report.missing == ["trunk.layer1.0.conv1.weight"]
    assert "skipped: 3 source tensors" in str(report)


def _caffe_reference(state, x_bgr_minus_mean):
    """An independent Caffe-layout ResNet-50 (stride on 1x1, max pool pad 0 ceil) on BGR input."""
    net = torchvision.models.resnet50(num_classes=8631)
    net.load_state_dict(state, strict=False)
    net.maxpool = torch.nn.MaxPool2d(3, 2, 0, ceil_mode=True)
    for layer in (net.layer2, net.layer3, net.layer4):
        layer[0].conv1.stride, layer[0].conv2.stride = (2, 2), (1, 1)
    net.fc = torch.nn.Identity()
    return net.eval()(x_bgr_minus_mean)


def test_vggface2_numpy_pickle_layout(tmp_path):
    state = _torchvision_state("resnet50", 8631)
    arrays = {k: v.numpy() for k, v in state.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "resnet50_ft_weight.pkl"
    path.write_bytes(pickle.dumps(arrays, protocol=2))
    model = create_model("base_resnet50", dropout=0.0)
    report = load_backbone_weights(model, path, verbose=False)
    assert report.layout == "vggface2"
    assert set(report.skipped) == {"fc.weight", "fc.bias"} and report.missing == []
    assert model.config.arch["caffe_resnet"] is True
    assert model.trunk.maxpool.ceil_mode and model.trunk.maxpool.padding == 0
    assert model.local_stages[0][0].conv1.stride == (2, 2) and model.local_stages[0][0].conv2.stride == (1, 1)
    # RGB input with the new preprocessing equals the Caffe network on BGR 0..255 minus its mean
    pp = model.config.preprocess
    rgb = torch.rand(1, 3, 64, 64)
    x = (rgb - torch.tensor(pp.mean)[:, None, None]) / torch.tensor(pp.std)[:, None, None]
    bgr = rgb.flip(1) * 255 - torch.tensor([91.4953, 103.8827, 131.0912])[:, None, None]
    model.eval()
    with torch.no_grad():
        feats = []
        handle = model.shared_tap.register_forward_hook(lambda m, i, o: feats.append(o.mean(dim=(2, 3))))
        model(x)
        handle.remove()
        assert torch.allclose(feats[0], _caffe_reference(state, bgr), rtol=1e-3, atol=1e-3)
    # the Caffe layout and preprocessing survive a checkpoint round trip
    again = load_checkpoint(save_checkpoint(model, tmp_path / "vgg.safetensors"))
    assert again.trunk.maxpool.ceil_mode and again.config.preprocess == pp
    with torch.no_grad():
        assert torch.equal(again(x).head_logits, model(x).head_logits)


def _evolve_ir50_state():
    """face.evoLVe IR-50 key names and shapes, written out from its published layout."""
    torch.manual_seed(4)
    state = {}

    def bn(prefix, n):
        state[f"{prefix}.weight"] = torch.rand(n) + 0.5
        state[f"{prefix}.bias"] = torch.randn(n) * 0.1
        state[f"{prefix}.running_mean"] = torch.randn(n) * 0.1
        state[f"{prefix}.running_var"] = torch.rand(n) + 0.5
        state[f"{prefix}.num_batches_tracked"] = torch.tensor(7)

    state["input_layer.0.weight"] = torch.randn(64, 3, 3, 3) * 0.1
    bn("input_layer.1", 64)
    state["input_layer.2.weight"] = torch.full((64,), 0.25)
    i, in_ch = 0, 64
    for depth, units in ((64, 3), (128, 4), (256, 14), (512, 3)):
        for u in range(units):
            p = f"body.{i}"
            cin = in_ch if u == 0 else depth
            if cin != depth:
                state[f"{p}.shortcut_layer.0.weight"] = torch.randn(depth, cin, 1, 1) * 0.05
                bn(f"{p}.shortcut_layer.1", depth)
            bn(f"{p}.res_layer.0", cin)
            state[f"{p}.res_layer.1.weight"] = torch.randn(depth, cin, 3, 3) * 0.02
            state[f"{p}.res_layer.2.weight"] = torch.full((depth,), 0.25)
            state[f"{p}.res_layer.3.weight"] = torch.randn(depth, depth, 3, 3) * 0.02
            bn(f"{p}.res_layer.4", depth)
            i += 1
        in_ch = depth
    bn("output_layer.0", 512)
    state["output_layer.3.weight"] = torch.zeros(512, 8)  # real: 512 x (512*7*7); size is irrelevant here
    state["output_layer.3.bias"] = torch.zeros(512)
    bn("output_layer.4", 512)
    return state


def test_evolve_ir50_layout(tmp_path):
    state = _evolve_ir50_state()
    path = tmp_path / "backbone_ir50_ms1m_epoch120.pth"
    torch.save(state, path)
    model = create_model("alfj_ir50", local_stage="separate")
    report = load_backbone_weights(model, path, verbose=False)
    assert report.layout == "ir50"
    assert set(report.skipped) == {k for k in state if k.startswith("output_layer.")}
    assert report.missing == []
    n_local = sum(k.startswith(("body.21.", "body.22.", "body.23.")) for k in state)
    n_out = len(report.skipped)
    assert len(report.loaded) == len(state) - n_out - n_local + 4 * n_local
    assert torch.equal(model.trunk.body[20].res_layer[3].weight, state["body.20.res_layer.3.weight"])
    for stage in model.local_stages:
        assert torch.equal(stage[0].shortcut_layer[0].weight, state["body.21.shortcut_layer.0.weight"])
        assert torch.equal(stage[2].res_layer[2].weight, state["body.23.res_layer.2.weight"])
    with pytest.raises(CheckpointError, match="does not fit"):
        load_backbone_weights(create_model("alfj_resnet18"), path, verbose=False)


def test_create_model_with_local_backbone_weights(tmp_path, capsys, caplog):
    path = tmp_path / "resnet18_msceleb.pth"
    torch.save({"state_dict": _torchvision_state("resnet18", 1000)}, path)
    with caplog.at_level(logging.INFO, logger="fer.models.pretrained"):
        model = create_model("base_resnet18", backbone_weights=str(path))
    assert "loaded:" in caplog.text  # the load report goes through logging ...
    assert capsys.readouterr().out == ""  # ... never print
    assert "backbone initialised from resnet18_msceleb.pth" in model.config.provenance
    with pytest.raises(CheckpointError, match="not found"):
        create_model("base_resnet18", backbone_weights=str(tmp_path / "nope.pth"))
    model = create_model("base_resnet18", pretrained=path)  # alias; a local path only
    assert "resnet18_msceleb.pth" in model.config.provenance
    assert "backbone_weights" not in model.config.arch and "pretrained" not in model.config.arch
    with pytest.raises(ValueError, match="local"):
        create_model("base_resnet18", pretrained=True)


def test_list_pretrained_inits_finds_local_files(tmp_path):
    (tmp_path / "resnet18_msceleb.pth").write_bytes(b"")
    rows = {r["name"]: r for r in list_pretrained_inits([tmp_path])}
    assert {"resnet18_msceleb", "vggface2_resnet50_ft", "ir50_ms1m"} <= set(rows)
    assert rows["resnet18_msceleb"]["files"] == [str(tmp_path / "resnet18_msceleb.pth")]
    assert rows["vggface2_resnet50_ft"]["files"] == [] and rows["vggface2_resnet50_ft"]["layout"] == "vggface2"


def test_every_registered_model_config_passes_the_metadata_schema():
    """The schema refuses bad metadata, never a config the project itself writes."""
    from fer.models import list_models
    from fer.models.config_schema import config_from_json

    for name in list_models():
        config = create_model(name).config
        assert config_from_json(config.to_json()) == config, name


@pytest.mark.parametrize("text, field", [
    ('{"name": "base_resnet18", "trained": "yes"}', "trained"),
    ('{"name": "base_resnet18", "preprocess": {"face_scale": "1"}}', "preprocess.face_scale"),
    ('{"name": "base_resnet18", "preprocess": {"std": [1, 0, 1]}}', "preprocess.std[1]"),
    ('{"name": "base_resnet18", "num_classes": 3, "class_names": ["a", "b"]}', "class_names"),
    ('{"name": "base_resnet18", "arch": {"stem_path": "x"}}', "arch.stem_path"),
    ('{"name": "base_resnet18", "extra": 1}', "extra"),
    ("[]", "config"),
])
def test_metadata_schema_names_the_field(text, field):
    from fer.models.config_schema import config_from_json

    with pytest.raises(CheckpointError, match=field.replace("[", r"\[").replace("]", r"\]")):
        config_from_json(text)
