#!/usr/bin/env python
"""Convert face-api's expression net (npm @vladmandic/face-api) to fer/weights/faceapi_expression.safetensors.

One-off; needs `npm` (registry access) unless --package-dir points at an unpacked package.

    python scripts/convert_faceapi.py                    # fetch with `npm pack`, convert, self-check
    python scripts/convert_faceapi.py --record-reference # also re-record tests/data/faceapi_reference.json
                                                         # with the original runtime (face-api + tfjs, node)

The manifest lists tensors in file order; quantised ones are uint8 with value = q * scale + min
(TensorFlow.js's `decodeWeights`), the rest float32. TF layouts become PyTorch's:
conv [kh, kw, in, out] -> [out, in, kh, kw]; depthwise [kh, kw, C, 1] -> [C, 1, kh, kw];
fc [in, out] -> [out, in]. The fc rows are reordered from face-api's class order to the
project's canonical one (fer.labels).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PACKAGE = "@vladmandic/face-api@1.7.15"
TFJS = "@tensorflow/tfjs@4.22.0"
MODEL = "face_expression_model"
OUT = REPO / "fer" / "weights" / "faceapi_expression.safetensors"
TEST_DATA = REPO / "tests" / "data"
RECORDER = TEST_DATA / "faceapi_reference_recorder.mjs"
REFERENCE = TEST_DATA / "faceapi_reference.json"
INPUTS = ("faceapi_input_face.png", "faceapi_input_noise.png")


def npm_pack(spec: str, dest: Path) -> Path:
    """`npm pack` a package into dest and unpack it; returns the package folder."""
    out = subprocess.run(["npm", "pack", spec, "--pack-destination", str(dest)], check=True, capture_output=True, text=True)
    tgz = dest / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def tfjs_entries(package: Path, model: str):
    """(manifest spec, values as stored) of each tensor of a tfjs weights manifest + .bin, in file order:
    the uint8 codes of a quantised tensor (value = q * scale + min), else the spec's dtype."""
    manifest = json.loads((package / "model" / f"{model}-weights_manifest.json").read_text())
    for group in manifest:
        data = b"".join((package / "model" / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            quant = spec.get("quantization")
            if quant and quant["dtype"] != "uint8":
                raise ValueError(f"unsupported quantisation {quant['dtype']} for {spec['name']}")
            raw = np.frombuffer(data, np.uint8 if quant else np.dtype(spec["dtype"]), count, offset).copy()
            offset += raw.nbytes
            yield spec, raw.reshape(spec["shape"])
        if offset != len(data):
            raise ValueError(f"manifest describes {offset} bytes, the weight files hold {len(data)}")


def read_tfjs_weights(package: Path, model: str = MODEL) -> dict[str, np.ndarray]:
    """Decode a tfjs weights manifest + .bin into float32 arrays (TF layouts), like tf.io.decodeWeights."""
    tensors: dict[str, np.ndarray] = {}
    for spec, raw in tfjs_entries(package, model):
        quant = spec.get("quantization")
        if quant:
            tensors[spec["name"]] = (raw.astype(np.float64) * quant["scale"] + quant["min"]).astype(np.float32)
        elif spec["dtype"] == "float32":
            tensors[spec["name"]] = raw
        else:
            raise ValueError(f"unsupported dtype {spec['dtype']} for {spec['name']}")
    return tensors


def _t(a: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a))


def dense_state(tf: dict[str, np.ndarray]) -> dict:
    """The four dense blocks' tensors (face-api's FaceFeatureExtractor), named as `DenseBlock`s in `dense`."""
    t = _t
    state = {}
    for b in range(4):
        for c in range(4):
            src, dst = f"dense{b}/conv{c}", f"dense.{b}.conv{c}"
            if b == 0 and c == 0:
                state[f"{dst}.weight"] = t(tf[f"{src}/filters"].transpose(3, 2, 0, 1))
                state[f"{dst}.bias"] = t(tf[f"{src}/bias"])
                continue
            state[f"{dst}.depthwise.weight"] = t(tf[f"{src}/depthwise_filter"].transpose(2, 3, 0, 1))
            state[f"{dst}.pointwise.weight"] = t(tf[f"{src}/pointwise_filter"].transpose(3, 2, 0, 1))
            state[f"{dst}.pointwise.bias"] = t(tf[f"{src}/bias"])
    return state


def to_state_dict(tf: dict[str, np.ndarray]) -> dict:
    from fer.labels import CANONICAL_7
    from fer.models.reference import FACEAPI_CLASSES, TO_CANONICAL

    t = _t
    state = dense_state(tf)
    # fc: reorder the outputs so that row i is canonical class i.
    order = [FACEAPI_CLASSES.index(next(s for s in FACEAPI_CLASSES if TO_CANONICAL[s] == c)) for c in CANONICAL_7]
    state["fc.weight"] = t(tf["fc/weights"].T[order])
    state["fc.bias"] = t(tf["fc/bias"][order])
    return state


def convert(package: Path) -> None:
    from fer.models.checkpoint import save_checkpoint
    from fer.models.reference import faceapi_config
    from fer.models.reference_faceapi import FaceApiExpressionNet

    state = to_state_dict(read_tfjs_weights(package))
    model = FaceApiExpressionNet(faceapi_config())
    model.load_state_dict(state, strict=True)  # every tensor used, shapes right
    save_checkpoint(model, OUT, extra_metadata={"source": f"npm {PACKAGE} model/{MODEL}.bin"})
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {sum(v.numel() for v in state.values())} parameters)")


def make_inputs() -> None:
    """The two fixed 112x112 inputs: the astronaut's face (a plain box crop) and seeded noise."""
    from PIL import Image
    from skimage import data

    face = Image.fromarray(data.astronaut()[55:175, 165:285]).resize((112, 112), Image.BILINEAR)
    face.save(TEST_DATA / INPUTS[0])
    noise = np.random.default_rng(7).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    Image.fromarray(noise).save(TEST_DATA / INPUTS[1])


def record_reference(package: Path, env: Path, scratch: Path) -> None:
    """Run face-api's own FaceExpressionNet on tfjs's CPU backend (node, in `env`) over the fixed inputs."""
    from PIL import Image

    raw = []
    for name in INPUTS:
        path = scratch / (Path(name).stem + ".u8")
        np.asarray(Image.open(TEST_DATA / name).convert("RGB"), np.uint8).tofile(path)
        raw.append(str(path))
    run_recorder(package, env, RECORDER, raw, INPUTS, REFERENCE, indent=1)


def run_recorder(package: Path, env: Path, recorder: Path, args: list[str], names, reference: Path,
                 indent: int | None = None) -> None:
    """Run the node script `recorder` (copied into `env`) on the package with `args`, name each record after
    its input in `names`, and write the JSON it prints to `reference`."""
    script = env / recorder.name
    script.write_text(recorder.read_text())
    out = subprocess.run(["node", str(script), str(package), *args], cwd=env, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout[out.stdout.index("{"):])
    for rec, name in zip(result["records"], names):
        rec["input"] = name
    reference.write_text(json.dumps(result, indent=indent) + "\n")
    print(f"wrote {reference}: {result['runtime']}")


def recorded(reference: Path) -> list[dict]:
    """The records of the recorded `reference`; none (with a note) when it is not recorded yet."""
    if not reference.is_file():
        print("no recorded reference yet; run with --record-reference")
        return []
    return json.loads(reference.read_text())["records"]


def node_env(package: Path, scratch: Path) -> Path:
    """A scratch folder with tfjs installed and face-api's ES module loadable by node; returns it."""
    return prepare_node_env(package, scratch / "tfjs")


def prepare_node_env(package: Path, env: Path) -> Path:
    """A node folder with tfjs installed and face-api's unbundled ES module made loadable there
    (`env/face-api.esm-nobundle.mjs`); returns env. Reused when tfjs is already installed in it."""
    env.mkdir(parents=True, exist_ok=True)
    if not (env / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        subprocess.run(["npm", "init", "-y"], cwd=env, check=True, capture_output=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", TFJS], cwd=env, check=True, capture_output=True)
    # face-api's unbundled ES module imports tfjs + the webgl/wasm backends by extensionless ESM paths that
    # node cannot resolve; load tfjs's CommonJS build instead (a loading shim: no maths is changed).
    src = (package / "dist" / "face-api.esm-nobundle.js").read_text()
    imports = (
        'import*as mn from"@tensorflow/tfjs/dist/index.js";'
        'import*as pn from"@tensorflow/tfjs-backend-webgl/dist/index.js";'
        'import*as un from"@tensorflow/tfjs-backend-wasm/dist/index.js";'
    )
    if src.count(imports) != 1 or src.count("w(n,mn);w(n,pn);w(n,un);") != 1:
        raise RuntimeError("face-api's bundle changed shape; update the loading shim")
    src = src.replace(imports, "").replace("w(n,mn);w(n,pn);w(n,un);", "w(n,__tf);")
    src = 'import {createRequire as __cr} from "node:module";var __tf=__cr(import.meta.url)("@tensorflow/tfjs");\n' + src
    (env / "face-api.esm-nobundle.mjs").write_text(src)
    return env


def self_check() -> None:
    """Compare the converted model with the recorded reference (the test does the same)."""
    import torch
    from PIL import Image

    from fer.labels import CANONICAL_7
    from fer.models import create_model
    from fer.models.reference import FACEAPI_CLASSES, TO_CANONICAL

    model = create_model("faceapi_expression")
    order = [CANONICAL_7.index(TO_CANONICAL[c]) for c in FACEAPI_CLASSES]
    for rec in recorded(REFERENCE):
        rgb = np.asarray(Image.open(TEST_DATA / rec["input"]).convert("RGB"), np.float32)
        pp = model.config.preprocess
        x = (torch.from_numpy(rgb).permute(2, 0, 1)[None] / 255.0 - torch.tensor(pp.mean)[:, None, None]) / torch.tensor(pp.std)[:, None, None]
        with torch.no_grad():
            logits = model(x).whole_logits[0, order].numpy()
        print(f"{rec['input']}: max |logit difference| vs original runtime = {np.abs(logits - rec['logits']).max():.2e}")


def converter_main(doc: str, reference: Path, convert, make_inputs, record_reference, self_check) -> None:
    """The command line of the face-api converters: fetch the package (or --package-dir), convert it; with
    --record-reference make the inputs and re-record `reference` in node (tfjs installed in --node-dir, or
    in a scratch folder); then self-check."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--package-dir", type=Path, help="an unpacked @vladmandic/face-api package (skips npm pack)")
    ap.add_argument("--record-reference", action="store_true", help=f"re-record {reference.relative_to(REPO)}")
    ap.add_argument("--node-dir", type=Path, help="a folder to install tfjs into (or where it already is)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        package = args.package_dir or npm_pack(PACKAGE, scratch)
        convert(package)
        if args.record_reference:
            make_inputs()
            record_reference(package, prepare_node_env(package, args.node_dir or scratch / "tfjs"), scratch)
    self_check()


def main() -> None:
    converter_main(__doc__, REFERENCE, convert, make_inputs, record_reference, self_check)


if __name__ == "__main__":
    main()
