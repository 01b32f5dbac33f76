"""``python -m initlab``: the same entry point as the ``initlab`` script.

A Ctrl-C while this module imports the entry point (before its own handler runs) is caught here
too, so it is one line and exit 2 like everywhere else.
"""

import sys

try:
    from initlab.entry import main
except KeyboardInterrupt:
    sys.stderr.write("interrupted: nothing was written\n")
    raise SystemExit(2) from None

main()
