"""The ``backprop-*`` commands, one module each with its ``main(argv)``; ``scripts/NAME.py`` and
the installed ``backprop-NAME`` call the same one. ``script`` is what every command shares."""
