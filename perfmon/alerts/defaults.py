"""The built-in rules: what perfmon alerts on with no rules file, written as a rules file would be.

Their levels follow ``deploy/prometheus/perfmon-rules.yml``, so perfmon and a Prometheus that
scrapes it alert alike. Filesystems that are memory, read-only images or views of another
(tmpfs, squashfs, overlay ...) cannot fill up as a disk does and are left out. A host without a
battery has its ``battery`` section null, so ``BatteryLow`` has no value to judge and never fires there.
"""

from __future__ import annotations

NOT_DISKS = "tmpfs|ramfs|devtmpfs|squashfs|iso9660|udf|overlay|devfs|autofs"

BUILTIN = f"""
rules:
  - name: HighCpu
    select: cpu.percent
    above: 90%
    clear: 80%
    for: 15m
    summary: CPU over 90 % busy for 15 minutes
  - name: MemoryAlmostFull
    select: memory.percent
    above: 90%
    clear: 85%
    for: 10m
    summary: memory over 90 % in use for 10 minutes
  - name: SwapAlmostFull
    select: swap.percent
    above: 80%
    clear: 70%
    for: 10m
    summary: swap over 80 % in use for 10 minutes
  - name: FilesystemAlmostFull
    select: 'disks[fstype!~"{NOT_DISKS}"].percent'
    above: 90%
    clear: 85%
    for: 30m
    predict: {{window: 6h, ahead: 24h}}
    summary: over 90 % full, and at the trend of the last 6 hours full within a day
  - name: FilesystemFull
    select: 'disks[fstype!~"{NOT_DISKS}"].percent'
    above: 95%
    clear: 90%
    for: 5m
    severity: critical
    summary: over 95 % full
  - name: HighLoad
    select: cpu.load_1
    divide_by: cpu.count_logical
    above: 2
    clear: 1.5
    for: 15m
    summary: over two runnable tasks per CPU for 15 minutes
  - name: MemoryStalls
    select: pressure[resource=memory,kind=some].avg60_percent
    above: 10%
    clear: 5%
    for: 5m
    summary: tasks stalled on memory over 10 % of the time for 5 minutes
  - name: IoStalls
    select: pressure[resource=io,kind=full].avg60_percent
    above: 20%
    clear: 10%
    for: 10m
    summary: all tasks stalled on I/O over 20 % of the time for 10 minutes
  - name: BatteryLow
    select: battery.percent
    below: 10%
    clear: 15%
    for: 2m
    summary: battery under 10 % charged for 2 minutes
"""
