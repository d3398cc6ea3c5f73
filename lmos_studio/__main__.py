"""`python -m lmos_studio …` is the `lmos-studio` command."""

import sys

from lmos_studio.cli import main

sys.exit(main())
