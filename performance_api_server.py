#!/usr/bin/env python3
"""Serve this machine's performance metrics as JSON over HTTP: see README.md."""

import sys

from perfmon.api.server import main

if __name__ == "__main__":
    sys.exit(main())
