"""Encryption at rest of a tipster's identity: Fernet keys from ``settings.TIPSTER_KEYS``.

The first key encrypts, every key decrypts (MultiFernet), so keys rotate by putting a new
key first, running ``manage.py rotate_tipster_keys`` (re-encrypts every stored value with
the first key), then dropping the old key.
"""
from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise RuntimeError("settings.TIPSTER_KEYS is empty")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.TIPSTER_KEYS))


def seal(data: dict[str, str]) -> str:
    """Encrypt a small dict (e.g. ``{"name": ..., "phone": ...}``) with the first key."""
    return fernet().encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()


def unseal(token: str) -> dict[str, str]:
    """Decrypt with whichever configured key fits; raises ``InvalidToken`` if none does."""
    if not token:
        return {}
    return json.loads(fernet().decrypt(token.encode()).decode())


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the first key (no-op for an empty value)."""
    if not token:
        return token
    return fernet().rotate(token.encode()).decode()


__all__ = ["InvalidToken", "rotate", "seal", "unseal"]
