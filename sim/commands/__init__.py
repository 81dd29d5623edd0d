"""The ``midair`` sub-commands, one module each; ``sim.cli`` wires them to argparse.

Each module has ``add_parser(subparsers)`` and a ``run(args) -> int`` returning the exit
code; it builds its result as plain data and prints it through ``sim.render`` in the
format of ``-o`` (its docstring shows the JSON document). ``common`` holds what several
commands share, ``results`` what run and sweep print. Commands may import anything in
``sim`` and ``models``.
"""
