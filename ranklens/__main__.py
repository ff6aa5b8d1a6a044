"""`python -m ranklens ...`: see ranklens.cli."""

import sys

from ranklens.cli import main

sys.exit(main())
