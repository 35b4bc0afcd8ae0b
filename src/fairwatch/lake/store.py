"""A lake: a folder of standard tables, appended to atomically.

Two kinds of folder are lakes:

* a *raw* lake, any folder laid out as the reporting standard says
  (``<table>.parquet``, ``<table>/*.parquet``, ``<table>.csv``, ``<table>.jsonl``);
  fairwatch reads it but never writes to it;
* a *managed* lake, made by ``fairwatch ingest``: Parquet parts under
  ``<lake>/<table>/`` and a manifest ``<lake>/_manifest.json`` that lists every
  committed batch, its content hash and its files. Only files listed in the manifest
  are part of the lake.

Appending a batch is a small transaction (the protocol is in :meth:`Lake.append`):
files are staged under ``_txn/<batch>/``, the manifest is replaced by an atomic rename
(the commit point), then staged files are moved into place. :meth:`Lake.recover`
rolls an interrupted append back (before the commit point) or forward (after it), so
a crash at any moment, ``kill -9`` included, leaves either the lake as it was or the
whole batch in it, never part of a batch. A lock file serialises writers.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fairwatch.errors import DataError, UsageError

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
TXN_DIR = "_txn"
LOCK = "_lock"
FORMAT = "fairwatch-lake"
FORMAT_VERSION = 1
ROWS_PER_FILE = 2_000_000


def _failpoint(name: str) -> None:
    """Crash here (SIGKILL) when ``FAIRWATCH_FAILPOINT`` names this point.

    Used by the crash-consistency tests to stop an ingest at each step of the commit
    protocol; a no-op otherwise.
    """
    if os.environ.get("FAIRWATCH_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def table_hash(table: pa.Table) -> str:
    """SHA-256 of a table's content, independent of the file format it came in.

    Hashes the Arrow IPC stream of the table with its chunks combined, so the same rows
    and types give the same hash whether they were read from Parquet, CSV or JSONL.
    """
    sink = pa.BufferOutputStream()
    combined = table.combine_chunks()
    with pa.ipc.new_stream(sink, combined.schema) as writer:
        writer.write_table(combined, max_chunksize=1 << 20)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def batch_hash(tables: Mapping[str, pa.Table]) -> str:
    """The content hash of a batch: the hashes of its tables, by table name."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(f"{name}:{table_hash(tables[name])}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class AppendResult:
    """What an append did."""

    batch_id: str
    content_hash: str
    rows: dict[str, int]
    already_present: bool


class Lake:
    """A lake folder; see the module docstring for the two kinds."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # -- reading ---------------------------------------------------------------------

    @property
    def managed(self) -> bool:
        return (self.path / MANIFEST).exists()

    def manifest(self) -> dict[str, Any]:
        """The committed manifest (an empty one for a new or raw lake)."""
        path = self.path / MANIFEST
        if not path.exists():
            return {"format": FORMAT, "version": FORMAT_VERSION, "batches": [], "tables": {}}
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise DataError(f"{path}: not a fairwatch lake manifest")
        return data

    def table_files(self) -> dict[str, list[Path]]:
        """The files of every table present, per the manifest or the standard's layout."""
        if not self.path.is_dir():
            raise UsageError(f"lake {self.path} does not exist or is not a folder")
        if self.managed:
            self.recover()
            tables: dict[str, list[str]] = self.manifest()["tables"]
            return {name: [self.path / f for f in files] for name, files in tables.items() if files}
        from fairwatch.contract import discover

        return discover(self.path)

    def batches(self) -> list[dict[str, Any]]:
        return list(self.manifest()["batches"])

    # -- writing ---------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the lake's writer lock (blocks until other writers are done)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / LOCK, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def recover(self) -> None:
        """Finish or undo an append interrupted by a crash (idempotent).

        A transaction whose batch is in the manifest is rolled forward (its remaining
        staged files moved into place); any other is rolled back (its staging deleted:
        nothing of it was ever visible).
        """
        txn_root = self.path / TXN_DIR
        if not txn_root.exists():
            return
        committed = {b["batch_id"] for b in self.manifest()["batches"]}
        for txn in sorted(p for p in txn_root.iterdir() if p.is_dir()):
            if txn.name in committed:
                self._move_into_place(txn)
                log.warning("lake %s: rolled forward interrupted batch %s", self.path, txn.name)
            else:
                log.warning("lake %s: rolled back interrupted batch %s", self.path, txn.name)
            shutil.rmtree(txn)
        for leftover in txn_root.glob("*.tmp"):
            leftover.unlink()
        if not any(txn_root.iterdir()):
            txn_root.rmdir()
        tmp = self.path / (MANIFEST + ".tmp")
        if tmp.exists():
            tmp.unlink()

    def _move_into_place(self, txn: Path) -> None:
        for staged in sorted(txn.glob("*/*.parquet")):
            target = self.path / staged.parent.name / staged.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            _fsync_dir(target.parent)

    def contains(self, content_hash: str) -> bool:
        return any(b["content_hash"] == content_hash for b in self.manifest()["batches"])

    def append(
        self, tables: Mapping[str, pa.Table], *, content_hash: str, source: str
    ) -> AppendResult:
        """Append a validated batch atomically. Call with :meth:`lock` held.

        Protocol: (1) write every part under ``_txn/<batch>/<table>/`` and fsync;
        (2) write the new manifest to a temporary file, fsync, and ``os.replace`` it
        over ``_manifest.json`` (the commit point), fsync the folder; (3) move the parts
        into ``<table>/``; (4) delete the transaction folder. :meth:`recover` handles a
        crash between any two steps.
        """
        if (
            self.path.exists()
            and not self.managed
            and any(p for p in self.path.iterdir() if not p.name.startswith((".", "_")))
        ):
            raise UsageError(
                f"{self.path} holds files but no {MANIFEST}: ingest into an empty folder or an "
                "existing managed lake (a raw lake can be scanned directly)"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.recover()
        rows = {name: t.num_rows for name, t in tables.items()}
        if self.contains(content_hash):
            batch = next(b for b in self.manifest()["batches"] if b["content_hash"] == content_hash)
            return AppendResult(batch["batch_id"], content_hash, rows, already_present=True)

        manifest = self.manifest()
        batch_id = f"b{len(manifest['batches']) + 1:06d}-{content_hash[:12]}"
        txn = self.path / TXN_DIR / batch_id
        if txn.exists():
            shutil.rmtree(txn)
        files: dict[str, list[str]] = {}
        for name in sorted(tables):
            table = tables[name]
            folder = txn / name
            folder.mkdir(parents=True, exist_ok=True)
            files[name] = []
            for i, start in enumerate(range(0, max(table.num_rows, 1), ROWS_PER_FILE)):
                part = table.slice(start, ROWS_PER_FILE)
                fname = f"part-{batch_id}-{i:04d}.parquet"
                pq.write_table(part, folder / fname, compression="zstd")
                _fsync_file(folder / fname)
                files[name].append(f"{name}/{fname}")
                _failpoint("staged_part")
            _fsync_dir(folder)
        _fsync_dir(txn)
        _failpoint("staged")

        manifest["batches"].append(
            {
                "batch_id": batch_id,
                "content_hash": content_hash,
                "source": source,
                "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "rows": rows,
                "files": files,
            }
        )
        for name, names in files.items():
            manifest["tables"].setdefault(name, []).extend(names)
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        _fsync_file(tmp)
        _failpoint("manifest_written")
        os.replace(tmp, self.path / MANIFEST)  # commit point
        _fsync_dir(self.path)
        _failpoint("committed")

        self._move_into_place(txn)
        _failpoint("moved")
        shutil.rmtree(txn)
        txn_root = self.path / TXN_DIR
        if txn_root.exists() and not any(txn_root.iterdir()):
            txn_root.rmdir()
        log.info("lake %s: committed batch %s (%s)", self.path, batch_id, rows)
        return AppendResult(batch_id, content_hash, rows, already_present=False)
