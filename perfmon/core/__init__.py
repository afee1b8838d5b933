"""Pure code with no I/O: the schema, rate maths and unit formatting. Imports nothing else of perfmon."""
