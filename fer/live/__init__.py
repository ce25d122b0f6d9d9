"""The live occlusion lab's engine: a face tracker and a per-frame predictor for video streams.

    from fer.live import LiveEngine, Occluder
    engine = LiveEngine(predictor)                 # one per stream
    result = engine.process(frame, Occluder("sunglasses", 0.6))
    result.label, result.votes(), result.image    # fused label, head votes, the annotated frame

No Gradio here; the demo's Live tab (`fer.ui.live`) and `benchmarks/live.py` use it.
"""

from fer.live.engine import LiveEngine, LiveFrame, Occluder, occlude_near_face
from fer.live.tracker import FaceTracker, refine

__all__ = ["FaceTracker", "LiveEngine", "LiveFrame", "Occluder", "occlude_near_face", "refine"]
