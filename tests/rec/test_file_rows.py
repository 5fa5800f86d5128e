"""Profile embeddings kept in a file: the same rows as the tensor, and the same training bits."""

from __future__ import annotations

import dataclasses
import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from sracl_core.rec import TrainConfig, file_rows, train
from sracl_core.rec.file_rows import FileRows


def filled(matrix: np.ndarray, folder: Path, batch: int = 7, seed: int = 0) -> FileRows:
    """``matrix`` written into a FileRows in shuffled batches, as Parquet batches may come."""
    rows = FileRows.empty(*matrix.shape, folder)
    order = np.random.default_rng(seed).permutation(len(matrix))
    for start in range(0, len(order), batch):
        part = order[start:start + batch]
        rows[part] = matrix[part]
    return rows


def test_any_gather_reads_what_tensor_indexing_reads(tmp_path: Path) -> None:
    matrix = np.random.default_rng(1).standard_normal((50, 6)).astype(np.float32)
    rows = filled(matrix, tmp_path)
    assert tuple(rows.shape) == (50, 6)
    # repeats, consecutive stretches, both ends, a [B, k] shape as the synthesizer asks for
    index = torch.tensor([[3, 4, 5, 3], [49, 0, 0, 17], [18, 19, 20, 21]])
    got = rows[index]
    assert got.shape == (3, 4, 6) and got.dtype == torch.float32
    assert torch.equal(got, torch.from_numpy(matrix)[index])
    assert torch.equal(rows[torch.tensor([7])], torch.from_numpy(matrix[[7]]))


def test_rows_outside_the_matrix_are_refused_by_number(tmp_path: Path) -> None:
    rows = filled(np.ones((4, 2), dtype=np.float32), tmp_path)
    with pytest.raises(IndexError, match=r"rows 1\.\.4 outside 0\.\.3"):
        rows[torch.tensor([1, 4])]
    with pytest.raises(IndexError, match=r"outside 0\.\.3"):
        rows[np.array([-1])] = np.zeros((1, 2), dtype=np.float32)


def test_the_file_has_no_name_so_nothing_is_left_behind(tmp_path: Path) -> None:
    rows = filled(np.zeros((1000, 64), dtype=np.float32), tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert rows.to("cpu")[torch.tensor([999])].shape == (1, 64)


def test_training_from_a_file_gives_the_bits_of_training_from_memory(
        tiny_data, tiny_neighbours, tmp_path: Path) -> None:
    on_disk = dataclasses.replace(tiny_neighbours, profile_embeddings=filled(
        tiny_neighbours.profile_embeddings.numpy(), tmp_path))
    cfg = TrainConfig.model_validate({
        "backbone": {"name": "sasrec", "hidden_size": 16, "inner_size": 32}, "batch_size": 32,
        "progress": False, "epochs": 2})
    a = train(cfg, tiny_data, tiny_neighbours, seed=3, checkpoint_dir=tmp_path / "a")
    b = train(cfg, tiny_data, on_disk, seed=3, checkpoint_dir=tmp_path / "b")
    assert a.model.state_dict().keys() == b.model.state_dict().keys()
    for name, value in a.model.state_dict().items():
        assert torch.equal(value, b.model.state_dict()[name]), name


def test_reads_and_writes_larger_than_one_system_call_are_completed(tmp_path: Path,
                                                                    monkeypatch) -> None:
    monkeypatch.setattr(file_rows, "_MAX_IO_BYTES", 40)  # 10 floats a call: rows span calls
    matrix = np.arange(30 * 7, dtype=np.float32).reshape(30, 7)
    rows = filled(matrix, tmp_path, batch=30)
    assert torch.equal(rows[torch.arange(30)], torch.from_numpy(matrix))


def test_only_integer_indices_are_accepted(tmp_path: Path) -> None:
    rows = filled(np.ones((4, 2), dtype=np.float32), tmp_path)
    assert rows[torch.tensor([1, 3], dtype=torch.int32)].shape == (2, 2)
    for wrong in (torch.tensor([1.7]), torch.tensor([True, False])):
        with pytest.raises(TypeError, match="integer tensor"):
            rows[wrong]


def test_a_full_disk_simulated_at_reservation_names_the_folder_and_the_size(
        tmp_path: Path, monkeypatch) -> None:
    def no_space(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space)
    with pytest.raises(OSError, match=rf"1000 x 256 profile embeddings \(1 MiB\) under "
                                      rf"{tmp_path}.*profile_embeddings=memory"):
        FileRows.empty(1000, 256, tmp_path)
