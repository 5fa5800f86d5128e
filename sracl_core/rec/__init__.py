"""The recommender: backbones, SRA-CL objectives, training, full-ranking evaluation.

Plain library code with no artifact-store knowledge: inputs are tensors
(:class:`TrainingData`, :class:`SemanticNeighbours`), outputs are a trained
backbone, metric dicts and model folders.
"""

from sracl_core.rec.backbones import BACKBONES, Backbone, build_backbone
from sracl_core.rec.checkpoint import load_model, save_model
from sracl_core.rec.config import EvaluateConfig, ObjectiveConfig, TrainConfig
from sracl_core.rec.data import EvalSplit, SemanticNeighbours, TrainingData, leave_one_out
from sracl_core.rec.metrics import evaluate, evaluate_split, metric_key, recommend
from sracl_core.rec.trainer import EpochReport, TrainResult, train

__all__ = [
    "BACKBONES",
    "Backbone",
    "EpochReport",
    "EvalSplit",
    "EvaluateConfig",
    "ObjectiveConfig",
    "SemanticNeighbours",
    "TrainConfig",
    "TrainResult",
    "TrainingData",
    "build_backbone",
    "evaluate",
    "evaluate_split",
    "leave_one_out",
    "load_model",
    "metric_key",
    "recommend",
    "save_model",
    "train",
]
