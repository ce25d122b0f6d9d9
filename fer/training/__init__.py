"""Training: YAML config → model trained with the joint loss, resumable exactly, DDP-ready.

    from fer.training import load_config, train
    cfg = load_config("synthfer_cpu", ["train.epochs=3"])   # a validated TrainConfig
    train(cfg, out_dir="runs/x", resume=True)

Modules: `config` (the typed config and its YAML / override reading), `build` (data, model,
optimizer, schedule from a config), `state` (RNG, ``last.pt``, resume checks), `distributed`
(the torchrun process group) and `loop` (`train`, `fit`, `train_epoch`, `validate`).

Output folder (``output`` in the config, or ``out_dir``):

* ``last.pt``           full training state after every epoch (and every ``save_every_steps``):
                        model, optimizer, scheduler, AMP scaler, RNG states, epoch/step, best
                        accuracy, config. Plain tensors and containers only: read back with
                        ``torch.load(weights_only=True)``. Written atomically: a kill while
                        writing leaves the previous file intact.
* ``model.safetensors`` the best model so far by validation (fused) accuracy, one file usable
                        by the demo (``fer.models.save_checkpoint``; provenance names the data).
* ``metrics.jsonl``     one JSON line per epoch (train loss, val accuracies, lr, time).
* ``config.yaml``       the resolved config.

A run killed anywhere and resumed ends with the same weights as one that never stopped (on
CPU; CUDA kernels may not be bitwise deterministic). See `fer.training.state`.
"""

from fer.training.config import TrainConfig, list_configs, load_config
from fer.training.distributed import cleanup_distributed
from fer.training.loop import fit, train
from fer.training.state import TrainingInterrupted, atomic_torch_save, load_training_state

__all__ = [
    "TrainConfig", "TrainingInterrupted", "atomic_torch_save", "cleanup_distributed", "fit", "list_configs",
    "load_config", "load_training_state", "train",
]
