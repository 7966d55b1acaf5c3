"""Evidence files: private storage (never under a public URL) and upload checks by real content.

Files are stored under ``<MEDIA_ROOT>/../private/`` — outside ``MEDIA_ROOT`` so that even a
debug static route cannot serve them — and are read only through ``views.evidence_file``,
which checks who is asking.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

# kind -> allowed real content types
ALLOWED_TYPES: dict[str, set[str]] = {
    "photo": {"image/jpeg", "image/png", "image/webp"},
    "document": {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    },
    "track_snapshot": {"image/png", "image/jpeg", "application/geo+json"},
}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/geo+json": "geojson",
}


class PrivateStorage(FileSystemStorage):
    """File storage with no URL; the location follows ``MEDIA_ROOT`` (also when tests change it)."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @cached_property
    def base_location(self) -> str:  # cleared by FileSystemStorage when MEDIA_ROOT changes
        return os.path.join(os.path.dirname(os.path.abspath(settings.MEDIA_ROOT)), "private")

    def url(self, name):  # pragma: no cover - guard
        raise ValueError("private files have no public URL")


_PRIVATE = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The evidence storage (a callable, so migrations name this function, not a path)."""
    return _PRIVATE


@dataclass(frozen=True)
class CheckedUpload:
    kind: str
    content_type: str
    extension: str
    size_bytes: int
    sha256: str


def _max_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_BYTES", 20 * 1024 * 1024))


def _sniff(head: bytes, data_for_json) -> str | None:
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    # GeoJSON (a track snapshot as data): must parse as a GeoJSON object.
    try:
        doc = json.loads(data_for_json())
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(doc, dict) and doc.get("type") in {"FeatureCollection", "Feature", "LineString", "MultiLineString", "Point", "MultiPoint"}:
        return "application/geo+json"
    return None


def upload_check(*, upload, kind: str | None = None) -> CheckedUpload:
    """Check an uploaded file's size and *real* type (from its bytes, not its name); raise a clear error.

    ``kind`` (photo / document / track_snapshot) limits the allowed types; without it the
    kind follows from the content (an image is a photo, a PDF or Office file a document).
    """
    if kind is not None and kind not in ALLOWED_TYPES:
        raise ValidationError({"kind": _("未知的证据类型：%(kind)s") % {"kind": kind}})
    if upload is None:
        raise ValidationError({"file": _("请选择要上传的文件。")})
    size = upload.size or 0
    if size <= 0:
        raise ValidationError({"file": _("文件「%(name)s」是空文件。") % {"name": upload.name}})
    if size > _max_bytes():
        raise ValidationError({"file": _("文件「%(name)s」过大（%(size)s KB），上限 %(limit)s MB。") % {
            "name": upload.name, "size": size // 1024, "limit": _max_bytes() // (1024 * 1024)}})
    upload.seek(0)
    head = upload.read(8192)

    def whole() -> str:
        upload.seek(0)
        return upload.read().decode("utf-8")

    mime = _sniff(head, whole)
    allowed = ALLOWED_TYPES[kind] if kind else set().union(*ALLOWED_TYPES.values())
    if mime is None or mime not in allowed:
        raise ValidationError(
            {"file": _("文件「%(name)s」的实际格式（%(mime)s）不允许作为该类证据；允许：%(allowed)s。") % {
                "name": upload.name, "mime": mime or _("无法识别"),
                "allowed": _("、").join(sorted({EXTENSIONS[t] for t in allowed}))}}
        )
    if kind is None:
        kind = next(k for k in ("photo", "document", "track_snapshot") if mime in ALLOWED_TYPES[k])
    if mime.startswith("image/"):
        from PIL import Image, UnidentifiedImageError

        try:
            upload.seek(0)
            with Image.open(upload) as img:
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ValidationError({"file": _("图片「%(name)s」已损坏或无法读取。") % {"name": upload.name}}) from exc
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(kind=kind, content_type=mime, extension=EXTENSIONS[mime], size_bytes=size, sha256=digest.hexdigest())
