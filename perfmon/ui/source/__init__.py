"""Where a tick's data comes from: the API's transport, answers shared by every tab, the tail, the planner.

All the dashboard's I/O towards the API is here; it imports nothing of the screen, the tick or the edge.
"""
