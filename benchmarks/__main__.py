"""``python -m benchmarks run [...]``: see :mod:`benchmarks.run`."""

import sys

from benchmarks.run import main

USAGE = "usage: python -m benchmarks run [--contacts N] [--only load,segments,refresh,tracking] [...] (run --help)"

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[2:]))
