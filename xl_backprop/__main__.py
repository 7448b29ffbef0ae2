"""``python -m xl_backprop``: the same as the ``xl-backprop`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
