from celery import shared_task


@shared_task(name="enforcement.auto_dispatch_warning")
def auto_dispatch_warning(warning_id: int) -> int | None:
    """A new or escalated warning: dispatch it automatically if its level calls for it; returns the dispatch id."""
    from . import services

    dispatch = services.warning_auto_dispatch(warning_id=warning_id)
    return dispatch.pk if dispatch is not None else None


@shared_task(name="enforcement.escalate_overdue")
def escalate_overdue() -> list[int]:
    """Beat job (every minute): escalate overdue tasks to the department head and the operations centre."""
    from . import services

    return services.tasks_escalate_overdue()
