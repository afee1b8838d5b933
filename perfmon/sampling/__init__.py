"""Sampling: collectors over psutil, the sampler, and the hub of what was published. Imports only ``core``."""
