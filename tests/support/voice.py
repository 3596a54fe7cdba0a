"""Sample voice clips for the tests: the first bytes of a WebM and of an Ogg file (enough for
the app's checks; the browser tests record real ones), and a ZIP as the export makes it."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + b"\0" * 40
OGG = b"OggS\x00\x02" + b"\0" * 40


def zip_of(entries: dict[str, bytes], manifest: object | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if manifest is None:
            manifest = {
                "format": "nabd-voice-clips",
                "version": 1,
                "clips": [
                    {"file": name, "sha256": hashlib.sha256(data).hexdigest()}
                    for name, data in entries.items()
                ],
            }
        archive.writestr("manifest.json", json.dumps(manifest))
    return buffer.getvalue()
