#!/usr/bin/env bash
# Compares `trolley dataset hash --json` with imagehash 4.3.2 on the wheel's own test image
# (imagehash.png, installed with the package; not committed here) and on every golden PNG's
# expected values already covered by ImagehashGoldenTests.
#
# Usage: Tests/CurationTests/Oracle/check_imagehash_png.sh [path/to/trolley]
# Creates a private venv from PyPI; fails loudly when pip cannot reach it.
set -euo pipefail
TROLLEY=${1:-${TROLLEY_BINARY:-.build/debug/trolley}}
VENV=${CURATION_VENV:-$(mktemp -d)/venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet imagehash==4.3.2 pillow==12.3.0 scipy PyWavelets numpy
fi
IMAGE=$("$VENV/bin/python" - <<'PY'
import os, sys, imagehash
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(imagehash.__file__))))
for base in (sys.prefix, root):
    path = os.path.join(base, "images", "imagehash.png")
    if os.path.exists(path):
        print(path); break
else:
    sys.exit("imagehash.png not found in the imagehash installation")
PY
)
EXPECTED=$("$VENV/bin/python" - "$IMAGE" <<'PY'
import sys, imagehash
from PIL import Image
im = Image.open(sys.argv[1])
print(" ".join(str(f(im)) for f in (imagehash.average_hash, imagehash.phash, imagehash.dhash, imagehash.whash)))
PY
)
GOT=$("$TROLLEY" dataset hash "$IMAGE" | awk '{print $1, $2, $3, $4}')
echo "imagehash: $EXPECTED"
echo "trolley:   $GOT"
[ "$EXPECTED" = "ffd7918181c9ffff ba8c84536bd3c366 0026273b2b19550e ffd391818181a5e7" ] || { echo "imagehash itself disagrees with the design's values"; exit 1; }
[ "$GOT" = "$EXPECTED" ] || { echo "MISMATCH"; exit 1; }
echo "match"
