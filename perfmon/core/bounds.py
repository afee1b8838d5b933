"""The API's bounds on what a client may ask, declared once: the API enforces them, the dashboard reads them.

Before, each side kept its own copy (the history's ``points`` and ``limit``, the long-poll's
``wait``, the last timestamp a range may name, the CSV's rows), five copies in all, and a
change on one side would have made the dashboard send what the API refuses with a 400. The
API's parameter objects (:mod:`perfmon.api.edge.params`) are built from these numbers, so OpenAPI
says them too; the dashboard's input checks, ranges and reads use the same ones.
"""

from __future__ import annotations

HISTORY_POINTS_MAX = 10_000  # points= of a range read (/api/history?start=): the most buckets an answer holds
HISTORY_POINTS_DEFAULT = 1_000  # points= when a range read does not say
TAIL_LIMIT = 3_600  # limit= of a cursor read: its default, and the most every API takes (more with a store)
WAIT_MAX_SECONDS = 60.0  # wait= of a long-poll (/api/performance, /api/history): the longest hold
LAST_TIMESTAMP = 4_102_444_800.0  # 2100-01-01: start= and end= later than this are typos, not times
PROCESS_LIMIT_MAX = 100  # limit= of /api/processes
