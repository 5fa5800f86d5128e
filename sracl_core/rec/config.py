"""Config of the train and evaluate stages.

Defaults are the SRA-CL paper's settings on Amazon Beauty, as its reference
implementation sets them. Every switch that changes the math is a result field (it
enters the stage fingerprint); switches that only change how fast or where the same
math runs are :func:`runtime_field`s.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from sracl_core.config_base import Device, StrictModel, runtime_field
from sracl_core.rec.backbones import BACKBONES, BackboneConfig, SASRecConfig
from sracl_core.registry import Registry

VALIDATION_KS = (5, 10, 20)
VALIDATION_MRR_KS = (10, 20)
"""The cut-offs of HR/NDCG and of MRR that validation computes each epoch, whatever
``evaluate.ks`` says: ``train.early_stopping_metric`` must be one of them."""

Cutoff = Annotated[int, Field(ge=1)]
"""A list length k of HR@k, NDCG@k or MRR@k: a k of 0 or below used to pass the config and
then fail (or score nothing) only in the evaluate stage, after training."""

TieRule = Literal["expected", "pessimistic", "optimistic"]
"""How a target scored the same as other items is ranked (see :mod:`sracl_core.rec.metrics`)."""


class ObjectiveConfig(StrictModel):
    """What training minimises; each objective subclasses it with its own settings."""

    name: str

    needs_neighbours: ClassVar[bool] = False
    loss_parts: ClassVar[tuple[str, ...]] = ("rec",)


OBJECTIVES: Registry[None] = Registry("objective", default="sracl")
"""``train.objective`` names one of these (:mod:`sracl_core.rec.objectives` computes them)."""


class SRACLObjectiveConfig(ObjectiveConfig):
    """SRA-CL: loss = L_rec + alpha * L_CS + beta * L_IS (the paper, the default).

    The paper's ablations are single switches: ``use_cs=False`` (w/o L_CS),
    ``use_is=False`` (w/o L_IS), ``synthesizer="mean"`` (non-learnable synthesizer:
    the neighbours' mean; ``"random"`` draws one); collaborative instead of semantic
    retrieval is ``neighbours.source=collaborative``.
    """

    name: Literal["sracl"] = "sracl"
    use_cs: bool = Field(True, description="inter-user L_CS (semantic neighbour sequences)")
    use_is: bool = Field(True, description="intra-user L_IS (semantic item substitution)")
    alpha: float = Field(0.1, ge=0.0, description="weight of L_CS")
    beta: float = Field(0.1, ge=0.0, description="weight of L_IS")
    temperature: float = Field(1.0, gt=0.0, description="InfoNCE temperature (dot product)")
    substitution_prob: float = Field(0.2, ge=0.0, le=1.0,
                                     description="per-item replacement probability in L_IS")
    synthesizer: Literal["learnable", "mean", "random"] = Field(
        "learnable", description="how neighbour sequences make L_CS's positive: learnable "
        "(attention, the paper), mean (all k weighted equally: the non-learnable ablation) or "
        "random (one neighbour drawn uniformly)")
    synthesizer_dropout: float = Field(0.5, ge=0.0, lt=1.0,
                                       description="dropout on the GAT attention weights")
    neighbour_gradients: bool = Field(
        True, description="False (fast, changes the math): neighbour sequences encoded without "
                          "gradient; on Beauty L_CS then diverged and learning lagged the exact "
                          "objective (a side-script run, commit 894e857), so leave it on")
    share_anchor_encoding: bool = Field(
        False, description="True (fast, changes the math): L_CS reuses the L_rec anchor encoding; "
                           "the reference encodes the anchor twice (two dropout samples)")
    dedup_neighbours: bool = Field(
        False, description="True (fast, changes dropout noise): a neighbour sequence that "
                           "appears several times in a batch is encoded once")

    needs_neighbours: ClassVar[bool] = True

    @property
    def loss_parts(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("rec", *(["cs"] if self.use_cs else []), *(["is"] if self.use_is else []))

    @model_validator(mode="after")
    def _some_loss_on(self) -> SRACLObjectiveConfig:
        if not (self.use_cs or self.use_is):
            raise ValueError("use_cs and use_is are both off; for the plain backbone write "
                             "objective: next_item")
        return self


class NextItemObjectiveConfig(ObjectiveConfig):
    """L_rec alone: the plain backbone (SASRec, GRU4Rec), the paper's baselines."""

    name: Literal["next_item"] = "next_item"


class CL4SRecObjectiveConfig(ObjectiveConfig):
    """CL4SRec: L_rec + weight * InfoNCE between two random crop/mask/reorder views."""

    name: Literal["cl4srec"] = "cl4srec"
    weight: float = Field(0.1, ge=0.0, description="weight of the contrastive loss")
    temperature: float = Field(1.0, gt=0.0, description="InfoNCE temperature (dot product)")
    crop_ratio: float = Field(0.2, gt=0.0, le=1.0, description="crop view: share of a "
                              "sequence kept, a random contiguous run")
    mask_ratio: float = Field(0.7, ge=0.0, le=1.0, description="mask view: share of items "
                              "replaced by a mask token")
    reorder_ratio: float = Field(0.2, ge=0.0, le=1.0, description="reorder view: share of a "
                                 "sequence shuffled, a random contiguous run")

    loss_parts: ClassVar[tuple[str, ...]] = ("rec", "cl4srec")


class DuoRecObjectiveConfig(ObjectiveConfig):
    """DuoRec: L_rec + weight * InfoNCE between a second dropout sample and a same-target
    sequence (SASRec with this objective is the DuoRec model)."""

    name: Literal["duorec"] = "duorec"
    weight: float = Field(0.1, ge=0.0, description="weight of the contrastive loss")
    temperature: float = Field(1.0, gt=0.0, description="InfoNCE temperature (dot product)")

    loss_parts: ClassVar[tuple[str, ...]] = ("rec", "duorec")


for _objective in (SRACLObjectiveConfig, NextItemObjectiveConfig, CL4SRecObjectiveConfig,
                   DuoRecObjectiveConfig):
    OBJECTIVES.add(_objective.model_fields["name"].default, _objective)


class TrainConfig(StrictModel):
    """Backbone, objectives and optimisation of the train stage."""

    backbone: BACKBONES.choice(BackboneConfig) = Field(  # type: ignore[valid-type]
        SASRecConfig(), description="the sequence encoder and its settings: sasrec or gru4rec "
        "(a name alone takes that backbone's defaults, e.g. --set train.backbone=gru4rec)")
    seed: int | None = Field(
        None, description="training seed (initialisation, sample order, dropout, augmentation); "
        "None = the config's global seed. The seeds of an experiment vary this one only, so "
        "every seed shares the same prompts, profiles and neighbours")
    objective: OBJECTIVES.choice(ObjectiveConfig) = Field(  # type: ignore[valid-type]
        SRACLObjectiveConfig(), description="the training objective: sracl (the paper), "
        "next_item (the plain backbone), cl4srec or duorec (a name alone takes its defaults, "
        "e.g. --set train.objective=next_item)")
    lr: float = Field(1e-3, gt=0.0, description="Adam learning rate")
    weight_decay: float = Field(0.0, ge=0.0, description="Adam weight decay")
    batch_size: int = Field(256, ge=1, description="training samples per step (with torchrun, "
                                                   "over all ranks)")
    epochs: int = Field(100, ge=1, description="cap; early stopping usually ends sooner")
    patience: int = Field(10, ge=1, description="epochs without validation gain before stopping")
    early_stopping_metric: str = Field("NDCG@10", description="validation metric to maximise")
    validation_exclude_history: bool = Field(False, description="filter seen items in validation")
    rank_ties: TieRule = Field(
        "expected",
        description="tie rule of every ranking metric, in validation (early stopping) and in the "
                    "evaluate stage's test metrics, so both judge a model alike (it lives here "
                    "because it changes which epoch is kept). expected (default): the metric's "
                    "expectation under uniformly random tie-breaking, the only rule that gives "
                    "a constant-score model a random ranker's value (HR@k = k/n) and leaves "
                    "untied scores as they were; pessimistic: the target ranks below every item "
                    "it ties with (a lower bound, which punishes genuinely equal scores); "
                    "optimistic: above them (the old rule, an upper bound: a constant-score "
                    "model gets HR@k = 1), kept only for comparison with code that does this")
    device: Device = runtime_field("auto", "auto: cuda when present, else cpu")
    precision: Literal["fp32", "bf16"] = Field(
        "fp32", description="arithmetic of the training step: fp32 (the paper's runs) or bf16 "
        "autocast (faster on GPUs; a step 1.2x faster on one core of a CPU with AMX; but at "
        "T = 1 the InfoNCE logits reach ~64, where bf16 rounds in steps of ~0.25); part of "
        "the fingerprint, since it changes results")
    bucketed_encoder: bool = runtime_field(
        True, "encode sequences in length buckets on CPU (on CUDA, varying shapes are slower, "
              "so batches run at full width there); exact (SASRec: padding keys are masked; "
              "GRU4Rec: one GRU call per length instead of a packed GRU), only faster")
    bucket_overhead_tokens: int = runtime_field(
        256, "cost of one extra length bucket, in tokens, when planning buckets", ge=0)
    profile_embeddings: Literal["memory", "disk"] = runtime_field(
        "memory", "where the synthesizer's frozen profile embeddings live while training: "
                  "memory, or disk (an unnamed file under the cache root, read a step's rows "
                  "at a time: for prefix-granularity profiles, whose matrix has a row per "
                  "training sample and can outgrow memory); the same values, so the same bits")
    eval_batch_size: int = runtime_field(2048, "sequences scored at once in evaluation", ge=1)
    num_threads: int | None = runtime_field(None, "torch CPU threads; None keeps torch's default")
    checkpoint_every_steps: int = runtime_field(
        200, "also checkpoint mid-epoch every this many steps (resume after a kill)", ge=1)
    progress: bool = runtime_field(True, "tqdm progress bar per epoch")

    @field_validator("early_stopping_metric")
    @classmethod
    def _metric_known(cls, value: str) -> str:
        known = ([f"{name}@{k}" for name in ("HR", "NDCG") for k in VALIDATION_KS]
                 + [f"MRR@{k}" for k in VALIDATION_MRR_KS])
        if value not in known:  # any other k used to fail in train, after its first epoch
            raise ValueError(f"expected a metric validation computes ({', '.join(known)}), "
                             f"got {value!r}")
        return value


def metric_key(name: str, exclude_history: bool) -> str:
    """``"NDCG@10"`` -> ``"all/NDCG@10"`` or ``"unseen/NDCG@10"``."""
    return f"{'unseen' if exclude_history else 'all'}/{name}"


class EvaluateConfig(StrictModel):
    """Full-ranking evaluation of the best checkpoint on the test split.

    How ties are ranked is ``train.rank_ties``: one rule for validation and test.
    """

    ks: list[Cutoff] = Field([5, 10, 20], description="cut-offs of HR@k and NDCG@k")
    mrr_ks: list[Cutoff] = Field([10, 20], description="cut-offs of MRR@k")
    exclude_history: list[bool] = Field(
        [False, True], min_length=1,
        description="report each: False = all items ranked (paper), True = the user's seen "
                    "items removed")
    batch_size: int = runtime_field(2048, "sequences scored at once", ge=1)
    top_k: int = runtime_field(20, "length of the lists written by `sracl recommend`", ge=1)

    @model_validator(mode="after")
    def _some_metric(self) -> EvaluateConfig:
        """No cut-off at all left the stage nothing to write, found only after training."""
        if not (self.ks or self.mrr_ks):
            raise ValueError("ks and mrr_ks are both empty; expected at least one cut-off")
        return self

    def metric_names(self) -> list[str]:
        """Every test metric the evaluate stage writes under this config (a grid's
        ``metrics`` are checked against these before anything trains)."""
        names = ([f"HR@{k}" for k in self.ks] + [f"NDCG@{k}" for k in self.ks]
                 + [f"MRR@{k}" for k in self.mrr_ks])
        return [metric_key(name, exclude) for exclude in self.exclude_history for name in names]
