#!/usr/bin/env python3
"""What evaluating the alerts costs per sample: the engine over 1,000 rule instances (issue 18).

A sample with ``--rows`` filesystems (the disks group's rows, as the API publishes them) is fed to
the alert book ``--samples`` times, each value moving (a tenth of the rows cross the trigger each
sample, and back), so instances go pending, fire and resolve as they would on a busy fleet of
mounts. Three rule sets: one plain rule (an instance per row), the same with ``for`` and
``repeat``, and one with ``predict`` (the linear trend kept per row). Reported: microseconds
per rule instance per sample (median over the samples, and the 99th percentile), against the
target of at most 20 us with 1,000 instances.

    python bench/bench_alerts.py [--rows 1000] [--samples 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from perfmon.alerts.book import AlertBook
from perfmon.alerts.rules import parse

TARGET_US = 20.0
RULES = {
    "plain": "  - {name: Full, select: 'disks[fstype!=tmpfs].percent', above: 90, clear: 85}\n",
    "for and repeat": "  - {name: Full, select: 'disks[fstype!=tmpfs].percent', above: 90, clear: 85,\n"
                      "     for: 2s, repeat: 10s}\n",
    "predict": "  - {name: Filling, select: 'disks[fstype!=tmpfs].percent', above: 90, clear: 85,\n"
               "     predict: {window: 60s, ahead: 60s}}\n",
}


def sample(rows: int, tick: int, rng: random.Random) -> dict[str, Any]:
    """``rows`` filesystems; a tenth of them over 90 % on odd ticks."""
    disks = []
    for i in range(rows):
        hot = i % 10 == tick % 10
        disks.append({"mountpoint": f"/srv/{i}", "device": f"/dev/vd{i}", "fstype": "ext4",
                      "total_bytes": 2**40, "used_bytes": 2**39, "free_bytes": 2**39,
                      "percent": round(rng.uniform(91, 99) if hot else rng.uniform(10, 80), 1)})
    return {"seq": tick, "timestamp": 1_800_000_000.0 + tick, "disks": disks}


def measure(rules: str, rows: int, samples: int) -> tuple[float, float]:
    """Median and p99 microseconds per instance per sample."""
    book = AlertBook(parse("builtin_rules: false\nrules:\n" + rules, "bench"))
    rng = random.Random(1)
    made = [sample(rows, tick, rng) for tick in range(samples)]
    per = []
    for data in made:
        began = time.perf_counter()
        book.evaluate(data, data["timestamp"])
        per.append((time.perf_counter() - began) / rows * 1e6)
    per.sort()
    return statistics.median(per), per[int(len(per) * 0.99) - 1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000,
                        help="rule instances (filesystems) (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=300, help="samples fed (default: %(default)s)")
    args = parser.parse_args(argv)
    print(f"{args.rows} instances, {args.samples} samples, Python {sys.version.split()[0]}\n")
    print("| rules | µs per instance per sample (median) | p99 | target |")
    print("| --- | ---: | ---: | --- |")
    for label, rules in RULES.items():
        median, p99 = measure(rules, args.rows, args.samples)
        print(f"| {label} | {median:.2f} | {p99:.2f} | <= {TARGET_US:g} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
