"""``sracl data download``: resume with Range, checksums, atomic rename, unzip, HTTP errors.

Everything runs against a loopback server on 127.0.0.1 that serves the
committed fixtures and can cut a transfer short on purpose.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sracl_core.data.download import (
    REGISTRY,
    SUMS_FILE,
    DatasetSpec,
    DownloadError,
    RemoteFile,
    download_dataset,
    unpack_zip,
)

pytestmark = pytest.mark.network_loopback

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAYLOAD = (FIXTURES / "amazon2014" / "meta_Beauty.json.gz").read_bytes()
ML_100K = FIXTURES / "movielens" / "ml-100k"


def ml_zip() -> bytes:
    """An archive laid out like ml-100k.zip: one ``ml-100k/`` folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in sorted(ML_100K.iterdir()):
            bundle.write(path, f"ml-100k/{path.name}")
    return buffer.getvalue()


@dataclass
class Server:
    base: str
    files: dict[str, bytes]
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    cut_after: list[int] = field(default_factory=list)
    """Byte counts at which the next responses hang up, one per response."""


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(base="", files={"/meta.json.gz": PAYLOAD, "/ml-100k.zip": ml_zip()})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Range")))
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            start = 0
            requested = self.headers.get("Range")
            if requested:
                start = int(requested.removeprefix("bytes=").rstrip("-"))
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            rest = body[start:]
            self.send_header("Content-Length", str(len(rest)))
            self.end_headers()
            if state.cut_after:
                rest = rest[:state.cut_after.pop(0)]
            self.wfile.write(rest)
            self.wfile.flush()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def registry(server: Server, *files: RemoteFile) -> dict[str, DatasetSpec]:
    return {"fixture": DatasetSpec("fixture", "loopback fixture", files)}


def remote(server: Server, path: str = "/meta.json.gz", **checks: object) -> RemoteFile:
    return RemoteFile(path.lstrip("/"), (f"{server.base}{path}",), **checks)  # type: ignore[arg-type]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_verified_download_lands_atomically(server: Server, tmp_path: Path):
    spec = remote(server, sha256=sha256(PAYLOAD))
    [path] = download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert path == tmp_path / "meta.json.gz" and path.read_bytes() == PAYLOAD
    assert not (tmp_path / "meta.json.gz.part").exists()
    assert server.requests == [("/meta.json.gz", None)]


def test_interrupted_transfer_resumes_with_range_on_the_next_run(server: Server,
                                                                  tmp_path: Path):
    spec = remote(server, md5=hashlib.md5(PAYLOAD).hexdigest())
    server.cut_after = [100]
    with pytest.raises(DownloadError, match="next run resumes") as caught:
        download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    part = tmp_path / "meta.json.gz.part"
    assert part.read_bytes() == PAYLOAD[:100] and str(part) in str(caught.value)
    assert not (tmp_path / "meta.json.gz").exists()

    download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert server.requests[-1] == ("/meta.json.gz", "bytes=100-")
    assert (tmp_path / "meta.json.gz").read_bytes() == PAYLOAD
    assert not part.exists()


def test_retries_resume_within_one_run(server: Server, tmp_path: Path):
    spec = remote(server, sha256=sha256(PAYLOAD))
    server.cut_after = [50, 80]
    download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=2,
                     backoff_s=0)
    assert [r for _, r in server.requests] == [None, "bytes=50-", "bytes=130-"]
    assert (tmp_path / "meta.json.gz").read_bytes() == PAYLOAD


def test_complete_part_answered_with_416_is_finished(server: Server, tmp_path: Path):
    (tmp_path / "meta.json.gz.part").write_bytes(PAYLOAD)
    spec = remote(server, sha256=sha256(PAYLOAD))
    download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert server.requests == [("/meta.json.gz", f"bytes={len(PAYLOAD)}-")]
    assert (tmp_path / "meta.json.gz").read_bytes() == PAYLOAD


def test_checksum_mismatch_deletes_the_part_and_names_both_digests(server: Server,
                                                                   tmp_path: Path):
    wrong = "0" * 64
    spec = remote(server, sha256=wrong)
    with pytest.raises(DownloadError) as caught:
        download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    message = str(caught.value)
    assert "checksum mismatch" in message and "meta.json.gz" in message
    assert f"sha256 is {sha256(PAYLOAD)}, expected {wrong}" in message
    assert list(tmp_path.iterdir()) == []


def test_size_mismatch_is_a_checksum_failure(server: Server, tmp_path: Path):
    spec = remote(server, size=len(PAYLOAD) + 1)
    with pytest.raises(DownloadError, match=f"size is {len(PAYLOAD)} bytes, expected"):
        download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)


def test_http_404_names_the_status_and_url(server: Server, tmp_path: Path):
    spec = remote(server, "/missing.json.gz")
    with pytest.raises(DownloadError) as caught:
        download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert f"HTTP 404 Not Found from {server.base}/missing.json.gz" in str(caught.value)
    assert server.requests == [("/missing.json.gz", None)]


def test_second_mirror_is_used_when_the_first_is_gone(server: Server, tmp_path: Path):
    spec = RemoteFile("meta.json.gz", (f"{server.base}/gone", f"{server.base}/meta.json.gz"),
                      sha256=sha256(PAYLOAD))
    download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert [path for path, _ in server.requests] == ["/gone", "/meta.json.gz"]


def test_unpinned_file_is_recorded_then_verified(server: Server, tmp_path: Path):
    spec = remote(server)
    download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert (tmp_path / SUMS_FILE).read_text() == f"{sha256(PAYLOAD)}  meta.json.gz\n"
    download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert len(server.requests) == 1  # verified against SHA256SUMS, not fetched again
    (tmp_path / "meta.json.gz").write_bytes(b"tampered")
    with pytest.raises(DownloadError, match="from SHA256SUMS"):
        download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)


def test_movielens_zip_is_unpacked_into_its_folder(server: Server, tmp_path: Path):
    archive = server.files["/ml-100k.zip"]
    spec = remote(server, "/ml-100k.zip", md5=hashlib.md5(archive).hexdigest(), unpack=True)
    download_dataset("fixture", tmp_path, registry=registry(server, spec), retries=0)
    assert (tmp_path / "ml-100k" / "u.item").read_bytes() == (ML_100K / "u.item").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ml-100k", "ml-100k.zip"]


def test_zip_members_outside_the_destination_are_refused(tmp_path: Path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../escaped.txt", "x")
    with pytest.raises(DownloadError, match="would extract outside"):
        unpack_zip(archive, tmp_path / "dest")
    assert not (tmp_path / "escaped.txt").exists()


def test_unknown_dataset_lists_the_known_ones(tmp_path: Path):
    with pytest.raises(DownloadError) as caught:
        download_dataset("movielens-99m", tmp_path)
    assert "movielens-100k" in str(caught.value) and "amazon2014-beauty" in str(caught.value)


def test_registry_covers_the_papers_datasets_with_published_checksums():
    assert REGISTRY["movielens-100k"].files[0].md5 == "0e33842e24a9c977be4e0107933c0723"
    assert REGISTRY["movielens-1m"].files[0].md5 == "c4d9eecfca2ab87c1945afe126590906"
    beauty = [f.name for f in REGISTRY["amazon2014-beauty"].files]
    assert beauty == ["reviews_Beauty_5.json.gz", "meta_Beauty.json.gz"]
    assert REGISTRY["amazon2023-all-beauty"].files[0].urls[0].endswith(
        "/raw/review_categories/All_Beauty.jsonl.gz")


def test_cli_downloads_and_prints_the_source_to_configure(server: Server, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    from flows import cli

    spec = DatasetSpec("fixture", "loopback", (remote(server, sha256=sha256(PAYLOAD)),),
                       "format: amazon2014\nmeta: {dest}/meta.json.gz")
    monkeypatch.setattr("sracl_core.data.download.REGISTRY", {"fixture": spec})
    result = CliRunner().invoke(cli.app, ["data", "download", "fixture", "--dest",
                                          str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "meta.json.gz").read_bytes() == PAYLOAD
    assert f"meta: {tmp_path}/meta.json.gz" in result.output

    missing = CliRunner().invoke(cli.app, ["data", "download", "nope", "--dest", str(tmp_path)])
    assert missing.exit_code == 1 and "unknown dataset 'nope'" in missing.output
