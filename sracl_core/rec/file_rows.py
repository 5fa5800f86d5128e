"""A frozen float32 matrix kept in a file and read a batch of rows at a time.

SRA-CL's synthesizer reads the frozen profile embeddings of a batch's anchors and their
neighbours: 2,816 rows a step at the paper's settings. At prefix granularity the matrix
has a row per training sample (Beauty at 1,024-d: 131,413 rows, 531 MiB; 100x Beauty:
53 GB), and held in memory it is most of a training process's footprint, once per
process (each data-parallel rank, each grid worker). Kept in a file on the cache's disk,
the kernel's page cache holds what fits, reclaimable under memory pressure, and the
process holds only a step's rows. The rows are the same float32 values, so training
gives the same bits.

The file is unnamed (``O_TMPFILE``): it disappears when the process ends, however it
ends, so a killed run leaves no half-gigabyte file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

_FLOAT = np.dtype(np.float32)


class FileRows:
    """An ``[n_rows, dim]`` float32 matrix in a file: ``rows[indices]`` reads like a tensor's.

    Filled with ``rows[row_numbers] = values`` (numpy, any order), then read by indexing
    with an integer tensor of any shape; the result is on ``device``.
    """

    def __init__(self, file: BinaryIO, n_rows: int, dim: int,
                 device: torch.device | str = "cpu") -> None:
        self._file = file
        self.shape = torch.Size((n_rows, dim))
        self.device = torch.device(device)

    @classmethod
    def empty(cls, n_rows: int, dim: int, folder: Path) -> FileRows:
        """A zero matrix in an unnamed file under ``folder`` (on the cache's disk, not a
        tmpfs ``/tmp``, whose pages would be memory again)."""
        file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (lives as long as the matrix)
        file.truncate(n_rows * dim * _FLOAT.itemsize)
        return cls(file, n_rows, dim)

    @property
    def _row_bytes(self) -> int:
        return self.shape[1] * _FLOAT.itemsize

    def __setitem__(self, rows: np.ndarray, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=_FLOAT).reshape(len(rows), self.shape[1])
        self._check_rows(rows)
        descriptor = self._file.fileno()
        for start, stop in _runs(rows):
            os.pwrite(descriptor, values[start:stop].tobytes(), int(rows[start]) * self._row_bytes)

    def __getitem__(self, rows: torch.Tensor) -> torch.Tensor:
        """The rows ``rows`` names, shaped ``[*rows.shape, dim]``; each distinct row is
        read once, consecutive ones in one read."""
        flat = rows.reshape(-1).cpu().numpy()
        self._check_rows(flat)
        distinct, inverse = np.unique(flat, return_inverse=True)
        block = np.empty((len(distinct), self.shape[1]), dtype=_FLOAT)
        descriptor = self._file.fileno()
        for start, stop in _runs(distinct):
            wanted = block[start:stop]
            got = os.preadv(descriptor, [memoryview(wanted).cast("B")],
                            int(distinct[start]) * self._row_bytes)
            if got != wanted.nbytes:
                raise OSError(f"short read of rows {distinct[start]}..{distinct[stop - 1]}: "
                              f"{got} of {wanted.nbytes} bytes (the file was truncated)")
        gathered = torch.from_numpy(block)[torch.from_numpy(inverse)]
        return gathered.reshape(*rows.shape, self.shape[1]).to(self.device)

    def to(self, device: torch.device | str) -> FileRows:
        """The same file, read onto ``device``."""
        return FileRows(self._file, self.shape[0], self.shape[1], device)

    def _check_rows(self, rows: np.ndarray) -> None:
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"rows {rows.min()}..{rows.max()} outside 0..{self.shape[0] - 1}")


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) positions of the stretches of ``rows`` that go up by one, so a stretch
    of consecutive rows is one system call."""
    if not len(rows):
        return []
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    edges = np.concatenate(([0], breaks, [len(rows)]))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
