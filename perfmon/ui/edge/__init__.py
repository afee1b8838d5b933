"""The dashboard's HTTP edge: the ASGI wrapper, the Host/Origin gate, sign-in, sessions and their file.

Everything a request meets before Dash runs a callback; it imports nothing of the source, the
screen or the tick.
"""
