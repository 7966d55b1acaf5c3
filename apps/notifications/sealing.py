"""Channel secrets at rest: sealed with the platform's MultiFernet keys, or taken from the environment.

A secret value of the form ``env:NAME`` is read from the environment variable ``NAME`` at
send time, so a county can keep tokens out of the database altogether. Keys rotate with
the tipster identities' keys (``manage.py rotate_tipster_keys`` re-seals these too).
"""
from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.reporting import crypto

# the secret fields each channel kind takes (all optional unless listed in REQUIRED)
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "dingtalk": ("webhook", "secret"),
    "wecom": ("webhook",),
    "sms_tencent": ("secret_id", "secret_key"),
    "sms_http": ("url", "token"),
    "email": (),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "dingtalk": ("webhook",),
    "wecom": ("webhook",),
    "sms_tencent": ("secret_id", "secret_key"),
    "sms_http": ("url",),
    "email": (),
}


def seal(values: dict[str, str]) -> str:
    values = {k: v for k, v in values.items() if v}
    return crypto.seal(values) if values else ""


def unseal(sealed: str) -> dict[str, str]:
    """The stored values (``env:`` references unresolved): for merging an edit, never for display."""
    return crypto.unseal(sealed) if sealed else {}


def resolve(sealed: str) -> dict[str, str]:
    """The secrets a gateway needs now: sealed values decrypted, ``env:NAME`` read from the environment."""
    out = {}
    for key, value in unseal(sealed).items():
        if isinstance(value, str) and value.startswith("env:"):
            name = value[4:]
            if name not in os.environ:
                raise ValidationError(_("环境变量 %(name)s 未设置。") % {"name": name})
            out[key] = os.environ[name]
        else:
            out[key] = value
    return out


def rotate(sealed: str) -> str:
    return crypto.rotate(sealed)
