"""The cockpit's part of ``manage.py load_demo``: the evaluation weighting (idempotent).

Everything else the cockpit shows comes from the other modules' demo data.
"""
from __future__ import annotations


def load(stdout) -> None:
    from .services import evaluation_weights_get

    weights = evaluation_weights_get()
    stdout.write(f"cockpit: evaluation weights {', '.join(f'{k}={v}' for k, v in weights.as_dict().items())}\n")
