"""One tick of one tab: cursor and inputs in, a read through the source, pure screen functions, updates out.

Also what the charts span (ranges), how finely (resolution), the CSV export and the callback's signature.
"""
