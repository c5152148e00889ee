"""``python -m crossent.bench``: the same as ``crossent bench``."""

import sys

from crossent.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
