"""A frozen float32 matrix kept in a file and read a batch of rows at a time.

SRA-CL's synthesizer reads the frozen profile embeddings of a batch's anchors and their
neighbours: 2,816 rows a step at the paper's settings. At prefix granularity the matrix
has a row per training sample (Beauty at 1,024-d: 131,413 rows, 513 MiB; 100x Beauty:
50 GiB), and held in memory it is most of a training process's footprint, once per
process (each data-parallel rank, each grid worker). Kept in a file on the cache's disk,
the kernel's page cache holds what fits, reclaimable under memory pressure, and the
process holds only a step's rows. The rows are the same float32 values, so training
gives the same bits.

The file has no name (``O_TMPFILE``, or created and unlinked at once where the
filesystem lacks it): it disappears when the process ends, however it ends, so a killed
run leaves no half-gigabyte file behind. Its space is reserved when it is made, so a
disk without room fails then, naming the folder, rather than mid-training.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

log = logging.getLogger(__name__)

_FLOAT = np.dtype(np.float32)
_MAX_IO_BYTES = 1 << 30
"""Bytes per system call: Linux moves at most about 2 GiB in one read or write."""


class FileRows:
    """An ``[n_rows, dim]`` float32 matrix in a file: ``rows[indices]`` gathers like
    tensor indexing with non-negative integer indices.

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
        tmpfs ``/tmp``, whose pages would be memory again), its space reserved."""
        size = n_rows * dim * _FLOAT.itemsize
        file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (lives as long as the matrix)
        try:
            if size:
                os.posix_fallocate(file.fileno(), 0, size)
        except OSError as error:
            file.close()
            if error.errno != errno.ENOSPC:
                raise
            raise OSError(errno.ENOSPC, f"no room for the {n_rows} x {dim} profile embeddings "
                                        f"({size / 2**20:,.0f} MiB) under {folder}; free "
                                        "space there or set train.profile_embeddings=memory"
                          ) from None
        log.info("profile embeddings: %d x %d float32 (%.0f MiB) in an unnamed file under %s",
                 n_rows, dim, size / 2**20, folder)
        return cls(file, n_rows, dim)

    @property
    def _row_bytes(self) -> int:
        return self.shape[1] * _FLOAT.itemsize

    def __setitem__(self, rows: np.ndarray, values: np.ndarray) -> None:
        values = np.ascontiguousarray(values, dtype=_FLOAT).reshape(len(rows), self.shape[1])
        self._check_rows(rows)
        for start, stop in _runs(rows):
            data = memoryview(values[start:stop]).cast("B")
            offset, done = int(rows[start]) * self._row_bytes, 0
            while done < len(data):
                done += os.pwrite(self._file.fileno(), data[done:done + _MAX_IO_BYTES],
                                  offset + done)

    def __getitem__(self, rows: torch.Tensor) -> torch.Tensor:
        """The rows ``rows`` names, shaped ``[*rows.shape, dim]``; each distinct row is
        read once, consecutive ones in one read."""
        if rows.dtype.is_floating_point or rows.dtype.is_complex or rows.dtype == torch.bool:
            raise TypeError(f"rows must be an integer tensor, got {rows.dtype}")
        flat = rows.reshape(-1).cpu().numpy()
        self._check_rows(flat)
        distinct, inverse = np.unique(flat, return_inverse=True)
        block = np.empty((len(distinct), self.shape[1]), dtype=_FLOAT)
        for start, stop in _runs(distinct):
            self._read(memoryview(block[start:stop]).cast("B"),
                       int(distinct[start]) * self._row_bytes)
        gathered = torch.from_numpy(block)[torch.from_numpy(inverse)]
        return gathered.reshape(*rows.shape, self.shape[1]).to(self.device)

    def to(self, device: torch.device | str) -> FileRows:
        """The same file, read onto ``device``."""
        return FileRows(self._file, self.shape[0], self.shape[1], device)

    def _read(self, into: memoryview, offset: int) -> None:
        done = 0
        while done < len(into):
            got = os.preadv(self._file.fileno(), [into[done:done + _MAX_IO_BYTES]],
                            offset + done)
            if not got:
                raise OSError(f"profile embeddings file ended at byte {offset + done} of a "
                              f"{self.shape[0]} x {self.shape[1]} float32 matrix")
            done += got

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
