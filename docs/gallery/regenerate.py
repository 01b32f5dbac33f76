"""Regenerate the figure gallery (docs/gallery/*.png): every report figure on its hard cases.

    python docs/gallery/regenerate.py            # all cases
    python docs/gallery/regenerate.py doctor_nan  # some of them

The cases are defined in :mod:`initlab.report.gallery`; tests/report/test_figure_structure.py
draws the same ones and checks their structure.
"""

import sys
from pathlib import Path

from initlab.report.gallery import render_gallery

if __name__ == "__main__":
    for path in render_gallery(Path(__file__).parent, sys.argv[1:] or None):
        print(f"{path}  {path.stat().st_size // 1024} KB")
