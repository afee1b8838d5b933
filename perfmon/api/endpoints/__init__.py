"""The API's endpoints: one module per answer (the sample, history, processes, health, /metrics, OpenAPI)."""
