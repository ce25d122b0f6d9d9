#!/usr/bin/env bash
# The GPU check (scripts/gpu_check.py) as the device machine runs it, or its preparation here.
#
#   bash scripts/gpu_check.sh --fetch-wheels   # here, online: the wheels the device machine lacks, into .whl/
#   bash scripts/gpu_check.sh [--cpu] [ARGS]   # there (or here with --cpu): install .whl/ if present, then check
#
# The device machine has torch, torchvision, numpy, OpenCV, scikit-image, safetensors, PyYAML and tqdm but no
# internet; plotly (fer evaluate's confusion HTML), grad-cam and ttach (fer explain) travel as wheels in .whl/
# (git-ignored, ~10 MB: name it in the run's `carry`). Versions come from requirements.txt. The log goes to
# $OUT/gpu_check.log and the summary to $OUT/gpu_check.json when OUT is set. Exit code: the check's.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WANTED=(plotly grad-cam ttach)

pin() {  # the pinned version of a package in requirements.txt
    grep -i -E "^$1==" requirements.txt | head -1 | cut -d= -f3
}

if [[ "${1:-}" == "--fetch-wheels" ]]; then
    set -e
    rm -rf .whl && mkdir -p .whl
    for name in "${WANTED[@]}"; do
        version=$(pin "$name")
        [[ -n "$version" ]] || { echo "no pin for $name in requirements.txt" >&2; exit 2; }
        # pure-Python packages: a py3-none-any wheel, downloaded, or built from the sdist (grad-cam has no wheel)
        "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl "$name==$version" 2>/dev/null \
            || "$PY" -m pip wheel -q --no-deps -w .whl "$name==$version"
    done
    ls -la .whl
    du -sh .whl
    exit 0
fi

if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gpu-check-site \
        .whl/*.whl || { echo "installing .whl/ failed" >&2; exit 1; }
    export PYTHONPATH="/tmp/gpu-check-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    "$PY" scripts/gpu_check.py "$@" 2>&1 | tee "$OUT/gpu_check.log"
    exit "${PIPESTATUS[0]}"
fi
exec "$PY" scripts/gpu_check.py "$@"
