"""``python -m durableagent``: the same command line as the ``durableagent`` console script."""

import sys

from durableagent.local.cli import main

sys.exit(main())
