"""Every table of the lake, declared once: columns, types, nullability, partitioning, comments.

Jobs create tables from these specs, tests build frames with them, and `python -m schemas`
prints docs/data-dictionary.md.
"""

from schemas.spec import TableSpec, col
from schemas.tables import ALL_TABLES, TABLES, table
from schemas.landing import LANDING_SCHEMAS

__all__ = ["TableSpec", "col", "ALL_TABLES", "TABLES", "table", "LANDING_SCHEMAS"]
