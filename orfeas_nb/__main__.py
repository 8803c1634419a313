"""``python -m orfeas_nb`` runs the ``orfeas`` command line."""

from .cli import main

main()
