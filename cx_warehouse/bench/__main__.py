"""``python -m cx_warehouse.bench``: the same as ``cx-bench``."""

import sys

from cx_warehouse.bench.cli import main

sys.exit(main())
