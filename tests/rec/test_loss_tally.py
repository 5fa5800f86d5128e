"""Loss sums kept on the device and read back on demand."""

from __future__ import annotations

import pytest
import torch

from sracl_core.rec.loss_tally import LossTally


def parts(rec: float, total: float) -> dict[str, torch.Tensor]:
    return {"rec": torch.tensor(rec), "total": torch.tensor(total)}


def test_sums_continue_from_a_checkpoint_and_match_python_floats():
    tally = LossTally({"rec": 1.5, "total": 2.0})
    values = [0.1, 0.2, 0.3, 1e-4, 7.25]
    for step, value in enumerate(values):
        tally.add(parts(value, 2 * value), step)
    sums = tally.read()
    f32 = [float(torch.tensor(v)) for v in values]  # each part is a float32 loss
    assert sums["rec"] == pytest.approx(1.5 + sum(f32), rel=1e-12)
    assert sums["total"] == pytest.approx(2.0 + 2 * sum(f32), rel=1e-12)
    assert tally.read() == sums  # reading twice adds nothing


def test_a_non_finite_step_is_named_and_not_added():
    tally = LossTally({})
    tally.add(parts(1.0, 1.0), 10)
    assert tally.read() == {"rec": 1.0, "total": 1.0}
    tally.add(parts(1.0, 1.0), 11)
    tally.add(parts(float("nan"), float("nan")), 12)
    with pytest.raises(FloatingPointError, match="steps 11-12: loss part 'rec' is nan"):
        tally.read()
    assert tally.sums == {"rec": 1.0, "total": 1.0}
