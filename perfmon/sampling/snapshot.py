"""What the sampler publishes: a sample serialised once, and a process-table scan."""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from typing import Any

GZIP_MIN_BYTES = 1024  # below this, gzip's header overhead eats most of the gain
GZIP_LEVEL = 6


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One published sample, serialised once; requests serve ``body`` as it is."""

    seq: int
    timestamp: float
    data: dict[str, Any]
    body: bytes
    body_gzip: bytes | None
    etag: str

    @property
    def etag_gzip(self) -> str:
        """The entity tag of the gzip-encoded representation."""
        return self.etag + "-gzip"


@dataclass(frozen=True, slots=True)
class ProcessTable:
    """One scan of the process table."""

    scan_seq: int
    sampled_at: float
    processes: list[dict[str, Any]]
    error: str | None = None

    @property
    def count(self) -> int | None:
        """Number of processes seen, or None when the scan failed."""
        return None if self.error else len(self.processes)


def finite_only(value: Any) -> Any:
    """A copy of a JSON-shaped value with NaN and infinities replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_only(v) for v in value]
    return value


def serialise(sample: dict[str, Any], instance_id: str) -> Snapshot:
    """JSON and gzip bytes of a sample, made once; its ETag is ``<instance_id>-<seq>``."""
    try:
        body = json.dumps(sample, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:  # NaN or infinity from a broken sensor: JSON has no such numbers
        sample = finite_only(sample)
        sample["errors"].append({"collector": "sampler",
                                 "message": "a non-finite number was read and published as null"})
        body = json.dumps(sample, separators=(",", ":"), allow_nan=False).encode()
    body_gzip = gzip.compress(body, GZIP_LEVEL, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    if body_gzip is not None and len(body_gzip) >= len(body):
        body_gzip = None
    return Snapshot(seq=sample["seq"], timestamp=sample["timestamp"], data=sample, body=body,
                    body_gzip=body_gzip, etag=f"{instance_id}-{sample['seq']}")
