"""Models: ALFJ-Net, its ablations and base models, and the offline reference models."""

from fer.models.base import FERModel, ModelConfig, ModelOutput, Preprocess
from fer.models.checkpoint import load_checkpoint, save_checkpoint
from fer.models.loss import joint_loss
from fer.models.pretrained import load_backbone_weights
from fer.models.registry import create_model, list_models, model_entry, register_model

__all__ = [
    "FERModel",
    "ModelConfig",
    "ModelOutput",
    "Preprocess",
    "create_model",
    "joint_loss",
    "load_backbone_weights",
    "load_checkpoint",
    "save_checkpoint",
    "list_models",
    "model_entry",
    "register_model",
]
