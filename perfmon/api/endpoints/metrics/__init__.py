"""GET /metrics: the Prometheus families derived from the metric groups, and their exposition."""
