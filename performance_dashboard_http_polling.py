#!/usr/bin/env python3
"""Serve a live dashboard of a perfmon API in the browser (Dash on uvicorn): see README.md."""

import sys

from perfmon.runtime.launcher import dashboard_main

if __name__ == "__main__":
    sys.exit(dashboard_main())
