"""Exception types a user may see. Front ends turn them into `gr.Error` or a CLI exit code 2."""


class FERError(Exception):
    """Base class of every error this project raises on purpose, with a message for a person."""


class InputError(FERError):
    """The image (or other input) cannot be used: corrupt, not an image, too large, ..."""


class CheckpointError(FERError):
    """A checkpoint is missing, truncated, unsafe, or of another architecture."""


class ModelNotFoundError(FERError):
    """An unknown model name, or a registered model whose weights are not available."""


class DatasetError(FERError):
    """A data set file is missing or malformed (the message names the file and the line)."""


class NonFiniteOutputError(FERError):
    """A model produced NaN or infinite scores: never shown as a prediction."""
