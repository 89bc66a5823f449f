"""``python -m identityserver``."""

import sys

from identityserver.cli import main

sys.exit(main())
