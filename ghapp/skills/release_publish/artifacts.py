"""Workflow artifacts turned into release assets: names, bytes and content types.

Pure: GitHub hands out every artifact as a zip. Attached as is, it is `NAME.zip` with
`application/zip`; with `unpack_artifacts: true` each file inside becomes its own asset,
its content type guessed from its name (`.tar.gz` is `application/gzip`, not tar: the
bytes a browser receives are gzip).
"""

from __future__ import annotations

import io
import mimetypes
import posixpath
import zipfile
from dataclasses import dataclass

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# What a file compressed with these encodings is, as a download.
_ENCODING_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}


class ArtifactError(ValueError):
    """An artifact that cannot be attached; the message goes into the draft's body."""


@dataclass(frozen=True, slots=True)
class AssetFile:
    name: str
    content_type: str
    data: bytes


def content_type_for(name: str) -> str:
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if encoding is not None:
        return _ENCODING_TYPES.get(encoding, DEFAULT_CONTENT_TYPE)
    return guessed or DEFAULT_CONTENT_TYPE


def asset_files(artifact: str, archive: bytes, *, unpack: bool) -> list[AssetFile]:
    """The assets one artifact becomes."""
    if not unpack:
        return [AssetFile(f"{artifact}.zip", "application/zip", archive)]
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile:
        raise ArtifactError(f"artifact {artifact!r} is not a zip archive") from None
    files: list[AssetFile] = []
    taken: set[str] = set()
    with bundle:
        for entry in bundle.infolist():
            if entry.is_dir():
                continue
            # Assets have flat names; a folder only shows when two files share a name.
            name = posixpath.basename(entry.filename)
            if name in taken:
                name = entry.filename.strip("/").replace("/", "-")
            if not name or name in taken:
                raise ArtifactError(f"artifact {artifact!r} holds {entry.filename!r} twice")
            taken.add(name)
            files.append(AssetFile(name, content_type_for(name), bundle.read(entry)))
    if not files:
        raise ArtifactError(f"artifact {artifact!r} is empty")
    return files
