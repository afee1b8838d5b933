"""The sample's own fields: which sample it is, when, and from which run of the server."""

from perfmon.core.metrics.model import Field, Group

GROUP = Group(
    "sample", "", "Sample", "which sample this is and when it was taken",
    fields=(
        Field("seq", "count", "sample number, from 1 at server start", kind="info", history="seq",
              nullable=False),
        Field("timestamp", "unix_seconds", "when the sample was taken", kind="info", history="timestamp",
              nullable=False, prometheus="perfmon_sample_timestamp_seconds",
              prometheus_help="when the sample served was taken: an old one means the sampler is stuck"),
        Field("interval_seconds", "seconds", "the server's sampling interval", kind="info",
              nullable=False, prometheus="perfmon_sample_interval_seconds"),
        Field("instance_id", "text", "changes when the server restarts (and seq starts again)", kind="info",
              nullable=False),
    ),
)
