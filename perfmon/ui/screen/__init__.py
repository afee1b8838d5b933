"""What the page shows, as pure functions: component ids, the layout, cards, tables and figures.

Data in, components or plain-dict figures out: no I/O, and nothing of the source, the tick or the edge.
"""
