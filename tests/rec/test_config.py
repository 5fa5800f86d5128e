"""Config sections: typos fail, runtime knobs stay out of the fingerprint."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sracl_core.config_base import fingerprint_payload
from sracl_core.rec.backbones import GRU4RecConfig, SASRecConfig
from sracl_core.rec.config import EvaluateConfig, TrainConfig


def test_defaults_are_the_paper_settings() -> None:
    cfg = TrainConfig()
    assert cfg.backbone == SASRecConfig(n_layers=2, n_heads=2, hidden_size=64,
                                                 inner_size=256, hidden_dropout=0.5)
    assert (cfg.objective.alpha, cfg.objective.beta, cfg.objective.substitution_prob) == (
        0.1, 0.1, 0.2)
    assert (cfg.lr, cfg.batch_size, cfg.patience) == (1e-3, 256, 10)
    assert EvaluateConfig().ks == [5, 10, 20]


def test_unknown_keys_and_bad_metrics_fail() -> None:
    with pytest.raises(ValidationError):
        TrainConfig.model_validate({"objective": {"alpah": 0.2}})
    with pytest.raises(ValidationError):
        TrainConfig(early_stopping_metric="Recall@10")


def test_runtime_fields_do_not_change_the_fingerprint() -> None:
    base = fingerprint_payload(TrainConfig())
    assert fingerprint_payload(TrainConfig(eval_batch_size=7, bucketed_encoder=False,
                                           progress=False, device="cpu")) == base
    assert fingerprint_payload(TrainConfig(objective={"alpha": 0.2})) != base
    assert fingerprint_payload(TrainConfig(objective={"neighbour_gradients": False})) != base


def test_a_backbone_is_a_choice_holding_only_its_own_settings() -> None:
    assert TrainConfig(backbone="gru4rec").backbone == GRU4RecConfig()
    chosen = TrainConfig.model_validate({"backbone": {"name": "gru4rec", "hidden_size": 99}})
    assert chosen.backbone.hidden_size == 99
    assert "sasrec" not in str(fingerprint_payload(chosen))
    with pytest.raises(ValidationError, match="expected one of: gru4rec, sasrec"):
        TrainConfig(backbone="sasrek")
    with pytest.raises(ValidationError, match="Extra inputs"):
        TrainConfig.model_validate({"backbone": {"name": "gru4rec", "n_heads": 2}})


def test_editing_one_backbone_leaves_the_others_fingerprint_alone() -> None:
    sasrec = fingerprint_payload(TrainConfig())
    assert fingerprint_payload(TrainConfig(backbone="sasrec")) == sasrec
    assert fingerprint_payload(TrainConfig(backbone={"name": "sasrec", "n_layers": 3})) != sasrec
    gru = fingerprint_payload(TrainConfig(backbone="gru4rec"))
    assert gru != sasrec
    assert fingerprint_payload(TrainConfig(backbone={"name": "gru4rec",
                                                     "hidden_size": 99})) != gru


def test_an_objective_is_a_choice_holding_only_its_own_settings() -> None:
    plain = TrainConfig(objective="next_item")
    assert fingerprint_payload(plain)["objective"] == {"name": "next_item"}
    assert not plain.objective.needs_neighbours
    duorec = TrainConfig.model_validate({"objective": {"name": "duorec", "weight": 0.3}})
    assert fingerprint_payload(duorec)["objective"] == {"name": "duorec", "weight": 0.3,
                                                        "temperature": 1.0}
    assert TrainConfig(objective={"alpha": 0.2}).objective.name == "sracl"  # the default
    with pytest.raises(ValidationError, match="expected one of: cl4srec, duorec, next_item, sracl"):
        TrainConfig(objective="sasrec")
    with pytest.raises(ValidationError, match="Extra inputs"):
        TrainConfig.model_validate({"objective": {"name": "cl4srec", "alpha": 0.2}})


def test_sracl_with_both_losses_off_points_to_next_item() -> None:
    with pytest.raises(ValidationError, match="objective: next_item"):
        TrainConfig(objective={"use_cs": False, "use_is": False})


@pytest.mark.parametrize("key", ["ks", "mrr_ks"])
@pytest.mark.parametrize("k", [0, -3])
def test_a_cutoff_below_one_fails_at_load_naming_its_key(key: str, k: int) -> None:
    with pytest.raises(ValidationError) as error:
        EvaluateConfig.model_validate({key: [5, k]})
    assert [issue["loc"] for issue in error.value.errors()] == [(key, 1)]
    assert fingerprint_payload(EvaluateConfig.model_validate({key: [5, 1]}))[key] == [5, 1]


def test_every_early_stopping_metric_the_config_takes_is_one_validation_computes() -> None:
    import torch

    from sracl_core.rec.metrics import metrics_from_ranks

    computed = metrics_from_ranks(torch.zeros(3))
    for name in computed:
        assert TrainConfig(early_stopping_metric=name).early_stopping_metric == name
    for name in ("HR@100", "MRR@5", "NDCG@010"):  # well formed, never computed
        assert name not in computed
        with pytest.raises(ValidationError, match="expected a metric validation computes"):
            TrainConfig(early_stopping_metric=name)


@pytest.mark.parametrize("section", [{"exclude_history": []}, {"ks": [], "mrr_ks": []}])
def test_an_evaluate_section_with_no_metric_to_write_fails_at_load(section: dict) -> None:
    with pytest.raises(ValidationError):
        EvaluateConfig.model_validate(section)
    assert EvaluateConfig.model_validate({"ks": []}).metric_names()
