"""Every public dataset's printed ``data.source`` is a valid section for its own files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sracl_core.config import validate_config
from sracl_core.data.public_datasets import REGISTRY


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_source_hint_loads_and_names_only_the_downloaded_files(name: str,
                                                                    tmp_path: Path) -> None:
    spec = REGISTRY[name]
    source = yaml.safe_load(spec.source_hint.format(dest=tmp_path))
    config = validate_config({"dataset": "d", "data": {"source": source}}, source=name,
                             base_dir=tmp_path)
    paths = [value for value in config.data.source.model_dump().values()
             if isinstance(value, Path)]
    downloaded = {remote.name.removesuffix(".zip") for remote in spec.files}  # zips unpack
    assert paths and all(path.parent == tmp_path and path.name in downloaded for path in paths)
    assert all(remote.urls and all(url.startswith("https://") for url in remote.urls)
               for remote in spec.files)
