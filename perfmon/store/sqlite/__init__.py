"""The durable history in a SQLite file: the store (``store``), its file (``schema``), the writer thread
(``writer``), its encoding (``codec``), reads (``range``, ``cursor``), upkeep and salvage."""
