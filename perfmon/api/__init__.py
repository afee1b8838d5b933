"""The aiohttp API: app factory, routes, handlers, HTTP helpers, errors, and who may ask (security).

Imports ``core``, ``sampling``, ``store`` and ``settings``.
"""
