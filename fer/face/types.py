"""Data types of the face pipeline, shared by detection, alignment, occlusion and explanation.

Landmark order (5 points), in image coordinates: the eye on the image's left, the eye on the
image's right, the nose tip, the mouth corner on the image's left, the one on the right
(the order of MTCNN and insightface). 68-point landmarks follow the iBUG 300-W order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Face:
    box: np.ndarray  # (4,) float x1, y1, x2, y2 in photo pixels
    score: float
    landmarks: np.ndarray  # (5, 2) float, photo pixels
    landmarks68: np.ndarray | None = None  # (68, 2) float, photo pixels, when known
    detector: str | None = None  # the backend that found it ("mtcnn", "faceapi_ssd", "insightface"), when known

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)


@dataclass
class AlignedFace:
    image: np.ndarray  # (S, S, 3) uint8 RGB crop
    matrix: np.ndarray  # (2, 3) affine photo -> crop
    inverse: np.ndarray  # (2, 3) affine crop -> photo
    face: Face  # the detection in photo coordinates
    landmarks: np.ndarray  # (5, 2) in crop coordinates
    landmarks68: np.ndarray | None = None  # (68, 2) in crop coordinates, when known

    @property
    def size(self) -> int:
        return int(self.image.shape[0])
