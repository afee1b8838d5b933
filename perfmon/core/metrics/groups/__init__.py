"""One module per metric group, each declaring its ``GROUP`` (see ``perfmon.core.metrics.model``)."""
