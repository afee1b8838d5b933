"""History stores: where published samples are kept for ``/api/history``. Imports only ``core``."""

from perfmon.store.base import HistorySlice, HistoryStore
from perfmon.store.ring import RingStore

__all__ = ["HistorySlice", "HistoryStore", "RingStore"]
