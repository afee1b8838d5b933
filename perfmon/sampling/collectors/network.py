"""Network throughput per interface and in total (loopback left out of the total).

``{"sent_bytes_per_s": 120.0, "recv_bytes_per_s": 310.5, "interfaces": [{"name": "eth0", ...}]}``
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType
from typing import Any

from perfmon.core.rates import CounterRates
from perfmon.sampling.collectors.base import Clock, Note, read_field, round_or_none
from perfmon.sampling.collectors.kernel_files import read_net_counters, readable

# Link state (up, loopback) is a few ioctls per interface, dearer than all the counters: read
# again every 5 s, and at once when an interface appears that it does not cover yet.
STATE_SECONDS = 5.0


class NetworkCollector:
    """Network throughput per interface and in total (loopback excluded from the total)."""

    name = "network"
    section = "network"

    def __init__(self, ps: ModuleType, *, monotonic: Clock = time.monotonic,
                 dev: str | Path | None = None) -> None:
        self._ps = ps
        self._dev = readable(ps, dev)  # /proc/net/dev read directly with the real psutil on Linux
        self._monotonic = monotonic
        self._rates = CounterRates(2)
        self._state: tuple[float, dict[str, Any]] | None = None  # when read, and what

    def collect(self, note: Note) -> dict[str, Any]:
        """Read per-interface counters, and link state when due."""
        # The kernel's counters as they are (node_exporter's too): Linux keeps them in 64 bits, so they
        # do not wrap, and a reset (a driver reloaded) shows as one, skipped by CounterRates. psutil's
        # nowrap=True would hide it by adding the old count, for a fifth of this collector's time.
        if self._dev is not None:
            per_nic: dict[str, Any] = read_net_counters(self._dev)
        else:
            per_nic = self._ps.net_io_counters(pernic=True, nowrap=False) or {}
        now = self._monotonic()
        stats = self._link_state(per_nic, now, note)
        loopback = {name for name in per_nic if _is_loopback(name, stats.get(name))}
        counters = {name: (c.bytes_sent, c.bytes_recv) for name, c in per_nic.items()}
        per_name = self._rates.update(counters, now, note, exclude_from_total=loopback)
        interfaces = []
        for name in sorted(per_nic):
            sent, recv = self._rates.last.get(name, (None, None))
            stat = stats.get(name)
            interfaces.append({
                "name": name,
                "is_up": None if stat is None else bool(stat.isup),
                "is_loopback": name in loopback,
                "sent_bytes_per_s": round_or_none(sent),
                "recv_bytes_per_s": round_or_none(recv),
                **counter_fields(per_nic[name]),
            })
        return {
            "sent_bytes_per_s": round_or_none(per_name[0]),
            "recv_bytes_per_s": round_or_none(per_name[1]),
            "interfaces": interfaces,
        }


    def _link_state(self, per_nic: dict[str, Any], now: float, note: Note) -> dict[str, Any]:
        """psutil's ``net_if_stats``, kept for STATE_SECONDS unless a new interface needs it."""
        kept = self._state
        if kept is not None and now - kept[0] < STATE_SECONDS and all(name in kept[1] for name in per_nic):
            return kept[1]
        messages: list[str] = []
        stats = read_field(messages.append, "interface state", self._ps.net_if_stats, self._ps)
        for message in messages:
            note(message)
        self._state = None if stats is None else (now, stats)  # a failure is tried again next sample
        return stats or {}


COUNTERS = (("sent_bytes_total", "bytes_sent"), ("recv_bytes_total", "bytes_recv"),
            ("sent_packets_total", "packets_sent"), ("recv_packets_total", "packets_recv"),
            ("sent_errors_total", "errout"), ("recv_errors_total", "errin"),
            ("sent_drops_total", "dropout"), ("recv_drops_total", "dropin"))


def counter_fields(counters: Any) -> dict[str, int | None]:
    """An interface's counters since boot, as the kernel keeps them (null where one is missing)."""
    return {key: getattr(counters, attribute, None) for key, attribute in COUNTERS}


def _is_loopback(name: str, stat: Any) -> bool:
    flags = getattr(stat, "flags", "") or ""
    return "loopback" in flags.split(",") or name in ("lo", "lo0")


