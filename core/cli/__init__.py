"""The ``modelgate`` command line: ``main(argv)`` is a plain function tests call in-process."""
