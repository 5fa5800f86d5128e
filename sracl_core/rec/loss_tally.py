"""Loss parts summed where they are computed, read back every few steps.

Reading a loss every step (``.item()``) makes the host wait for the device at
every step; on a GPU a hidden-64 model's step is shorter than that round trip,
so the queue of kernels runs dry each time. The tally keeps the sums on the
device (in float64, so a 500-step epoch adds up as exactly as Python floats
did) and reads them only when asked: for the progress bar, before a checkpoint
and at the end of an epoch. A non-finite loss is still caught before anything
is checkpointed, naming the steps it came from.
"""

from __future__ import annotations

import math

import torch


class LossTally:
    """Running sums of named loss parts over the steps of one epoch."""

    def __init__(self, sums: dict[str, float]) -> None:
        self.sums = dict(sums)
        self._names: list[str] | None = None
        self._pending: torch.Tensor | None = None
        self._pending_steps: list[int] = []

    def add(self, parts: dict[str, torch.Tensor], step: int) -> None:
        """Add one step's loss parts (0-d tensors) without waiting for them."""
        if self._names is None:
            self._names = list(parts)
        values = torch.stack([parts[name].detach() for name in self._names]).double()
        self._pending = values if self._pending is None else self._pending + values
        self._pending_steps.append(step)

    def read(self) -> dict[str, float]:
        """The sums so far, as floats; raises if a step since the last read was not finite."""
        if self._pending is not None:
            pending = dict(zip(self._names or [], self._pending.tolist(), strict=True))
            first, last = self._pending_steps[0], self._pending_steps[-1]
            self._pending, self._pending_steps = None, []
            for name, value in pending.items():
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"steps {first}-{last}: loss part {name!r} is {value}")
                self.sums[name] = self.sums.get(name, 0.0) + value
        return dict(self.sums)
