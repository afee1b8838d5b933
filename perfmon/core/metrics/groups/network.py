"""Network: totals without loopback, and one row per interface (``network.interfaces[]``)."""

from perfmon.core.metrics.model import Field, Group


def _counter(ours: str, theirs: str, what: str, description: str) -> Field:
    return Field(f"{ours}_{what}_total", "bytes" if what == "bytes" else "count", description,
                 kind="counter", prometheus=f"perfmon_network_{theirs}_{what}_total")


GROUP = Group(
    "network", "network", "Network", "traffic of each interface",
    fields=(
        Field("sent_bytes_per_s", "bytes_per_s", "bytes sent, loopback excluded", kind="rate",
              history="net_sent_bytes_per_s"),
        Field("recv_bytes_per_s", "bytes_per_s", "bytes received, loopback excluded", kind="rate",
              history="net_recv_bytes_per_s"),
    ),
    rows="interfaces", key=("interface",), labels={"interface": "name"},
    row_fields=(
        Field("name", "text", "interface name", kind="info", nullable=False),
        Field("is_up", "bool", "whether the link is up", kind="info"),
        Field("is_loopback", "bool", "whether it is a loopback interface", kind="info", nullable=False),
        Field("sent_bytes_per_s", "bytes_per_s", "bytes sent on this interface", kind="rate",
              series=True),
        Field("recv_bytes_per_s", "bytes_per_s", "bytes received on this interface", kind="rate",
              series=True),
        _counter("sent", "transmit", "bytes", "bytes sent on this interface since boot"),
        _counter("recv", "receive", "bytes", "bytes received on this interface since boot"),
        _counter("sent", "transmit", "packets", "packets sent on this interface since boot"),
        _counter("recv", "receive", "packets", "packets received on this interface since boot"),
        _counter("sent", "transmit", "errors", "errors sending on this interface since boot"),
        _counter("recv", "receive", "errors", "errors receiving on this interface since boot"),
        _counter("sent", "transmit", "drops", "outgoing packets dropped since boot"),
        _counter("recv", "receive", "drops", "incoming packets dropped since boot"),
    ),
)
