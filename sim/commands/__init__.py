"""The ``midair`` sub-commands, one module each; ``sim.cli`` wires them to argparse.

Each module has ``add_parser(subparsers)`` and a ``run(args) -> int`` returning the exit
code. Commands may import anything in ``sim`` and ``models``.
"""
