"""``GET /metrics``: the latest sample in Prometheus' text format or OpenMetrics, built by prometheus-client.

A scrape never samples the host: a custom collector turns the sample the sampler already
published into metric families (``perfmon.api.endpoints.metrics.catalogue``, derived from the metric
groups), and prometheus-client writes the exposition. The bytes are made once per sample and
format, on the first scrape that asks for them, so an idle server does no work for ``/metrics``
at all and Prometheus' second scrape of the same sample (two Prometheus servers, a curl) costs
a dictionary look-up.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Hashable, Iterator, Mapping
from functools import partial
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict
from prometheus_client import exposition, openmetrics
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from perfmon import __version__
from perfmon.api.edge.headers import SECURITY_HEADERS
from perfmon.api.edge.responses import NO_CACHE, accepts_gzip
from perfmon.api.endpoints import collector_status
from perfmon.api.endpoints.longpoll import starting_error
from perfmon.api.endpoints.metrics.catalogue import FAMILIES, Family, Series
from perfmon.api.endpoints.state import ALERTS, HUB
from perfmon.sampling.snapshot import Snapshot

TEXT = "text/plain; version=0.0.4; charset=utf-8"  # the classic format, which every scraper reads
OPENMETRICS = openmetrics.exposition.CONTENT_TYPE_LATEST  # 1.0.0, which Prometheus asks for first
ALLOW_UTF8 = openmetrics.exposition.ALLOWUTF8
# Level 1: with a scrape every second each sample is compressed for one answer, and level 1 takes a
# third of level 6's time for about 10 % more bytes (2.3 KB instead of 2.1 KB of a 10 KB body).
METRICS_GZIP_LEVEL = 1
EOF = b"# EOF\n"  # OpenMetrics' last line, once per exposition
ERRORS = "perfmon_collector_errors"
INFO = "perfmon_info"
ALERT_FIRING = "perfmon_alert_firing"
Firing = tuple[tuple[tuple[str, str], ...], ...]  # each firing alert's labels, in order


def metric_names(families: tuple[Family, ...] = FAMILIES) -> frozenset[str]:
    """Every metric name a scrape can carry, as Prometheus stores it."""
    extra = {ERRORS, INFO, ALERT_FIRING}
    return frozenset({f.name for f in families} | extra | collector_status.FAMILY_NAMES)


def parts(sample: Mapping[str, Any], collectors: collector_status.Status | None = None,
          families: tuple[Family, ...] = FAMILIES, firing: Firing | None = None,
          ) -> Iterator[tuple[str, Hashable, Callable[[], Metric]]]:
    """Each family of a sample (and of its collectors' runs, and the alerts that fire, when given): name,
    what its values are (a key), a builder."""
    for family in families:
        series = family.series(sample)
        yield family.name, series, partial(_metric, family, series)
    counts: dict[str, int] = {}
    for error in sample.get("errors") or ():
        counts[error["collector"]] = counts.get(error["collector"], 0) + 1
    errors = tuple(sorted(counts.items()))
    yield ERRORS, errors, partial(_errors, errors)
    host = sample.get("host") or {}
    info = {"version": __version__, "hostname": host.get("hostname") or "",
            "platform": host.get("platform") or ""}
    yield INFO, tuple(info.items()), partial(
        InfoMetricFamily, "perfmon", "the perfmon server's version and the host it watches", value=info)
    yield from collector_status.families(collectors or {})
    if firing is not None:
        yield ALERT_FIRING, firing, partial(_firing, firing)


def _firing(firing: Firing) -> Metric:
    """1 for each alert that fires, labelled as the alert is (its labels differ from rule to rule, as
    Prometheus' own ALERTS series do)."""
    metric = Metric(ALERT_FIRING, "1 for each perfmon alert that fires, labelled with its rule (alertname), "
                    "its severity and its row's labels (/api/alerts has its value and levels)", "gauge")
    for labels in firing:
        metric.add_sample(ALERT_FIRING, dict(labels), 1)
    return metric


def _metric(family: Family, series: tuple[Series, ...]) -> Metric:
    kind = CounterMetricFamily if family.type == "counter" else GaugeMetricFamily
    metric = kind(family.name, family.documentation, labels=list(family.labels), unit=family.unit)
    for labels, value in series:
        metric.add_metric(list(labels), value)
    return metric


def _errors(counts: tuple[tuple[str, int], ...]) -> Metric:
    metric = GaugeMetricFamily(ERRORS, "fields a collector could not read in the latest sample "
                               "(the reasons are in /api/performance's errors)", labels=["collector"])
    for collector, count in counts:
        metric.add_metric([collector], count)
    return metric


class SampleMetrics(Collector):
    """A prometheus-client collector over one published sample: every family, built afresh."""

    def __init__(self, sample: Mapping[str, Any], collectors: collector_status.Status | None = None) -> None:
        self._sample = sample
        self._collectors = collectors

    def collect(self) -> Iterator[Metric]:
        """Every family of the catalogue with the values the sample holds, errors, info, collector runs."""
        for _, _, build in parts(self._sample, self._collectors):
            yield build()


class _One(Collector):
    def __init__(self, metric: Metric) -> None:
        self._metric = metric

    def collect(self) -> Iterator[Metric]:
        yield self._metric


class Renderer:
    """Writes samples in one format, each family by prometheus-client, reusing a family's bytes
    while its values stay the same (core counts, sizes, idle interfaces: most of a scrape)."""

    def __init__(self, *, openmetrics_format: bool, families: tuple[Family, ...] = FAMILIES) -> None:
        self.families = families
        self.openmetrics_format = openmetrics_format
        self._done: dict[str, tuple[Hashable, bytes]] = {}

    def render(self, sample: Mapping[str, Any], collectors: collector_status.Status | None = None,
               firing: Firing | None = None) -> bytes:
        """The exposition of ``sample``: the bytes prometheus-client writes for all of it at once."""
        out = []
        for name, key, build in parts(sample, collectors, self.families, firing):
            done = self._done.get(name)
            if done is None or done[0] != key:
                done = self._done[name] = (key, self._encode(build()))
            out.append(done[1])
        if self.openmetrics_format:
            out.append(EOF)
        return b"".join(out)

    def _encode(self, metric: Metric) -> bytes:
        if self.openmetrics_format:
            # Every name of ours is a classic one (a test holds them to it), so "allow UTF-8" writes the
            # same bytes as the default, without its character-by-character check of each sample's name
            # (40 % of an OpenMetrics render); the text format checks names by a pattern, cheaper as it is.
            text = openmetrics.exposition.generate_latest(  # type: ignore[no-untyped-call]
                _One(metric), escaping=ALLOW_UTF8)
            return bytes(text).removesuffix(EOF)
        return exposition.generate_latest(_One(metric))


def render(sample: Mapping[str, Any], *, openmetrics_format: bool,
           collectors: collector_status.Status | None = None,
           families: tuple[Family, ...] = FAMILIES) -> bytes:
    """The exposition of one sample (and its collectors' runs) in one of the two formats (the families of
    every group by default)."""
    return Renderer(openmetrics_format=openmetrics_format, families=families).render(sample, collectors)


def wants_openmetrics(accept: str) -> bool:
    """True if the scraper lists OpenMetrics (Prometheus does, first, unless told otherwise)."""
    for item in accept.split(","):
        media, _, params = item.partition(";")
        if media.strip().lower() == "application/openmetrics-text":
            return not any(p.strip().replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
                           for p in params.split(";"))
    return False


class Exposition:
    """The exposition bytes of the latest sample, made on demand and kept until the next one."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._firing: Firing | None = None
        self._answers: dict[tuple[bool, bool], tuple[bytes, CIMultiDict[str]]] = {}
        self._renderers = {om: Renderer(openmetrics_format=om) for om in (False, True)}
        self.renders = 0  # how many times a body was built (tests count it)

    def answer(self, snapshot: Snapshot, *, openmetrics_format: bool, gzip_ok: bool,
               collectors: collector_status.Status | None = None,
               firing: Firing | None = None) -> tuple[bytes, CIMultiDict[str]]:
        """Body and headers of ``snapshot`` (with its collectors' runs, published with it, and the alerts
        that fire) in the format asked for; each built at most once."""
        if snapshot is not self._snapshot or firing != self._firing:
            self._snapshot, self._firing, self._answers = snapshot, firing, {}
        answer = self._answers.get((openmetrics_format, gzip_ok))
        if answer is not None:
            return answer
        plain = self._answers.get((openmetrics_format, False))
        if plain is None:
            body = self._renderers[openmetrics_format].render(snapshot.data, collectors, firing)
            self.renders += 1
            plain = self._answers[(openmetrics_format, False)] = (body, _headers(openmetrics_format, None))
        if not gzip_ok:
            return plain
        answer = (gzip.compress(plain[0], METRICS_GZIP_LEVEL, mtime=0), _headers(openmetrics_format, "gzip"))
        self._answers[(openmetrics_format, True)] = answer
        return answer


def _headers(openmetrics_format: bool, encoding: str | None) -> CIMultiDict[str]:
    headers = CIMultiDict({hdrs.CONTENT_TYPE: OPENMETRICS if openmetrics_format else TEXT,
                           hdrs.CACHE_CONTROL: NO_CACHE, hdrs.VARY: "Accept, Accept-Encoding",
                           **SECURITY_HEADERS})
    if encoding:
        headers[hdrs.CONTENT_ENCODING] = encoding
    return headers


EXPOSITION = web.AppKey("exposition", Exposition)


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: the latest sample for Prometheus; OpenMetrics if asked for, gzip if accepted."""
    hub = request.app[HUB]
    snapshot = hub.latest
    if snapshot is None:
        raise starting_error()
    headers = request.headers
    body, answer_headers = request.app[EXPOSITION].answer(
        snapshot, openmetrics_format=wants_openmetrics(headers.get(hdrs.ACCEPT, "")),
        gzip_ok=accepts_gzip(headers.get(hdrs.ACCEPT_ENCODING, "")), collectors=hub.collectors,
        firing=request.app[ALERTS].firing_labels())
    return web.Response(body=body, headers=answer_headers)
