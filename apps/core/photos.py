"""Photo cleaning shared by every module that accepts photos from people outside the
operations centre (grid workers' check-ins and reports, the public's tips): real content
type, size, and EXIF (GPS, device, time) removed.

Plain functions over bytes (Pillow + filetype), no Django: each module's service turns
:class:`PhotoRejected` into its own ``ValidationError`` and stores the returned bytes.
(Case evidence in ``apps/enforcement`` is kept byte for byte instead: it is evidence.)

A phone photo carries the exact GPS position, the phone's make and serial-like fields
and the time in its EXIF block. The platform keeps the location it needs in its own
columns; the stored file is re-encoded from pixels only, so none of that metadata (nor
any trailing data appended to the file) survives.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from django.utils.translation import gettext as _

ALLOWED_MIME = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
MAX_EDGE_PX = 2560  # longer edge after re-encoding: enough for evidence, small to sync
MAX_PIXELS = 60_000_000  # refuse decompression bombs well before Pillow's own limit


class PhotoRejected(ValueError):
    """The upload is not an acceptable photo; ``str(exc)`` is a Chinese message for the user."""


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


def sanitise_photo(
    raw: bytes, *, max_bytes: int, max_edge_px: int | None = MAX_EDGE_PX, max_pixels: int = MAX_PIXELS
) -> CleanPhoto:
    """Check ``raw`` is a JPEG/PNG/WebP of at most ``max_bytes`` and re-encode it without metadata.

    The content type is read from the bytes (magic numbers), never from the file name or
    the client's header. The image is rotated by its EXIF orientation first so that the
    picture still looks right once the EXIF block is gone; with ``max_edge_px`` it is also
    scaled down so that its longer edge is at most that many pixels.
    """
    if not raw:
        raise PhotoRejected(_("照片为空，请重新拍摄。"))
    if len(raw) > max_bytes:
        raise PhotoRejected(_("照片过大（%(size).1f MB），上限 %(limit).0f MB。") % {"size": len(raw) / 1048576, "limit": max_bytes / 1048576})
    kind = filetype.guess(raw[:8192])
    mime = kind.mime if kind else None
    if mime not in ALLOWED_MIME:
        raise PhotoRejected(_("照片格式不支持（仅限 JPEG、PNG、WebP）。"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))
            if img.width * img.height > max_pixels:
                raise PhotoRejected(_("照片像素过多，无法处理。"))
            img.load()
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(_("照片已损坏或无法读取，请重新拍摄。")) from exc
    fmt = ALLOWED_MIME[mime]
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - a broken EXIF block: keep the pixels as they are
        pass
    if max_edge_px and max(img.size) > max_edge_px:
        img.thumbnail((max_edge_px, max_edge_px))
    # Pixels only: a fresh image has no info dict, so no EXIF/XMP/ICC/comments are written.
    if fmt == "JPEG":
        img = img.convert("RGB")
        clean = Image.new("RGB", img.size)
    else:
        mode = "RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB"
        img = img.convert(mode)
        clean = Image.new(mode, img.size)
    clean.paste(img)
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=85)
    data = out.getvalue()
    return CleanPhoto(
        data=data, content_type=mime, width=clean.width, height=clean.height, sha256=hashlib.sha256(data).hexdigest()
    )
