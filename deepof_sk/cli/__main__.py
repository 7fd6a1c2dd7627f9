"""``python -m deepof_sk.cli``: the same as the ``deepof-sk`` command."""

import sys

from ._parser import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
