"""The audit trail: django-auditlog records who, when, from where, before/after.

Every app registers its domain models in its ``AppConfig.ready`` with :func:`track`;
state changes (django-fsm transitions save the state field) are recorded as updates with
the old and new state. The log is append-only: the API only reads it, the admin cannot
change it, and a database trigger refuses UPDATE (and DELETE on PostgreSQL).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from auditlog.middleware import AuditlogMiddleware
from auditlog.registry import auditlog
from auditlog.signals import accessed

SENSITIVE_FIELDS = ["password", "last_login"]


def track(model, **options) -> None:
    """Put ``model`` on the audit trail (idempotent)."""
    if not auditlog.contains(model):
        exclude = list(options.pop("exclude_fields", [])) + SENSITIVE_FIELDS
        auditlog.register(model, exclude_fields=exclude, **options)


def record_access(instance) -> None:
    """Record that ``instance`` was read (for reads that must be audited, e.g. a tipster's identity).

    The actor and address come from the request's audit context (middleware or token auth).
    """
    accessed.send(sender=instance.__class__, instance=instance)


def register_models() -> None:
    from .models import Department, User

    track(Department)
    track(User)


@contextmanager
def audit_actor(actor) -> Iterator[None]:
    """Name ``actor`` on the audit entries written inside (keeping the request's address)."""
    from auditlog.context import auditlog_value, set_actor

    if actor is None or not getattr(actor, "pk", None):
        yield
        return
    try:
        context = auditlog_value.get()
    except LookupError:
        context = None
    if context is not None and context.get("actor") in (None, actor):
        previous = context.get("actor")
        context["actor"] = actor
        try:
            yield
        finally:
            context["actor"] = previous
        return
    with set_actor(actor):
        yield


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, recording the client address resolved behind the trusted
    proxies (``apps.core.net``) instead of believing any ``X-Forwarded-For`` a client sends."""

    @staticmethod
    def _get_remote_addr(request):
        from .net import resolve_client_address

        return resolve_client_address(request.META.get("REMOTE_ADDR"), None)
