"""``python -m fer_desktop`` is the ``fer-desktop`` command."""

import sys

from fer_desktop.cli import main

sys.exit(main())
