"""The aiohttp API: ``app`` (the factory and routes) and ``server`` on top, ``endpoints/`` (one module per
answer) under them, and ``edge/`` (errors, headers, who may ask, connections, parameters) at the bottom.

Imports ``core``, ``sampling``, ``store`` and ``settings``; inside, server > app > endpoints > edge.
"""
