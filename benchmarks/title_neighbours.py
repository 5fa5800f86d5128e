"""Semantic neighbours for full Amazon Beauty from titles alone, for SRA-CL runs at scale.

    .venv/bin/python benchmarks/title_neighbours.py --out /tmp/beauty_title_neighbours.safetensors
        [--config configs/beauty.yaml | --data interactions.txt --items items.tsv]

LLM profiles for Beauty's 22,363 users do not fit a 2-core CPU, so this stands
in for the profiles stage with the same encoder and retrieval the pipeline uses:
an item's text is its title, a user's text is the titles of their training
sequence, newest first (so the encoder's token limit cuts the oldest). Only
training items are used, so nothing of the validation or test item leaks.
The file holds the :class:`SemanticNeighbours` tensors at user granularity;
``benchmarks/beauty_baseline.py --method sracl --neighbours FILE`` trains on it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from sracl_core.data.readers.sasrec import read_items_tsv
from sracl_core.data.source_files import add_data_arguments, resolve_data_arguments
from sracl_core.rec.data import leave_one_out, read_interactions
from sracl_core.rec.neighbours import user_profiles
from sracl_core.semantic.config import EmbeddingsConfig, NeighboursConfig
from sracl_core.semantic.encoders import create_encoder
from sracl_core.semantic.neighbours import top_k


def read_titles(path: Path, n_items: int) -> list[str]:
    """Titles indexed by item id (index 0 unused); an item without a title gets ''.

    The items TSV is read by the pipeline's own reader (id = its first column).
    """
    titles = [""] * (n_items + 1)
    for item_id, title in read_items_tsv(path, None).select("item_id", "title").iter_rows():
        item = int(item_id)
        if not 1 <= item <= n_items:
            raise ValueError(f"{path}: item id {item} outside 1..{n_items} of the interactions")
        titles[item] = title or ""
    return titles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser, items=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--max-len", type=int, default=20)
    args = parser.parse_args()
    resolve_data_arguments(parser, args)

    sequences, n_items = read_interactions(args.data)
    data = leave_one_out(sequences, n_items, max_len=args.max_len)
    titles = read_titles(args.items, n_items)
    sample_profile, profile_sequences = user_profiles(data)
    user_texts = ["; ".join(titles[i] for i in reversed(row) if i > 0)
                  for row in profile_sequences.tolist()]

    encoder = create_encoder(EmbeddingsConfig())
    started = time.perf_counter()
    item_vectors = encoder.encode(titles[1:])
    user_vectors = encoder.encode(user_texts)
    print(f"encoded {n_items} titles and {len(user_texts)} users in "
          f"{time.perf_counter() - started:.0f}s", flush=True)

    retrieval = NeighboursConfig(k=args.k)
    item_rows, _ = top_k(item_vectors, args.k, retrieval)
    user_rows, _ = top_k(user_vectors, args.k, retrieval)
    item_neighbours = np.zeros((n_items + 1, args.k), dtype=np.int64)
    item_neighbours[1:] = item_rows + 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({
        "item_neighbours": torch.from_numpy(item_neighbours),
        "sample_profile": sample_profile.contiguous(),
        "profile_neighbours": torch.from_numpy(user_rows),
        "profile_sequences": profile_sequences.contiguous(),
        # half precision keeps the file small enough to ship to a GPU machine
        "profile_embeddings": torch.from_numpy(user_vectors).half(),
    }, str(args.out))
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")
    for item in (1, 2, 3):
        shown = ", ".join(titles[j][:40] for j in item_neighbours[item][:3])
        print(f"  {titles[item][:50]!r} -> {shown}")


if __name__ == "__main__":
    main()
