"""``python -m crossent``: the command line."""

import sys

from crossent.cli import main

sys.exit(main())
