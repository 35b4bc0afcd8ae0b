"""Reading and atomically appending standard-conformant batches."""

from fairwatch.lake.ingest import IngestResult, ingest, read_batch
from fairwatch.lake.store import AppendResult, Lake, batch_hash, table_hash

__all__ = [
    "AppendResult",
    "IngestResult",
    "Lake",
    "batch_hash",
    "ingest",
    "read_batch",
    "table_hash",
]
