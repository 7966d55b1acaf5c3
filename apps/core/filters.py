import django_filters
from auditlog.models import LogEntry
from django import forms


class IPAddressFilter(django_filters.CharFilter):
    """An IPv4/IPv6 address; anything else is a 400 (not a database error)."""

    field_class = forms.GenericIPAddressField


class AuditEntryFilter(django_filters.FilterSet):
    """Search the audit trail: ``?model=enforcement.task&object_pk=3&actor=duty1&since=...&until=...&q=...``."""

    model = django_filters.CharFilter(method="filter_model")
    actor = django_filters.CharFilter(field_name="actor__username")
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")
    action = django_filters.NumberFilter(field_name="action")
    q = django_filters.CharFilter(method="filter_text")
    remote_addr = IPAddressFilter(field_name="remote_addr")

    class Meta:
        model = LogEntry
        fields = ["object_pk"]

    def filter_model(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_text(self, queryset, name, value):
        return queryset.filter(object_repr__icontains=value) | queryset.filter(changes_text__icontains=value)
