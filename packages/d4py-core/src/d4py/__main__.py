"""``python -m d4py`` runs the command line."""

from d4py.cli import main

main()
