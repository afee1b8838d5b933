"""The aiohttp API: app factory, routes, handlers, HTTP helpers and errors.

Imports ``core``, ``sampling``, ``store`` and ``settings``.
"""
