"""``python -m harness``: the command line (``harness.fronts.cli``)."""

import sys

from harness.fronts.cli import main

sys.exit(main())
