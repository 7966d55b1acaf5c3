"""Checks and cleaning of the photos and videos the public attaches to a tip.

* The real type comes from the file's bytes (``filetype``), never from its name or the
  browser's Content-Type; a name or declared type that disagrees with the bytes is refused.
* Photos (JPEG/PNG/WebP) are decoded and re-encoded from their pixels alone with Pillow, so
  no EXIF, GPS, XMP, ICC or text chunk survives; the EXIF orientation is applied first.
* Videos (MP4) cannot be re-encoded here (no codec on an offline server), so their
  metadata boxes — ``udta``, ``meta``, ``uuid`` (XMP), where phones write the location —
  are overwritten in place with ``free`` boxes of the same size (the media data and chunk
  offsets are untouched). Videos are limited to ``MAX_VIDEO_BYTES``.

Nothing here touches the disk: the caller stores the cleaned bytes only once the whole
submission is valid.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.photos import ALLOWED_MIME, PhotoRejected, sanitise_photo

MAX_FILES = 5
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 45 * 1024 * 1024  # the whole request, checked before anything is read
MAX_PIXELS = 40_000_000

IMAGE_TYPES = {"image/jpeg": ("jpg", "JPEG", {"jpg", "jpeg"}), "image/png": ("png", "PNG", {"png"}), "image/webp": ("webp", "WEBP", {"webp"})}
VIDEO_TYPES = {"video/mp4": ("mp4", None, {"mp4", "m4v"})}
ALLOWED_HINT = gettext_lazy("仅限 JPEG、PNG、WebP 照片和 MP4 视频")

_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"edts", b"dinf", b"stbl", b"mvex", b"moof", b"traf"}
_METADATA_BOXES = {b"udta", b"meta", b"uuid", b"XMP_"}


@dataclass(frozen=True)
class CleanFile:
    kind: str  # "image" | "video"
    content_type: str
    extension: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _short(name: str) -> str:
    name = (name or "").replace("\n", " ")[-60:]
    return name or _("未命名文件")


def upload_clean(*, name: str, data: bytes, declared_type: str = "") -> CleanFile:
    """Check one uploaded file and return its cleaned bytes; raise ``ValidationError`` (Chinese) if refused."""
    label = _short(name)
    if not data:
        raise ValidationError(_("文件「%(name)s」是空的。") % {"name": label}, code="empty_file")
    guess = filetype.guess(data[:8192])
    real = guess.mime if guess else None
    if real not in IMAGE_TYPES and real not in VIDEO_TYPES:
        raise ValidationError(_("文件「%(name)s」不是允许的格式（%(hint)s）。") % {"name": label, "hint": ALLOWED_HINT}, code="bad_type")
    extension, pil_format, extensions = (IMAGE_TYPES | VIDEO_TYPES)[real]
    suffix = label.rsplit(".", 1)[-1].lower() if "." in label else ""
    declared = (declared_type or "").split(";")[0].strip().lower()
    if (suffix and suffix not in extensions) or (declared and declared != "application/octet-stream" and declared != real):
        raise ValidationError(_("文件「%(name)s」的扩展名或类型与实际内容不符。") % {"name": label}, code="type_mismatch")
    if real in VIDEO_TYPES:
        if len(data) > MAX_VIDEO_BYTES:
            raise ValidationError(_("视频「%(name)s」超过 %(mb)s MB。") % {"name": label, "mb": MAX_VIDEO_BYTES // 1024 // 1024}, code="too_large")
        return CleanFile(kind="video", content_type=real, extension=extension, data=mp4_metadata_strip(data=data, label=label))
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError(_("照片「%(name)s」超过 %(mb)s MB。") % {"name": label, "mb": MAX_IMAGE_BYTES // 1024 // 1024}, code="too_large")
    return CleanFile(kind="image", content_type=real, extension=extension, data=image_reencode(data=data, pil_format=pil_format, label=label))


def image_reencode(*, data: bytes, pil_format: str, label: str = "") -> bytes:
    """Decode ``data`` and encode its pixels again as ``pil_format``, with no metadata at all."""
    try:
        clean = sanitise_photo(data, max_bytes=MAX_IMAGE_BYTES, max_edge_px=None, max_pixels=MAX_PIXELS)
    except PhotoRejected as exc:
        raise ValidationError(_("照片「%(name)s」：%(reason)s") % {"name": label, "reason": exc}, code="bad_image") from None
    if ALLOWED_MIME[clean.content_type] != pil_format:
        raise ValidationError(_("文件「%(name)s」的扩展名或类型与实际内容不符。") % {"name": label}, code="type_mismatch")
    return clean.data


def mp4_metadata_strip(*, data: bytes, label: str = "") -> bytes:
    """Overwrite the MP4's metadata boxes with same-sized ``free`` boxes; refuse a malformed file."""
    buf = bytearray(data)
    _scrub(buf, 0, len(buf), 0, label)
    return bytes(buf)


def _scrub(buf: bytearray, start: int, end: int, depth: int, label: str) -> None:
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(buf[pos : pos + 4], "big")
        box = bytes(buf[pos + 4 : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size, header = int.from_bytes(buf[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValidationError(_("视频「%(name)s」文件结构损坏。") % {"name": label}, code="bad_video")
        if box in _METADATA_BOXES:
            buf[pos + 4 : pos + 8] = b"free"
            buf[pos + header : pos + size] = bytes(size - header)
        elif box in _CONTAINER_BOXES and depth < 8:
            _scrub(buf, pos + header, pos + size, depth + 1, label)
        pos += size
