"""Every bad input of tests/bad_inputs.py through the Python API, the CLI and the running app.

Rules checked: an error is a `fer.errors` exception with a plain message (CLI: exit code 2,
`error: ...` on stderr, no traceback; app: an error message, not a stack trace, and the server
keeps answering); valid-but-odd inputs succeed; nothing is written outside the output folder
(the current directory and HOME are empty temporary folders, the corpus folder is unchanged);
the malicious pickles never run (their side-effect file never appears).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bad_inputs import Item, make_corpus, sentinel_path

from fer.errors import CheckpointError, FERError, InputError, ModelNotFoundError

REPO = Path(__file__).resolve().parents[1]
REFERENCE_MODEL = "faceapi_expression"
APP_REFERENCE = "faceapi_expression (pretrained reference)"
GRADIO_GENERIC = "upstream Gradio app has raised an exception"
GOOD_CHECKPOINT = "good_control_checkpoint"

_CORPUS_DIR: Path | None = None


def _items() -> list[Item]:
    """The corpus, generated once per session into a temporary folder."""
    global _CORPUS_DIR
    if _CORPUS_DIR is None:
        import atexit
        import shutil
        import tempfile

        _CORPUS_DIR = Path(tempfile.mkdtemp(prefix="fer-bad-inputs-"))
        atexit.register(shutil.rmtree, _CORPUS_DIR, True)
        _ITEMS.extend(make_corpus(_CORPUS_DIR / "corpus"))
    return _ITEMS


_ITEMS: list[Item] = []
ITEMS = _items()
IMAGES = [i for i in ITEMS if i.kind == "image"]
CHECKPOINTS = [i for i in ITEMS if i.kind == "checkpoint"]
NAMES = [i for i in ITEMS if i.kind == "model_name"]
OCCLUDERS = [i for i in ITEMS if i.kind == "occluder"]
CONTROL = next(i for i in IMAGES if i.name == "astronaut.png").path


def _ids(items):
    return [i.name for i in items]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def corpus_snapshot():
    before = _snapshot(CONTROL.parent)
    assert len(ITEMS) >= 25
    yield
    assert _snapshot(CONTROL.parent) == before, "something wrote into (or removed from) the corpus folder"
    assert not sentinel_path(CONTROL.parent).exists(), "a malicious pickle was unpickled"


@pytest.fixture
def sandbox(tmp_path, monkeypatch, corpus_snapshot):
    """Empty cwd and HOME; an `out` folder is the only place allowed to receive files."""
    cwd, home, out = tmp_path / "cwd", tmp_path / "home", tmp_path / "out"
    for d in (cwd, home, out):
        d.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    yield out
    assert not list(cwd.iterdir()), f"written into the current directory: {list(cwd.iterdir())}"
    assert not list(home.iterdir()), f"written into HOME: {list(home.iterdir())}"
    assert not sentinel_path(CONTROL.parent).exists(), "a malicious pickle was unpickled"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def control_face():
    from fer.face import detect
    from fer.io import load_image

    photo = load_image(CONTROL)
    return photo, detect(photo, max_faces=1)[0]


@pytest.fixture(scope="module")
def predictor():
    from fer import Predictor

    return Predictor(REFERENCE_MODEL)


# ----------------------------------------------------------------------------------- Python API


@pytest.mark.parametrize("item", IMAGES, ids=_ids(IMAGES))
def test_api_images(item, predictor, sandbox):
    from fer.io import load_image

    if item.expect == "error":
        with pytest.raises(InputError) as info:
            load_image(item.path)
        assert str(info.value) and "Traceback" not in str(info.value)
        with pytest.raises(InputError):
            predictor(item.path)
        return
    try:
        faces = predictor(item.path)
    except FERError as exc:
        assert item.expect == "any", f"{item.name} is valid and must succeed, got: {exc}"
        assert str(exc)
        return
    if item.expect == "ok":
        assert len(faces) >= item.min_faces, f"{item.name}: {len(faces)} faces"
        assert all(abs(sum(p.probs.values()) - 1) < 1e-3 for p in faces)


def test_api_exif_rotation_is_applied(predictor, sandbox):
    """The sideways-stored photo predicts like the upright one (its face is found upright)."""
    by_name = {i.name: i for i in IMAGES}
    upright, rotated = predictor(by_name["rgba_opaque.png"].path), predictor(by_name["exif_rotated.jpg"].path)
    assert len(upright) == len(rotated) == 1
    assert abs(upright[0].box - rotated[0].box).max() < 12  # same place: the rotation was undone
    assert upright[0].label == rotated[0].label


@pytest.mark.parametrize("item", CHECKPOINTS, ids=_ids(CHECKPOINTS))
def test_api_checkpoints(item, sandbox):
    from fer import Predictor
    from fer.models.checkpoint import load_checkpoint

    with pytest.raises(CheckpointError) as info:
        load_checkpoint(item.path)
    assert "Traceback" not in str(info.value) and str(info.value)
    with pytest.raises(FERError):
        Predictor(str(item.path))


@pytest.mark.parametrize("item", NAMES, ids=_ids(NAMES))
def test_api_model_names(item, sandbox):
    from fer import Predictor
    from fer.models import create_model

    with pytest.raises(ModelNotFoundError):
        Predictor(item.value)
    if item.value:
        with pytest.raises(ModelNotFoundError) as info:
            create_model(item.value)
        assert "registered models" in str(info.value)


@pytest.mark.parametrize("item", OCCLUDERS, ids=_ids(OCCLUDERS))
def test_api_occluder_params(item, control_face, sandbox):
    from fer import occlusion
    from fer.robustness import Condition
    from fer.robustness.occlude import check_condition

    kind, severity = item.value.split(":")
    photo, face = control_face
    with pytest.raises(InputError):
        occlusion.apply(photo, face, kind, float(severity))
    with pytest.raises(InputError):
        check_condition(Condition(kind, float(severity)))


# ------------------------------------------------------------------------------------------ CLI


def _cli(argv, capsys) -> tuple[int, str, str]:
    from fer.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _check_cli(code, err, expect, what):
    assert "Traceback" not in err, f"{what}: traceback on stderr:\n{err}"
    if expect == "error":
        assert code == 2, f"{what}: exit code {code}, stderr {err!r}"
        assert err.startswith("error: ") and len(err.strip()) > len("error: ")
    elif expect == "ok":
        assert code == 0, f"{what}: exit code {code}, stderr {err!r}"
    else:
        assert code in (0, 2), f"{what}: exit code {code}"


@pytest.mark.parametrize("item", IMAGES, ids=_ids(IMAGES))
def test_cli_images(item, sandbox, capsys):
    code, out, err = _cli(["predict", item.path, "--json"], capsys)
    _check_cli(code, err, item.expect, "predict")
    code, out, err = _cli(["detect", item.path], capsys)
    _check_cli(code, err, item.expect, "detect")
    code, out, err = _cli(["occlude", item.path, "--kind", "surgical_mask", "--out", sandbox / "occluded.png"], capsys)
    _check_cli(code, err, item.expect, "occlude")
    if code != 0:
        assert not list(sandbox.iterdir()), "a failed command left a file behind"


@pytest.mark.parametrize("item", CHECKPOINTS, ids=_ids(CHECKPOINTS))
def test_cli_checkpoints(item, sandbox, capsys):
    code, out, err = _cli(["predict", "--checkpoint", item.path, CONTROL], capsys)
    _check_cli(code, err, "error", "predict --checkpoint")
    code, out, err = _cli(["evaluate", "--checkpoint", item.path, "--data", "synthfer", "--option", "test_size=7",
                           "--out", sandbox / "eval"], capsys)
    _check_cli(code, err, "error", "evaluate --checkpoint")


@pytest.mark.parametrize("item", NAMES, ids=_ids(NAMES))
def test_cli_model_names(item, sandbox, capsys):
    code, out, err = _cli(["predict", "--model", item.value, CONTROL], capsys)
    _check_cli(code, err, "error", "predict --model")  # an empty name is refused too, not defaulted
    code, out, err = _cli(["robustness", "--model", item.value, "--data", "synthfer", "--limit", "2",
                           "--out", sandbox / "rob"], capsys)
    _check_cli(code, err, "error", "robustness --model")


@pytest.mark.parametrize("item", OCCLUDERS, ids=_ids(OCCLUDERS))
def test_cli_occluder_params(item, sandbox, capsys):
    kind, severity = item.value.split(":")
    code, out, err = _cli(["occlude", item.path, "--kind", kind, "--severity", severity, "--out", sandbox / "o.png"], capsys)
    _check_cli(code, err, "error", "occlude")
    code, out, err = _cli(["robustness", "--model", REFERENCE_MODEL, "--data", "synthfer", "--limit", "2",
                           "--occluders", kind, "--severities", severity, "--out", sandbox / "rob"], capsys)
    _check_cli(code, err, "error", "robustness")
    assert not list(sandbox.iterdir())


@pytest.mark.parametrize("argv", [
    ["predict", "{corpus}/corrupt.jpg"],
    ["predict", "--checkpoint", "{corpus}/malicious.pth", "{corpus}/astronaut.png"],
], ids=["corrupt-image", "malicious-pth"])
def test_cli_subprocess_exit_code_and_no_stray_files(argv, sandbox):
    """The real entry point (`python -m fer`) in a fresh process with an empty cwd and HOME."""
    argv = [a.format(corpus=CONTROL.parent, out=sandbox) for a in argv]
    env = dict(os.environ, HOME=os.environ["HOME"], PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "fer", *argv], cwd=os.getcwd(), env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert not sentinel_path(CONTROL.parent).exists()


# ------------------------------------------------------------------------------------------ app


@pytest.fixture(scope="module")
def app(corpus_snapshot):
    """One app for the module, started with a folder of bad checkpoints as its --weights."""
    from app_server import running_app

    from fer.models import create_model
    from fer.models.checkpoint import save_checkpoint

    bad_weights = CONTROL.parent.parent / "weights"
    bad_weights.mkdir(exist_ok=True)
    for item in CHECKPOINTS:
        if item.path.exists() and item.path.suffix == ".safetensors":
            (bad_weights / item.path.name).write_bytes(item.path.read_bytes())
    save_checkpoint(create_model("mini_xception_fer2013"), bad_weights / f"{GOOD_CHECKPOINT}.safetensors")
    with running_app(args=["--weights", str(bad_weights)]) as server:
        yield server
    assert not sentinel_path(CONTROL.parent).exists()
    assert not sentinel_path(bad_weights).exists()


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app.url, verbose=False)


def _app_call(client, *args, api_name):
    try:
        return client.predict(*args, api_name=api_name), None
    except Exception as exc:  # gradio_client raises AppError with the server's message
        return None, str(exc)


def test_app_survives_bad_checkpoints_in_weights(app, client):
    """The bad checkpoints were skipped with a log line; none of them is offered; nothing unpickled."""
    info = client.view_api(return_format="dict", print_info=False)
    text = str(info)
    assert GOOD_CHECKPOINT in text  # the model choices are listed: a good checkpoint beside the bad ones is offered
    for item in CHECKPOINTS:
        assert item.path.stem not in text
    result, error = _app_call(client, APP_REFERENCE, api_name="/model_info")
    assert error is None and "Provenance" in result


@pytest.mark.parametrize("item", IMAGES, ids=_ids(IMAGES))
def test_app_images(item, app, client):
    from gradio_client import handle_file

    result, error = _app_call(client, handle_file(str(item.path)), APP_REFERENCE, api_name="/predict")
    if error is not None:
        assert "Traceback" not in error and 'File "' not in error, error
        assert item.expect != "ok", f"{item.name} is valid and must succeed; the app said: {error}"
        assert GRADIO_GENERIC not in error, f"{item.name}: no clear message, only Gradio's generic one"
    else:
        assert item.expect != "error", f"{item.name} must be refused, got {result}"
        assert result[0]["label"]
    assert app.alive() and app.answers()


EDITOR_CASES = [pytest.param(i, id=i.name) for i in IMAGES]


@pytest.mark.parametrize("item", EDITOR_CASES)
def test_app_editor_images(item, app, client):
    """The same files uploaded into the photo editor of the "Analyse a face" tab."""
    from gradio_client import handle_file

    editor = {"background": handle_file(str(item.path)), "layers": [], "composite": None}
    result, error = _app_call(client, editor, APP_REFERENCE, "none", None, 0.5, 0, "as drawn", None, api_name="/analyse")
    if error is not None:
        assert "Traceback" not in error and 'File "' not in error, error
        assert item.expect != "ok", f"{item.name} is valid and must succeed; the app said: {error}"
        assert GRADIO_GENERIC not in error, f"{item.name}: no clear message, only Gradio's generic one"
    else:
        assert item.expect != "error", f"{item.name} must be refused"
    assert app.alive() and app.answers()


@pytest.mark.parametrize("item", NAMES + OCCLUDERS, ids=_ids(NAMES + OCCLUDERS))
def test_app_model_names_and_occluder_params(item, app, client):
    from gradio_client import handle_file

    editor = {"background": handle_file(str(CONTROL)), "layers": [], "composite": None}
    if item.kind == "model_name":
        args = (editor, item.value, "none", None, 0.5, 0, "as drawn", None)
    else:
        kind, severity = item.value.split(":")
        args = (editor, APP_REFERENCE, kind, None, float(severity), 0, "as drawn", None)
    result, error = _app_call(client, *args, api_name="/analyse")
    assert error is not None, f"{item.name}: the app accepted it"
    assert "Traceback" not in error and GRADIO_GENERIC not in error, error


def test_app_still_answers_after_everything(app, client):
    from gradio_client import handle_file

    label, details = client.predict(handle_file(str(CONTROL)), APP_REFERENCE, api_name="/predict")
    assert label["label"] == "happiness" and details["faces"] == 1
