#!/usr/bin/env python3
"""The sampler's own cost per sample: CPU time (every thread of the process) and wall time of ``collect()``.

The collectors ran in a thread each after the collector registry (issue 17), and now one after
another in the crew's thread (a stalled one left its own); this measures either against the
other. The same script runs against a checkout of the commit before (``--before DIR``, a ``git
worktree add``), in a child process each, in alternating rounds, on the real psutil of this
machine. The process scan runs once per round (its cadence is 5 s; a round is shorter), as the
warm-up, so what is measured is the per-sample path: every system-wide collector, the sample's
merge and JSON (gzip waits for a request that takes it).

    python bench/bench_sampler.py --before /tmp/perfmon-before [--samples 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
from perfmon.sampling.hub import Hub
from perfmon.sampling.sampler import Sampler
samples = int(sys.argv[1])
sampler = Sampler(Hub(1.0))
sampler.prime()
for _ in range(20):
    sampler.publish(*sampler.collect())  # warm-up: the process scan, caches
cpu, wall = time.process_time(), time.perf_counter()
for _ in range(samples):
    sampler.publish(*sampler.collect())
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
sampler.shutdown_worker()
print(json.dumps({"cpu_ms": 1000 * cpu / samples, "wall_ms": 1000 * wall / samples}))
"""


def measure(tree: Path, samples: int) -> dict[str, float]:
    """One child process over the perfmon of ``tree``: mean CPU and wall milliseconds per sample."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(samples)], env=env, cwd=tree, check=True,
                         capture_output=True, text=True, timeout=600).stdout
    return dict(json.loads(out.splitlines()[-1]))


def main() -> int:
    """Alternate rounds of the trees; print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a checkout of the commit to compare with")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"now": HERE} | ({"before": args.before} if args.before else {})
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            results[name].append(measure(tree, args.samples))
    for name, runs in results.items():
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        wall = statistics.median(r["wall_ms"] for r in runs)
        print(f"{name:>7}: {cpu:.3f} ms CPU, {wall:.3f} ms wall per sample "
              f"(median of {args.rounds} rounds of {args.samples})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
