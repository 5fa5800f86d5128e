"""The collaborative source of the neighbours stage: no text, cached like any other source."""

from __future__ import annotations

import numpy as np
import polars as pl

from sracl_core.config import load_config
from sracl_core.stages.graph import select_stages, store_for
from tests.stage_runs import run_pipeline

# items 1 and 3 always stand between 2 and 4, items 5 and 6 between 7 and 8: each pair
# shares every context, so their co-occurrence rows (and vectors) are alike; 9 and 10 end
# every sequence as its validation and test items, which training never sees
_BODIES = [[2, 1, 4, 7, 5, 8], [2, 3, 4, 7, 6, 8], [2, 1, 4, 7, 6, 8], [2, 3, 4, 7, 5, 8]]
SEQUENCES = {user: [*body, 9, 10] for user, body in enumerate(_BODIES + _BODIES, start=1)}
OVERRIDES = ["neighbours.source=collaborative", "neighbours.k=2", "train.epochs=1",
             "train.progress=false", "train.backbone.hidden_size=8", "train.backbone.inner_size=8",
             "neighbours.collaborative_dim=8", "profiles.model=embedded:not-needed"]


def test_collaborative_neighbours_need_no_profiles_and_follow_co_occurrence(make_config):
    path = make_config(SEQUENCES, {i: f"Item {i}" for i in range(1, 11)})
    config = load_config(path, OVERRIDES)
    stages = select_stages(config)
    assert stages == ["ingest", "prompts", "neighbours", "train", "evaluate"]
    outcomes = {o.stage: o for o in run_pipeline(config, stages)}
    store = store_for(config)
    fingerprint = outcomes["neighbours"].fingerprint
    items = store.read_table("neighbours", fingerprint, "item_neighbours").sort("item")
    original = dict(store.read_table("ingest", outcomes["ingest"].fingerprint, "items")
                    .select("item", "original_id").iter_rows())
    top = {original[item]: original[neighbours[0]]
           for item, neighbours in items.select("item", "neighbours").iter_rows()}
    assert (top["1"], top["3"], top["5"], top["6"]) == ("3", "1", "6", "5")
    users = store.read_table("neighbours", fingerprint, "user_embeddings")
    norms = np.linalg.norm(np.asarray(users["vector"].to_list()), axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    profiles = store.read_table("neighbours", fingerprint, "user_neighbours")
    owner = dict(users.select("profile", "user").iter_rows())
    for profile, neighbours in profiles.select("profile", "neighbours").iter_rows():
        assert owner[profile] not in {owner[n] for n in neighbours}
    assert store.manifest("neighbours", fingerprint)["stats"]["source"] == "collaborative"
    epochs = store.read_table("train", outcomes["train"].fingerprint, "epochs")
    assert {"loss/cs", "loss/is"} <= set(epochs.columns)
    assert pl.DataFrame(epochs)["loss/cs"].is_finite().all()
