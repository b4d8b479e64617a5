"""`python -m service.cli`: the `pathways` command."""

import sys

from service.cli import main

sys.exit(main())
