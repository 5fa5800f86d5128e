"""User-facing errors: a data format error names the file, the line or row, and what was found."""

from __future__ import annotations

from sracl_core.errors import ConfigError, DataFormatError, SraclError


def test_a_data_format_error_starts_with_where_and_cuts_long_input() -> None:
    by_line = DataFormatError("data/x.txt", "two integers", line=7, got="7 a")
    assert str(by_line) == "data/x.txt:7: expected two integers, got '7 a'"
    by_row = DataFormatError("x.parquet", "an item id", row=3)
    assert str(by_row) == "x.parquet: row 3: expected an item id"
    long = DataFormatError("x", "a short line", line=1, got="y" * 500)
    assert str(long).endswith("..." + "'") and len(str(long)) < 200
    assert (by_line.path, by_line.line, by_row.row) == ("data/x.txt", 7, 3)


def test_every_error_the_cli_reports_in_one_line_is_an_sracl_error() -> None:
    assert issubclass(ConfigError, SraclError) and issubclass(DataFormatError, SraclError)


def test_every_sracl_error_survives_the_trip_from_a_grid_worker() -> None:
    """A worker's error reaches the command pickled; one whose __init__ takes more than the
    message failed to unpickle there, which broke the pool and read as a dead worker."""
    import pickle

    from sracl_core.errors import DataFormatError, GridRunsFailed, WorkerDied

    errors = [DataFormatError("f.txt", "an item id", line=2, got="x"), WorkerDied("a: died"),
              GridRunsFailed("g", {"a/seed-1": DataFormatError("f.txt", "an id", row=3)},
                             "g.yaml")]
    for error in errors:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
        assert back.__dict__.keys() == error.__dict__.keys()
    assert pickle.loads(pickle.dumps(errors[0])).line == 2
    assert str(pickle.loads(pickle.dumps(errors[2])).failures["a/seed-1"]) == "f.txt: row 3: " \
        "expected an id"
