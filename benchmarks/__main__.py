"""``python -m benchmarks run [...]`` (see :mod:`benchmarks.run`) and ``python -m benchmarks summary``."""

import sys

USAGE = (
    "usage: python -m benchmarks run [--contacts N] [--only load,segments,refresh,tracking] [...] (run --help)\n"
    "       python -m benchmarks summary [--results DIR]"
)

if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "run":
        from benchmarks.run import main
    elif command == "summary":
        from benchmarks.summary import main
    else:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[2:]))
