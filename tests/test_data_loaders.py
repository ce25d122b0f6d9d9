"""Data-set loaders on small trees written here in the real formats, and the FERPlus counts on
the public label files in ../shared/data."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from fer.cli import main as cli_main
from fer.data.base import read_image
from fer.data.ferplus import apply_protocol
from fer.data.registry import dataset_info, open_dataset
from fer.errors import DatasetError
from fer.labels import CANONICAL_7, CANONICAL_8

C7 = CANONICAL_7.index


def _img(path, value: int, size: int = 24, grey: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.full((size, size) if grey else (size, size, 3), value, np.uint8)
    assert cv2.imwrite(str(path), a)


# ----------------------------------------------------------------------------- RAF-DB
@pytest.fixture()
def rafdb(tmp_path):
    root = tmp_path / "RAF-DB"
    lines = ["train_00001.jpg 1", "train_00002.jpg 4", "train_00003.jpg 7", "test_0001.jpg 6", "test_0002.jpg 2", "test_0003.jpg 5"]
    (root / "EmoLabel").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    for k, ln in enumerate(lines):
        stem = ln.split()[0][:-4]
        if stem != "test_0003":  # one image missing on purpose
            _img(root / "Image" / "aligned" / f"{stem}_aligned.jpg", 20 * k)
    return root


def test_rafdb_maps_raw_labels_to_canonical(rafdb):
    train = open_dataset("rafdb", "train", root=rafdb)
    # raw 1 = surprise, 4 = happiness, 7 = neutral
    assert train.labels.tolist() == [C7("surprise"), C7("happiness"), C7("neutral")]
    assert train.image(0).shape == (24, 24, 3)
    test = open_dataset("rafdb", "test", root=rafdb)
    assert test.labels.tolist() == [C7("anger"), C7("fear"), C7("sadness")]
    assert len(test.missing_images) == 1 and "test_0003_aligned.jpg" in test.missing_images[0]
    with pytest.raises(DatasetError, match="test_0003_aligned.jpg"):
        test.image(2)


def test_rafdb_malformed_line_names_file_and_line(rafdb):
    f = rafdb / "EmoLabel" / "list_patition_label.txt"
    f.write_text("train_00001.jpg 1\ntrain_00002.jpg 4\ntrain_00003.jpg 9\n")
    with pytest.raises(DatasetError, match=r"list_patition_label.txt, line 3: label 9 outside 1..7"):
        open_dataset("rafdb", "train", root=rafdb)
    f.write_text("train_00001.jpg\n")
    with pytest.raises(DatasetError, match="line 1"):
        open_dataset("rafdb", "train", root=rafdb)


def test_rafdb_missing_label_file(tmp_path):
    with pytest.raises(DatasetError, match="list_patition_label.txt"):
        open_dataset("rafdb", "train", root=tmp_path)


def test_rafdb_original_images_go_through_face_detection(tmp_path, astronaut):
    root = tmp_path / "raf"
    (root / "EmoLabel").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("train_00001.jpg 4\n")
    (root / "Image" / "original").mkdir(parents=True)
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)  # keeps the detector quick
    cv2.imwrite(str(root / "Image" / "original" / "train_00001.jpg"), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    d = open_dataset("rafdb", "train", root=root, source="original", crop_size=64)
    crop = d.image(0)
    assert crop.shape == (64, 64, 3)
    assert crop.std() > 10  # a real crop of the face, not an empty frame


# ----------------------------------------------------------------------------- FERPlus
VOTES = {
    "fer0000000.png": [0, 9, 0, 0, 0, 0, 0, 0, 1, 0],  # happiness (all protocols)
    "fer0000001.png": [4, 0, 0, 1, 3, 2, 0, 0, 0, 0],  # no majority; plurality neutral; soft 4/7 neutral + 3/7 anger
    "fer0000002.png": [0, 0, 0, 0, 0, 0, 0, 6, 4, 0],  # contempt
    "fer0000003.png": [0, 0, 0, 0, 0, 0, 0, 0, 7, 3],  # unknown
    "fer0000004.png": [0, 0, 5, 0, 0, 0, 5, 0, 0, 0],  # tie surprise/fear
}


def _write_ferplus_folders(root):
    for folder, split_names in (("FER2013Train", list(VOTES)), ("FER2013Test", ["fer0000000.png"])):
        d = root / folder
        d.mkdir(parents=True)
        rows = [f'{n},"(0, 0, 48, 48)",' + ",".join(map(str, VOTES[n])) for n in split_names]
        (d / "label.csv").write_text("\n".join(rows) + "\n")
        for k, n in enumerate(split_names):
            _img(d / n, 10 + k, 48, grey=True)
    (root / "FER2013Valid").mkdir()
    (root / "FER2013Valid" / "label.csv").write_text("")


def test_ferplus_protocols_on_official_folder_layout(tmp_path):
    root = tmp_path / "ferplus"
    _write_ferplus_folders(root)
    maj8 = open_dataset("ferplus", "train", root=root)
    assert maj8.class_names == CANONICAL_8
    assert [k.split("/")[-1] for k in maj8.keys] == ["fer0000000.png", "fer0000002.png"]
    assert maj8.labels.tolist() == [1, 7]
    assert maj8.dropped == {"no majority": 2, "top vote is unknown": 1}
    img = maj8.image(0)
    assert img.shape == (48, 48, 3) and (img == 10).all()  # grey PNG -> RGB

    maj7 = open_dataset("ferplus", "train", root=root, num_classes=7)
    assert maj7.labels.tolist() == [1] and maj7.dropped["contempt (7-class protocol)"] == 1

    plur = open_dataset("ferplus", "train", root=root, protocol="plurality")
    assert plur.labels.tolist() == [1, 0, 7]
    assert plur.dropped == {"tie between the top classes": 1, "plurality is unknown": 1}

    soft = open_dataset("ferplus", "train", root=root, protocol="soft")
    assert soft.soft and soft.targets.shape[1] == 8
    i = [k.split("/")[-1] for k in soft.keys].index("fer0000001.png")
    np.testing.assert_allclose(soft.targets[i], [4 / 7, 0, 0, 0, 3 / 7, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(soft.targets.sum(1), 1.0, atol=1e-6)

    assert len(open_dataset("ferplus", "val", root=root)) == 0


def test_ferplus_csv_layout_takes_pixels_row_for_row(tmp_path):
    root = tmp_path / "fp"
    root.mkdir()
    usages = ["Training", "Training", "Training", "PublicTest", "PrivateTest"]
    names = ["fer0000000.png", "", "fer0000001.png", "fer0000002.png", "fer0000003.png"]
    votes = [VOTES["fer0000000.png"], [0, 10, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 8, 0, 0, 0, 0, 0, 2, 0],
             [0, 0, 0, 9, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 10, 0, 0, 0, 0]]
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    (root / "fer2013new.csv").write_text(
        header + "\n" + "\n".join(f"{u},{n}," + ",".join(map(str, v)) for u, n, v in zip(usages, names, votes)) + "\n")
    pix = ["emotion,pixels,Usage"] + [f"0,{' '.join([str(40 * r + 1)] * 2304)},{u}" for r, u in enumerate(usages)]
    (root / "fer2013.csv").write_text("\n".join(pix) + "\n")

    train = open_dataset("ferplus", "train", root=root)
    assert train.keys == ["fer0000000.png", "fer0000001.png"]
    assert train.labels.tolist() == [1, 2]
    assert train.dropped == {"not a face (no image name in fer2013new.csv)": 1}
    assert (train.image(1) == 81).all()  # pixels of data row 2 (the non-face row 1 is skipped)
    assert open_dataset("ferplus", "val", root=root).labels.tolist() == [3]
    assert open_dataset("ferplus", "test", root=root).labels.tolist() == [5]


def test_ferplus_malformed_rows_name_file_and_line(tmp_path):
    root = tmp_path / "fp"
    (root / "FER2013Train").mkdir(parents=True)
    (root / "FER2013Train" / "label.csv").write_text('a.png,"(0, 0, 48, 48)",1,2,3,4,5,6,7,8,9,0\nb.png,"(0, 0, 48, 48)",1,2\n')
    with pytest.raises(DatasetError, match=r"label.csv, line 2: expected 12 columns"):
        open_dataset("ferplus", "train", root=root)
    (root / "FER2013Train" / "label.csv").write_text('a.png,"(0, 0, 48, 48)",1,2,x,4,5,6,7,8,9,0\n')
    with pytest.raises(DatasetError, match="line 1: vote counts must be numbers"):
        open_dataset("ferplus", "train", root=root)
    with pytest.raises(DatasetError, match="protocol"):
        apply_protocol(np.zeros((1, 10)), "vote")


def test_ferplus_majority_counts_on_the_shared_label_files(shared_dir):
    root = shared_dir / "data" / "ferplus"
    folders = dataset_info("ferplus", root=root, source="folders")
    assert [folders["splits"][s]["images"] for s in ("train", "val", "test")] == [25045, 3191, 3137]
    csvinfo = dataset_info("ferplus", root=root, source="csv")
    assert [csvinfo["splits"][s]["images"] for s in ("train", "val", "test")] == [25060, 3199, 3153]
    assert csvinfo["splits"]["test"]["dropped"]["not a face (no image name in fer2013new.csv)"] > 0


def test_ferplus_subsets_from_the_shared_ran_lists(shared_dir):
    root, lists = shared_dir / "data" / "ferplus", shared_dir / "data" / "ran"
    sizes = {s: open_dataset("ferplus", root=root, subset=s, lists=lists) for s in ("occlusion", "pose30", "pose45")}
    assert {s: len(d) for s, d in sizes.items()} == {"occlusion": 605, "pose30": 1170, "pose45": 633}
    # the lists' own labels agree with the majority labels of the test split (proves the class maps)
    assert all("; 0 listed labels differ" in d.source for d in sizes.values())


# ------------------------------------------------------------------------ RAF-DB subsets
def test_rafdb_subsets_select_test_images_and_check_labels(rafdb, tmp_path):
    lists = tmp_path / "mylists"
    lists.mkdir()
    # raw-1 order: 5 = anger, 1 = fear, 3 = happiness (disagrees with test_0003's raw 5 = sadness)
    (lists / "rafdb_occlusion_list.txt").write_text("test_0001_aligned 5 4\ntest_0003_aligned 3 1\ntest_0099_aligned 0 2\n")
    (lists / "val_raf_db_list.txt").write_text("1/test_0002_aligned.jpg\n")
    occ = open_dataset("rafdb", root=rafdb, subset="occlusion", lists=lists)
    assert [k.split("/")[-1] for k in occ.keys] == ["test_0001_aligned.jpg", "test_0003_aligned.jpg"]
    assert occ.labels.tolist() == [C7("anger"), C7("sadness")]
    assert "1 listed labels differ" in occ.source
    assert occ.dropped == {"listed but not in the test split (or dropped by its protocol)": 1}
    pose = open_dataset("rafdb", root=rafdb, subset="pose30", lists=lists)
    assert pose.labels.tolist() == [C7("fear")] and "0 listed labels differ" in pose.source
    with pytest.raises(DatasetError, match="subset lists were not found"):
        open_dataset("rafdb", root=rafdb, subset="occlusion", lists=tmp_path / "nowhere")


# ------------------------------------------------------------------ folder per class, CSV
def test_folder_per_class_by_name_and_by_explicit_order(tmp_path):
    root = tmp_path / "fedro"
    _img(root / "happy" / "a.png", 1)
    _img(root / "Angry" / "b.jpg", 2)
    _img(root / "contempt" / "c.png", 3)
    (root / "happy" / "notes.txt").write_text("x")
    d = open_dataset("fedro", root=root)
    assert d.name == "FED-RO" and d.split == "test"
    assert sorted(d.labels.tolist()) == sorted([C7("happiness"), C7("anger")])
    assert d.dropped == {"contempt (7-class protocol)": 1, "not an image file (extension)": 1}

    num = tmp_path / "manet" / "train"
    for k in range(7):
        _img(num / str(k) / f"{k}.png", k)
    with pytest.raises(DatasetError, match="class order"):
        open_dataset("folder", "train", root=tmp_path / "manet")
    d = open_dataset("folder", "train", root=tmp_path / "manet", class_order="manet")
    by_folder = {k.split("/")[-2]: int(v) for k, v in zip(d.keys, d.labels)}
    assert by_folder["2"] == C7("sadness") and by_folder["3"] == C7("surprise") and by_folder["6"] == C7("anger")
    with pytest.raises(DatasetError, match="unknown class name"):
        _img(tmp_path / "bad" / "smirk" / "x.png", 1)
        open_dataset("folder", root=tmp_path / "bad")


def test_csv_of_path_label_split(tmp_path):
    _img(tmp_path / "img" / "a.png", 5)
    _img(tmp_path / "img" / "b.png", 6)
    f = tmp_path / "list.csv"
    f.write_text("path,label,split\nimg/a.png,surprised,train\nimg/b.png,3,test\nimg/a.png,contempt,train\n")
    tr = open_dataset("csv", "train", root=f, class_order="canonical")
    assert tr.labels.tolist() == [C7("surprise")] and tr.dropped == {"contempt (7-class protocol)": 1}
    assert (tr.image(0) == 5).all()
    te = open_dataset("csv", "test", root=f, class_order="canonical")
    assert te.labels.tolist() == [C7("sadness")]
    f.write_text("img/a.png,happy\nimg/b.png\n")
    with pytest.raises(DatasetError, match=r"list.csv, line 2"):
        open_dataset("csv", root=f)


def test_corrupt_image_is_a_dataset_error_naming_the_file(tmp_path):
    p = tmp_path / "x.jpg"
    p.write_bytes(b"not a jpeg at all")
    with pytest.raises(DatasetError, match="x.jpg"):
        read_image(p)


# ------------------------------------------------------------------------------ CLI
def test_dataset_info_cli_prints_json_and_reports_errors(rafdb, capsys):
    assert cli_main(["dataset-info", "rafdb", "--root", str(rafdb)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["splits"]["train"]["images"] == 3 and info["splits"]["test"]["missing_images"] == 1
    assert info["splits"]["train"]["classes"]["surprise"] == 1
    assert cli_main(["dataset-info", "nosuchset", "--root", str(rafdb)]) == 2
    assert "unknown data set" in capsys.readouterr().err
    (rafdb / "EmoLabel" / "list_patition_label.txt").write_text("oops\n")
    assert cli_main(["dataset-info", "rafdb", "--root", str(rafdb)]) == 2
    assert "list_patition_label.txt, line 1" in capsys.readouterr().err
