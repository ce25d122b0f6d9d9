"""Occlusion-robustness analysis: data-set sweeps, one-face sweeps, sensitivity maps, reports.

* `sweep(models, samples, ...)`: every occluder x severity (and the four region blocks) over a
  data set of aligned crops -> `SweepResult` (tidy metric rows + timings).
* `sweep_face(predictor_or_model, aligned_face, ...)`: the same for one face -> rows + plotly figure.
* `sensitivity_map(model, crop, patch, stride, fill, batch_size)`: slide a patch over one aligned
  crop and record the drop of the predicted class's probability (fused decision and each head).
* `write_reports(result, out_dir)`: CSV + JSON + one self-contained plotly HTML.
"""

from __future__ import annotations

from fer.robustness.inference import probs_of_crops, to_model_input
from fer.robustness.occlude import Condition
from fer.robustness.report import read_report_json, write_reports
from fer.robustness.samples import Samples
from fer.robustness.sensitivity import FILLS, SensitivityMap, sensitivity_map
from fer.robustness.sweep import SweepResult, default_conditions, sweep, sweep_face

__all__ = [
    "FILLS",
    "Condition",
    "Samples",
    "SensitivityMap",
    "SweepResult",
    "default_conditions",
    "probs_of_crops",
    "read_report_json",
    "sensitivity_map",
    "sweep",
    "sweep_face",
    "to_model_input",
    "write_reports",
]
