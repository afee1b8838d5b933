#!/usr/bin/env python3
"""Run the perfmon API server and its dashboard together; Ctrl-C stops both: see README.md."""

import sys

from perfmon.runtime.launcher import main

if __name__ == "__main__":
    sys.exit(main())
