"""The proof that a refactoring left the end-of-day bundle alone: build one 300-visit bundle from
the fixed day of tests/support/venue_day.py and print the SHA-256 of every member, the manifest's
`generated_at` aside (it is the only field that is not a function of the data).

    python -m tests.support.bundle_fingerprint > before.txt
    ... change the code ...
    python -m tests.support.bundle_fingerprint | diff before.txt -
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path


def fingerprint(bundle: bytes) -> list[str]:
    """One line per member of the ZIP: its name and the SHA-256 of its bytes (of the manifest's
    JSON without `generated_at`)."""
    lines = []
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        for info in archive.infolist():
            content = archive.read(info.filename)
            if info.filename == "manifest.json":
                manifest = json.loads(content)
                manifest.pop("generated_at", None)
                content = json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()
            digest = hashlib.sha256(content).hexdigest()
            lines.append(f"{info.filename} {len(content)} {digest}")
    return lines


def main() -> None:
    try:
        from tests.support.venue_day import venue_bundle
    except ImportError:  # before the test helpers moved to tests/support
        from tests.support.venue_day import venue_bundle

    with tempfile.TemporaryDirectory() as folder:
        day = venue_bundle(Path(folder), donors=300)
    sys.stdout.write("\n".join(fingerprint(day.bundle)) + "\n")


if __name__ == "__main__":
    main()
