from celery import shared_task


@shared_task(name="enforcement.auto_dispatch_warning")
def auto_dispatch_warning(warning_id: int) -> None:
    """A new or escalated warning: dispatch it automatically if its level calls for it."""
    from . import services

    services.warning_auto_dispatch(warning_id=warning_id)
