from pathlib import Path

from sracl_core.config_base import StrictModel, fingerprint_payload, path_signature, runtime_field


class Section(StrictModel):
    k: int = 5
    batch_size: int = runtime_field(64, "speed only")
    source: Path = Path("x")


def test_runtime_fields_are_left_out_of_the_fingerprint(tmp_path: Path):
    data = tmp_path / "x"
    data.write_text("hello")
    payload = fingerprint_payload(Section(source=data, batch_size=8))
    assert set(payload) == {"k", "source"}
    assert fingerprint_payload(Section(source=data, batch_size=8)) == fingerprint_payload(
        Section(source=data, batch_size=512))


def test_paths_are_identified_by_content_not_location(tmp_path: Path):
    first, second = tmp_path / "a.txt", tmp_path / "b" / "a.txt"
    second.parent.mkdir()
    first.write_text("same bytes")
    second.write_text("same bytes")
    assert path_signature(first) == path_signature(second)
    second.write_text("other bytes")
    assert path_signature(first) != path_signature(second)
    assert path_signature(tmp_path / "absent") == "missing:absent"


def test_folder_signature_changes_with_any_file(tmp_path: Path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "u.data").write_text("1\t2\t5\t0\n")
    before = path_signature(tmp_path / "d")
    (tmp_path / "d" / "u.item").write_text("2|Movie|")
    assert path_signature(tmp_path / "d") != before
