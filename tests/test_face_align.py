"""fer.face.align: the similarity fit, the crop, photo<->crop maps and paste_back."""

import numpy as np
import pytest

from fer.errors import InputError
from fer.face import Face, align, crop_footprint, paste_back, similarity_transform, template, to_crop, to_photo
from fer.face.align import invert, transform_points

ASTRONAUT_5 = np.array([[205.0, 101.7], [246.8, 103.7], [224.7, 129.0], [201.7, 139.2], [245.3, 141.9]])


@pytest.fixture(scope="module")
def face():
    return Face(box=np.array([181.0, 62.0, 268.0, 172.0]), score=1.0, landmarks=ASTRONAUT_5.copy())


def _similarity(angle_deg, scale, tx, ty):
    a = np.deg2rad(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


def test_similarity_recovers_a_known_transform():
    src = np.random.default_rng(1).uniform(0, 300, (5, 2))
    m = _similarity(23.0, 0.7, 12.0, -40.0)
    est = similarity_transform(src, transform_points(src, m))
    assert np.allclose(est, m, atol=1e-9)


def test_similarity_is_never_a_reflection():
    src = np.array([[0, 0], [10, 0], [5, 5], [2, 9], [8, 9]], float)
    mirrored = src * [-1, 1]
    m = similarity_transform(src, mirrored)
    assert np.linalg.det(m[:, :2]) > 0


def test_degenerate_landmarks_raise():
    with pytest.raises(InputError, match="degenerate"):
        similarity_transform(np.ones((5, 2)), template(112))


def test_template_scaling():
    assert np.allclose(template(112), [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                                       [41.5493, 92.3655], [70.7299, 92.2041]])
    t = template(224, face_scale=0.5)
    assert np.allclose(t.mean(0) - 112, (template(224).mean(0) - 112) * 0.5)
    with pytest.raises(ValueError):
        template(224, face_scale=0)


@pytest.mark.parametrize("size", [48, 112, 224])
def test_crop_puts_landmarks_on_template(astronaut, face, size):
    a = align(astronaut, face, size=size)
    assert a.image.shape == (size, size, 3) and a.image.dtype == np.uint8 and a.size == size
    # 5 points, 4 degrees of freedom: the least-squares fit lands each within a few % of the crop
    # (the astronaut's broad smile puts her mouth corners ~5 % outside the template's)
    resid = np.linalg.norm(a.landmarks - template(size), axis=1)
    assert resid.max() < 0.08 * size and resid.mean() < 0.05 * size
    # ... and it is the least-squares optimum: any nudge of scale, angle or shift does worse
    sse = (resid**2).sum()
    for nudge in (_similarity(1, 1, 0, 0), _similarity(0, 1.01, 0, 0), _similarity(0, 1, 0.3, 0), _similarity(0, 1, 0, -0.3)):
        moved = transform_points(a.landmarks, nudge)
        assert ((moved - template(size)) ** 2).sum() > sse
    # the eyes really are in the crop where the template says: darker than the cheeks below them
    eyes = a.landmarks[:2].round().astype(int)
    for x, y in eyes:
        assert a.image[y, x].mean() < a.image[min(size - 1, y + size // 10), x].mean()


def test_round_trip_photo_crop_photo(astronaut, face):
    a = align(astronaut, face, size=224, face_scale=0.8)
    assert np.allclose(a.matrix @ np.vstack([a.inverse, [0, 0, 1]]), [[1, 0, 0], [0, 1, 0]], atol=1e-12)
    pts = np.random.default_rng(2).uniform(0, 512, (50, 2))
    assert np.allclose(to_photo(to_crop(pts, a), a), pts, atol=1e-9)
    assert np.allclose(to_photo(a.landmarks, a), face.landmarks, atol=1e-9)
    assert np.allclose(invert(invert(a.matrix)), a.matrix)


def test_face_scale_gives_looser_crop(astronaut, face):
    tight, loose = align(astronaut, face, 112, 1.0), align(astronaut, face, 112, 0.7)
    iod = lambda a: np.linalg.norm(a.landmarks[1] - a.landmarks[0])  # noqa: E731
    assert iod(loose) == pytest.approx(0.7 * iod(tight), rel=1e-6)


def test_crop_pixels_match_the_photo(astronaut, face):
    a = align(astronaut, face, size=224)
    ys, xs = np.mgrid[40:180:10, 40:180:10]
    crop_pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(float)
    photo_pts = to_photo(crop_pts, a).round().astype(int)
    diff = np.abs(a.image[ys.ravel(), xs.ravel()].astype(int) - astronaut[photo_pts[:, 1], photo_pts[:, 0]])
    assert np.median(diff) < 12  # bilinear vs nearest sampling differences only


def test_large_downscale_is_antialiased(astronaut, face):
    """A tiny crop of a big face: pre-shrinking keeps it close to an area-averaged reference."""
    stripes = astronaut.copy()
    stripes[::2] = 0  # a pattern that aliases badly if sampled without averaging
    # averaged properly, black every other row halves the brightness everywhere; a plain bilinear
    # warp at scale ~1/8 instead samples rows at random phases (measured: mean error 34 vs 8 here)
    half = align(astronaut, face, size=24).image.astype(float) / 2
    assert np.abs(align(stripes, face, size=24).image - half).mean() < 15


def test_border_is_black(astronaut):
    edge = Face(box=np.zeros(4), score=1.0, landmarks=ASTRONAUT_5 - [190, 90])  # face half outside the photo
    a = align(astronaut, edge, size=112)
    assert (a.image[:5, :5] == 0).all()


def test_paste_back_matches_crop_geometry(astronaut, face):
    a = align(astronaut, face, size=224)
    h, w = astronaut.shape[:2]
    # a map that is 1 on the crop's left half: pasted back, it covers the photo's left eye, not the right one
    half = np.zeros((224, 224), np.float32)
    half[:, :112] = 1.0
    photo_map = paste_back(half, a, astronaut.shape)
    assert photo_map.shape == (h, w) and photo_map.dtype == np.float32
    lx, ly = face.landmarks[0].round().astype(int)
    rx, ry = face.landmarks[1].round().astype(int)
    assert photo_map[ly, lx] == 1.0 and photo_map[ry, rx] == 0.0
    assert photo_map[5, 5] == 0.0 and photo_map[500, 500] == 0.0  # outside the crop: fill
    # a coarse 7x7 map (a CAM) lands in the same place as its 224x224 upsampling
    cam = np.zeros((7, 7), np.float32)
    cam[:, :3] = 1.0
    cam_photo = paste_back(cam, a, astronaut.shape)
    assert cam_photo[ly, lx] > 0.9 and cam_photo[ry, rx] < 0.1
    # the RGB crop pasted back reproduces the photo inside the footprint
    back = paste_back(a.image, a, astronaut.shape)
    inside = crop_footprint(a, astronaut.shape)
    inside[:3], inside[-3:], inside[:, :3], inside[:, -3:] = False, False, False, False
    core = inside & (paste_back(np.ones((224, 224), np.float32), a, astronaut.shape, fill=0) > 0.999)
    assert back.dtype == np.uint8 and back.shape == astronaut.shape
    assert np.median(np.abs(back[core].astype(int) - astronaut[core])) <= 6
    assert paste_back(np.ones((224, 224), bool), a, astronaut.shape, interpolation="nearest").dtype == bool
    assert paste_back(np.zeros((224, 224), np.float32), a, astronaut.shape, fill=np.nan)[0, 0] != 0  # NaN fill


def test_landmarks68_follow_the_warp(astronaut, face):
    pts68 = np.random.default_rng(3).uniform(180, 260, (68, 2))
    f = Face(box=face.box, score=1.0, landmarks=face.landmarks, landmarks68=pts68)
    a = align(astronaut, f, size=112)
    assert a.landmarks68.shape == (68, 2)
    assert np.allclose(to_photo(a.landmarks68, a), pts68)
