"""fer.atomic: a write either replaces the file completely or leaves the previous one untouched."""

from __future__ import annotations

import os

import pytest

from fer.atomic import atomic_path, atomic_write, atomic_write_bytes


def test_write_replaces_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["out.bin"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_failure_keeps_the_previous_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["out.bin"]
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_fsync_is_called_when_durable(tmp_path, monkeypatch):
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    atomic_write_bytes(tmp_path / "a", b"x")
    assert len(calls) >= 2  # the file and its folder
    calls.clear()
    atomic_write_bytes(tmp_path / "b", b"x", durable=False)
    assert calls == []
