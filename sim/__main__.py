"""``python -m sim``: the same as the ``clickfarm`` command."""

from sim.cli import main

main()
