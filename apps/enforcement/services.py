"""Enforcement writes. (Filled in by the enforcement module.)"""


def warning_auto_dispatch(*, warning_id: int) -> None:
    raise NotImplementedError("enforcement dispatch is not built yet")
