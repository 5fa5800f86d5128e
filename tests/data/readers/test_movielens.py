"""MovieLens 100K and 1M, told apart by their files; latin-1 titles; genres as categories."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from sracl_core.data.config import MovieLensSource, TableSource
from sracl_core.data.readers import read_source
from sracl_core.errors import DataFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "movielens"
ML_100K, ML_1M = FIXTURES / "ml-100k", FIXTURES / "ml-1m"
FLAGS_NONE = "|".join(["0"] * 19)
ITEM_PREFIX = "9|Some Film (1999)|01-Jan-1999||http://example.org"


def copy_of(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def test_100k_ratings_in_file_order_with_line_positions():
    raw = read_source(MovieLensSource(root=ML_100K))
    assert raw.interactions.rows() == [
        ("196", "1", 881250949, 0),
        ("186", "2", 891717742, 1),
        ("196", "3", 881251955, 2),
        ("22", "1", 878887116, 3),
        ("196", "2", 881250949, 4),
        ("186", "1", 891717700, 5),
    ]
    assert raw.interactions_path == ML_100K / "u.data"
    assert raw.items_path == ML_100K / "u.item"


def test_min_rating_keeps_ratings_at_or_above_it():
    raw = read_source(MovieLensSource(root=ML_100K, min_rating=3))
    # Line 3 (rating 1) and line 6 (rating 2) go; the rating-3 line stays.
    assert raw.interactions["source_order"].to_list() == [0, 1, 3, 4]


def test_100k_items_decode_latin1_and_name_genre_flags():
    items = read_source(MovieLensSource(root=ML_100K)).items
    assert items is not None
    assert items.select("item_id", "title", "categories").rows() == [
        ("1", "Toy Story (1995)", "Animation, Children's, Comedy"),
        ("2", "GoldenEye (1995)", "Action, Adventure, Thriller"),
        ("3", "Misérables, Les (1995)", "Drama, Musical, War"),
        ("4", "Mystery Film (1996)", None),
    ]
    assert items.select("brand", "description", "price").null_count().row(0) == (4, 4, 4)


def test_100k_genre_names_come_from_u_genre(tmp_path: Path):
    root = copy_of(ML_100K, tmp_path)
    genres = (root / "u.genre").read_text().replace("Action|1", "Shoot-out|1")
    (root / "u.genre").write_text(genres)
    items = read_source(MovieLensSource(root=root)).items
    assert items is not None and items["categories"][1] == "Shoot-out, Adventure, Thriller"


def test_100k_without_u_genre_uses_the_published_list(tmp_path: Path):
    root = copy_of(ML_100K, tmp_path)
    (root / "u.genre").unlink()
    with_file = read_source(MovieLensSource(root=ML_100K)).items
    without = read_source(MovieLensSource(root=root)).items
    assert with_file is not None and without is not None and without.equals(with_file)


def test_1m_ratings_and_movies():
    raw = read_source(MovieLensSource(root=ML_1M, min_rating=3))
    assert raw.interactions.rows() == [
        ("1", "1193", 978300760, 0),
        ("1", "661", 978302109, 1),
        ("1", "914", 978301968, 3),
        ("2", "73", 978298413, 4),
    ]
    assert raw.items is not None
    assert raw.items.select("item_id", "title", "categories").rows() == [
        ("661", "James and the Giant Peach (1996)", "Animation, Children's, Musical"),
        ("914", "My Fair Lady (1964)", "Musical, Romance"),
        ("1193", "One Flew Over the Cuckoo's Nest (1975)", "Drama"),
        ("73", "Misérables, Les (1995)", "Drama, Musical"),
    ]
    assert raw.interactions_path == ML_1M / "ratings.dat"


def test_folder_without_movielens_files_lists_what_it_found(tmp_path: Path):
    (tmp_path / "ratings.csv").write_text("userId,movieId\n")
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=tmp_path))
    message = str(caught.value)
    assert str(tmp_path) in message and "u.data" in message and "ratings.dat" in message
    assert "ratings.csv" in message
    assert "use format: table with a column mapping" in message


def test_wrong_layout_hint_is_a_table_source_that_reads_the_folder(tmp_path: Path):
    """ml-latest style CSVs: the suggested ``data.source`` can be pasted as it is."""
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,4.0,5\n")
    (tmp_path / "movies.csv").write_text('movieId,title,genres\n10,"Heat, The (1995)",Crime\n')
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=tmp_path))
    message = str(caught.value)
    suggested = message[message.index("data.source: ") + len("data.source: "):
                        message.rindex(", got ")]
    raw = read_source(TableSource.model_validate(yaml.safe_load(suggested)))
    assert raw.interactions.rows() == [("1", "10", 5, 0)]
    assert raw.items is not None
    assert raw.items.select("item_id", "title", "categories").rows() == [
        ("10", "Heat, The (1995)", "Crime")]


def test_missing_folder_says_so(tmp_path: Path):
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=tmp_path / "ml-100k"))
    assert str(caught.value).endswith("got 'no such folder'")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("196\t1\t3", "4 '\\t'-separated fields"),
        ("196\t1\t3\t881250949\textra", "4 '\\t'-separated fields"),
        ("u196\t1\t3\t881250949", "a non-negative integer user id"),
        ("196\ttt0114709\t3\t881250949", "a non-negative integer movie id"),
        ("196\t1\tfive\t881250949", "a numeric rating"),
        ("196\t1\tnan\t881250949", "a numeric rating"),
        ("196\t1\t3\t99999999999999999999", "a Unix timestamp that fits in 64 bits"),
        ("196\t1\t3\t1997-12-04", "a non-negative integer Unix timestamp"),
    ],
)
def test_bad_u_data_line(tmp_path: Path, line: str, expected: str):
    root = copy_of(ML_100K, tmp_path)
    with open(root / "u.data", "a") as handle:
        handle.write(line + "\n")
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=root))
    assert f"{root / 'u.data'}:7:" in str(caught.value)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"{ITEM_PREFIX}|{FLAGS_NONE}|0", "24 '|'-separated fields"),
        ("9|Some Film (1999)", "24 '|'-separated fields"),
        (f"{ITEM_PREFIX}|{FLAGS_NONE[:-1]}2", "genre flags that are 0 or 1"),
        (f"x9{ITEM_PREFIX[1:]}|{FLAGS_NONE}", "a non-negative integer movie id"),
    ],
)
def test_bad_u_item_line(tmp_path: Path, line: str, expected: str):
    root = copy_of(ML_100K, tmp_path)
    with open(root / "u.item", "a", encoding="latin-1") as handle:
        handle.write(line + "\n")
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=root))
    assert f"{root / 'u.item'}:5:" in str(caught.value)
    assert expected in str(caught.value)


@pytest.mark.parametrize("index", ["one", "\u00b2"])  # '²' is a digit to str.isdigit
def test_bad_u_genre_line(tmp_path: Path, index: str):
    root = copy_of(ML_100K, tmp_path)
    (root / "u.genre").write_text(f"unknown|0\nAction|{index}\n", encoding="latin-1")
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=root))
    assert f"{root / 'u.genre'}:2:" in str(caught.value)
    assert "'name|index' with an integer index" in str(caught.value)


def test_a_movie_file_saved_as_utf8_is_read_as_utf8(tmp_path: Path):
    root = copy_of(ML_1M, tmp_path)
    movies = (root / "movies.dat").read_bytes().decode("latin-1")
    (root / "movies.dat").write_text(movies + "7::Café Crème (1999)::Comedy\n",
                                     encoding="utf-8")
    items = read_source(MovieLensSource(root=root)).items
    assert items is not None
    assert items.filter(pl.col("item_id") == "7")["title"].to_list() == ["Café Crème (1999)"]


def test_a_min_rating_that_keeps_nothing_says_so(tmp_path: Path):
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=ML_100K, min_rating=6))
    assert "ratings >= data.source.min_rating (6.0)" in str(caught.value)
    assert "got 'none among its 6 ratings'" in str(caught.value)


@pytest.mark.parametrize("name", ["u.data", "ratings.dat"])
def test_a_ratings_path_that_is_a_folder_is_named(tmp_path: Path, name: str):
    (tmp_path / name).mkdir()
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=tmp_path))
    assert str(caught.value).startswith(f"{tmp_path / name}: expected a ratings file")


def test_a_root_that_is_a_file_says_so(tmp_path: Path):
    (tmp_path / "ml.zip").write_bytes(b"PK")
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=tmp_path / "ml.zip"))
    assert str(caught.value).endswith("got 'a file'")


def test_u_genre_with_a_gap_in_its_indices(tmp_path: Path):
    root = copy_of(ML_100K, tmp_path)
    (root / "u.genre").write_text("unknown|0\nAction|2\n")
    with pytest.raises(DataFormatError, match=r"genre indices 0\.\.1 without gaps") as caught:
        read_source(MovieLensSource(root=root))
    assert str(root / "u.genre") in str(caught.value)


@pytest.mark.parametrize(
    ("file", "line", "expected"),
    [
        ("ratings.dat", "3::1193::5", "4 '::'-separated fields"),
        ("ratings.dat", "3::1193::5::soon", "a non-negative integer Unix timestamp"),
        ("ratings.dat", "three::1193::5::978300760", "a non-negative integer user id"),
        ("movies.dat", "5::Father of the Bride Part II (1995)", "3 '::'-separated fields"),
        ("movies.dat", "M5::Father of the Bride Part II (1995)::Comedy", "integer movie id"),
    ],
)
def test_bad_1m_line(tmp_path: Path, file: str, line: str, expected: str):
    root = copy_of(ML_1M, tmp_path)
    path = root / file
    n_lines = len(path.read_bytes().splitlines())
    with open(path, "a", encoding="latin-1") as handle:
        handle.write(line + "\n")
    with pytest.raises(DataFormatError) as caught:
        read_source(MovieLensSource(root=root))
    assert f"{path}:{n_lines + 1}:" in str(caught.value)
    assert expected in str(caught.value)


def test_yaml_config_ingests_a_movielens_folder(tmp_path: Path):
    from sracl_core.artifacts import ArtifactStore
    from sracl_core.config import load_config
    from sracl_core.stages.runner import run_stage

    root = copy_of(ML_1M, tmp_path / "data")
    with (root / "ratings.dat").open("a") as ratings:  # a 4th rating: one training sample
        ratings.write("1::1193::4::978303000\n")
    config_path = tmp_path / "movielens.yaml"
    config_path.write_text(
        "dataset: ml1m\ncache_root: cache\n"
        "data:\n  source:\n    format: movielens\n    root: data/ml-1m\n    min_rating: 3\n"
        "  k_core: 1\n"
    )
    config = load_config(config_path)
    assert config.data.source.root == root
    outcome = run_stage(config, "ingest")
    store = ArtifactStore(config.cache_root, config.dataset)
    items = store.read_table("ingest", outcome.fingerprint, "items")
    # User 2 keeps one rating >= 3 and is dropped. Items are numbered by first appearance
    # in the file; the sequence is in time order (914 was rated before 661).
    assert items.select("item", "original_id", "title").rows() == [
        (1, "1193", "One Flew Over the Cuckoo's Nest (1975)"),
        (2, "661", "James and the Giant Peach (1996)"),
        (3, "914", "My Fair Lady (1964)"),
    ]
    sequences = store.read_table("ingest", outcome.fingerprint, "sequences")
    assert sequences.rows() == [(1, [1, 3], 2, 1)]
