"""Alerts: rules read from one file (or the defaults), and an engine that turns samples into alerts.

``rules`` reads and checks the rules file (``yamlfile`` keeps each value's line, so an error
names it), ``quantities`` reads thresholds and durations in the units of the field a rule
selects, ``select`` finds a rule's instances in a sample, and ``engine`` is the pure state
machine that moves each instance through inactive, pending, firing and resolved.
"""
