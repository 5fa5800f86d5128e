"""The ``sracl`` console script: start on the fast allocator, then run the command line.

Kept apart from :mod:`flows.cli` so that the re-execution happens before torch,
Prefect or MLflow are imported (see :mod:`sracl_core.allocator`).
"""

from __future__ import annotations

import sys

from sracl_core.allocator import AllocatorError, exec_with_allocator


def main() -> None:
    try:
        exec_with_allocator()
    except AllocatorError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    from flows.cli import app

    app()


if __name__ == "__main__":
    main()
