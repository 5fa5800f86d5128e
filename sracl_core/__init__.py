"""sracl: SRA-CL sequential recommendation as a cached, tracked pipeline.

The library is plain Python: Prefect and the CLI sit on top of it and it never
imports them.
"""

__version__ = "0.1.0"
