"""Faces are numbered from 1 everywhere; an out-of-range number is a message, not another face."""

import pytest

from fer.errors import InputError
from fer.face.numbering import face_file_tag, face_label, parse_face_number, pick_face


def test_labels_count_from_one():
    assert face_label(0) == "face 1"
    assert face_file_tag(2) == "face3"


@pytest.mark.parametrize("value, number", [(1, 1), ("2", 2), ("face 3", 3), ("face 1 (largest)", 1), (" 4 ", 4)])
def test_parse_accepts_what_a_person_types(value, number):
    assert parse_face_number(value) == number


@pytest.mark.parametrize("value", [0, -1, "0", "abc", None, 1.5, "face", True, [], "face x"])
def test_parse_refuses_the_rest(value):
    with pytest.raises(InputError):
        parse_face_number(value, "--face")


def test_pick_face_in_and_out_of_range():
    faces = ["a", "b", "c"]
    assert pick_face(faces, 1) == (0, "a")
    assert pick_face(faces, "face 3") == (2, "c")
    with pytest.raises(InputError, match="has 3 face\\(s\\), numbered 1–3"):
        pick_face(faces, 4, "--face")
    with pytest.raises(InputError, match="numbered 1 "):
        pick_face(["a"], 2)
    with pytest.raises(InputError, match="no face"):
        pick_face([], 1)
