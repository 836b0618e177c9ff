"""``python -m ndp``: the same as the ``ndp`` command."""

from ndp.cli.main import main

main()
