from celery import shared_task


@shared_task(name="notifications.deliver", acks_late=True, ignore_result=True)
def deliver(notification_id: int) -> None:
    """Send one notification; idempotent (a redelivered message finds it claimed or done).

    Retries with exponential backoff on network errors and 5xx answers, never on 4xx.
    """
    from . import services

    delay = services.notification_deliver(notification_id=notification_id)
    if delay is not None:
        deliver.apply_async((notification_id,), countdown=delay)


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep() -> dict:
    """Beat job (every 5 minutes): give up on sends whose worker died, re-queue lost retries."""
    from . import services

    return services.notifications_sweep()
