"""``python -m core``: the headless CLI."""
import sys

from core.cli import main

sys.exit(main())
