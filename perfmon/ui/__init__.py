"""The Dash dashboard, in folders that follow a tick: edge (requests in), tick, source (the API), screen.

``app`` builds the dashboard; a request passes the ``edge``; the poll callback runs one ``tick``,
which reads through the ``source`` first and then draws with the pure ``screen``. Imports only
``core`` (and ``settings``): the dashboard sees the host only through HTTP.
"""
