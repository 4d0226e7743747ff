"""`python -m bench [all|fetch|import|finder|generate] ...`."""

import sys

from bench.cli import main

sys.exit(main())
