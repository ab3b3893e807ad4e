"""``python -m nnsym ...``: same as the ``nnsym`` console script."""

import sys

from nnsym.cli import main

if __name__ == "__main__":
    sys.exit(main())
