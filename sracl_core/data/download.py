"""Download the public datasets the readers understand: resumable, verified, atomic.

Each file is streamed into ``<name>.part``; an interrupted transfer resumes
from the bytes already there with an HTTP ``Range`` request (automatically, up
to ``retries`` times, and again on the next run). The finished file is checked
and only then renamed to its final name, so a file under its final name is
always complete.

Checks, strongest first:

- a checksum recorded in the registry (MovieLens publishes an md5 beside each
  archive; those are the ones recorded here);
- a size recorded in the registry;
- otherwise trust on first use: the server's announced length is checked, and
  the file's sha256 is written to ``SHA256SUMS`` in the destination folder; a
  later run verifies the file against it instead of downloading it again. The
  McAuley lab publishes no checksums for the Amazon files, so they are pinned
  this way (copy the printed sha256 into the registry to pin it for everyone).

A checksum mismatch deletes the ``.part`` file (resuming a corrupt prefix would
never succeed) and raises :class:`DownloadError`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

import httpx
from tqdm import tqdm

from sracl_core.atomic import write_text
from sracl_core.data.public_datasets import (
    REGISTRY,
    DatasetSpec,
    RemoteFile,
)
from sracl_core.errors import SraclError

log = logging.getLogger(__name__)

SUMS_FILE = "SHA256SUMS"


class DownloadError(SraclError):
    """A dataset file could not be fetched or did not verify."""




def download_dataset(name: str, dest: Path, *, registry: dict[str, DatasetSpec] | None = None,
                     retries: int = 3, backoff_s: float = 2.0,
                     client: httpx.Client | None = None) -> list[Path]:
    """Fetch every file of a registered dataset into ``dest``; returns the final paths."""
    registry = REGISTRY if registry is None else registry
    spec = registry.get(name.lower())
    if spec is None:
        raise DownloadError(f"unknown dataset {name!r}; known: {', '.join(sorted(registry))}")
    dest.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    client = client or httpx.Client(follow_redirects=True,
                                    timeout=httpx.Timeout(30.0, read=120.0))
    try:
        paths = []
        for remote in spec.files:
            path = download_file(remote, dest, client=client, retries=retries,
                                 backoff_s=backoff_s)
            if remote.unpack:
                unpack_zip(path, dest)
            paths.append(path)
        return paths
    finally:
        if own_client:
            client.close()


def download_file(remote: RemoteFile, dest: Path, *, client: httpx.Client, retries: int = 3,
                  backoff_s: float = 2.0) -> Path:
    """One file: skip it when already verified, else resume or start its ``.part``."""
    final = dest / remote.name
    part = dest / f"{remote.name}.part"
    pinned = _read_sums(dest).get(remote.name)
    if final.is_file():
        _verify(final, remote, pinned, delete_on_mismatch=False)
        log.info("%s already downloaded and verified", final)
        return final
    for attempt in range(retries + 1):
        try:
            _fetch(remote, part, client)
            break
        except _Interrupted as interruption:
            if attempt == retries:
                raise DownloadError(
                    f"{remote.name}: transfer interrupted ({interruption}); the "
                    f"{part.stat().st_size if part.exists() else 0} bytes received are kept "
                    f"in {part} and the next run resumes from there"
                ) from None
            log.warning("%s: %s; resuming (attempt %d of %d)", remote.name, interruption,
                        attempt + 2, retries + 1)
            time.sleep(backoff_s * (attempt + 1))
    digest = _verify(part, remote, pinned, delete_on_mismatch=True)
    os.replace(part, final)
    if remote.md5 is None and remote.sha256 is None and remote.size is None:
        _record_sum(dest, remote.name, digest)
        log.info("%s: no published checksum; recorded sha256 %s in %s", remote.name, digest,
                 dest / SUMS_FILE)
    return final


class _Interrupted(Exception):
    """A transfer stopped early for a reason that a retry may fix."""


def _fetch(remote: RemoteFile, part: Path, client: httpx.Client) -> None:
    """Stream the file into ``part`` from the first mirror that serves it, resuming if possible.

    Server errors (5xx) and lost connections may heal, so they end in
    :class:`_Interrupted` (retried); client errors (4xx) on every mirror do not.
    """
    transient: list[str] = []
    failures: list[str] = []
    for url in remote.urls:
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code == 416 and offset:
                    if _range_total(response) == offset:
                        return
                    part.unlink()
                    transient.append(f"{url} refused to resume at byte {offset}")
                    continue
                if response.status_code >= 400:
                    problem = f"HTTP {response.status_code} {response.reason_phrase} from {url}"
                    (transient if response.status_code >= 500 else failures).append(problem)
                    continue
                _write_body(response, part, offset, remote.name)
                return
        except httpx.TransportError as error:
            transient.append(f"{type(error).__name__} from {url}: {str(error) or 'no detail'}")
    if transient:
        raise _Interrupted("; ".join(transient + failures))
    raise DownloadError(f"{remote.name}: could not download: {'; '.join(failures)}")


def _write_body(response: httpx.Response, part: Path, offset: int, name: str) -> None:
    if response.status_code == 206:
        start = _range_start(response)
        if start != offset:
            raise _Interrupted(f"server resumed at byte {start}, not {offset}")
        mode = "ab"
    else:  # 200: the server ignored or was not asked for a range; start over
        offset, mode = 0, "wb"
    total = _range_total(response) if response.status_code == 206 else None
    if total is None and "content-length" in response.headers:
        total = offset + int(response.headers["content-length"])
    with open(part, mode) as sink, tqdm(total=total, initial=offset, unit="B",
                                         unit_scale=True, unit_divisor=1024, desc=name,
                                         disable=None, leave=False) as bar:
        for chunk in response.iter_raw():
            sink.write(chunk)
            bar.update(len(chunk))
    received = part.stat().st_size
    if total is not None and received != total:
        raise _Interrupted(f"connection closed at byte {received} of {total}")


def _verify(path: Path, remote: RemoteFile, pinned: str | None, *,
            delete_on_mismatch: bool) -> str:
    """Check size and checksums; returns the sha256. A bad ``.part`` is deleted."""
    size = path.stat().st_size
    sha256, md5 = _digests(path)
    problems = []
    if remote.size is not None and size != remote.size:
        problems.append(f"size is {size} bytes, expected {remote.size}")
    if remote.md5 is not None and md5 != remote.md5:
        problems.append(f"md5 is {md5}, expected {remote.md5}")
    for expected, source in ((remote.sha256, "the registry"), (pinned, SUMS_FILE)):
        if expected is not None and sha256 != expected:
            problems.append(f"sha256 is {sha256}, expected {expected} (from {source})")
    if problems:
        if delete_on_mismatch:
            path.unlink()
            action = "deleted it; run again to download it afresh"
        else:
            action = "delete it (and its SHA256SUMS line if the source changed) to re-download"
        raise DownloadError(f"{path}: checksum mismatch: {'; '.join(problems)}; {action}")
    return sha256


def unpack_zip(archive: Path, dest: Path) -> list[Path]:
    """Extract an archive beside it, refusing members that would land outside ``dest``.

    Extraction goes to a temporary folder first and is moved into place, so an
    interrupted unzip never leaves a half-filled dataset folder behind.
    """
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as error:
        raise DownloadError(f"{archive}: not a zip archive ({error})") from None
    with bundle:
        names = bundle.namelist()
        tops = sorted({name.split("/", 1)[0] for name in names if name.strip("/")})
        targets = [dest / top for top in tops]
        if all(target.exists() for target in targets):
            return targets
        root = dest.resolve()
        for name in names:
            if not (root / name).resolve().is_relative_to(root):
                raise DownloadError(f"{archive}: member {name!r} would extract outside {dest}")
        staging = dest / f".{archive.name}.extract"
        shutil.rmtree(staging, ignore_errors=True)
        bundle.extractall(staging)
    for top, target in zip(tops, targets, strict=True):
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(staging / top, target)
    staging.rmdir()
    return targets


def _digests(path: Path) -> tuple[str, str]:
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(block)
            md5.update(block)
    return sha256.hexdigest(), md5.hexdigest()


def _range_start(response: httpx.Response) -> int | None:
    """``Content-Range: bytes START-END/TOTAL`` -> START."""
    value = response.headers.get("content-range", "")
    try:
        return int(value.split(" ", 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return None


def _range_total(response: httpx.Response) -> int | None:
    """``Content-Range: bytes .../TOTAL`` -> TOTAL (None when absent or ``*``)."""
    total = response.headers.get("content-range", "").rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _read_sums(dest: Path) -> dict[str, str]:
    sums = dest / SUMS_FILE
    if not sums.is_file():
        return {}
    entries = {}
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            entries[name] = digest
    return entries


def _record_sum(dest: Path, name: str, digest: str) -> None:
    entries = _read_sums(dest)
    entries[name] = digest
    _write_lines(dest / SUMS_FILE, (f"{d}  {n}" for n, d in sorted(entries.items())))


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    write_text(path, "".join(f"{line}\n" for line in lines))
