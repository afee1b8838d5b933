"""The Dash dashboard: app factory and callbacks, component ids, layout, figures, API client, tick.

Imports only ``core`` (and ``settings``): the dashboard sees the host only through HTTP.
"""
