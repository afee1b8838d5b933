"""Running the servers: threads, port reservation, signals, the launcher. May import ``api`` and ``ui``."""
