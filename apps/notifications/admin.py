"""Admin: channels (secrets write-only, sealed on save), notifications and attempts read-only."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import sealing, services
from .models import Attempt, Channel, Notification

SECRET_NAMES = sorted({f for fields in sealing.SECRET_FIELDS.values() for f in fields})


class ChannelForm(forms.ModelForm):
    """Secret fields are empty on every page load: typed values replace the stored ones, blanks keep them."""

    class Meta:
        model = Channel
        fields = ["name", "kind", "department", "user", "active", "options"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = set(sealing.unseal(self.instance.secrets_sealed)) if self.instance.pk and self.instance.secrets_sealed else set()
        for name in SECRET_NAMES:
            self.fields[f"secret_{name}"] = forms.CharField(
                label=name, required=False, widget=forms.PasswordInput(render_value=False),
                help_text=_("已设置（不再显示），留空保持原值") if name in stored else _("可填写 env:变量名"),
            )

    def secrets(self) -> dict[str, str]:
        allowed = sealing.SECRET_FIELDS.get(self.cleaned_data.get("kind"), ())
        return {n: self.cleaned_data.get(f"secret_{n}", "") for n in allowed}

    def clean(self):
        data = super().clean()
        if data.get("department") and data.get("user"):
            raise ValidationError(_("通道属于一个部门或一个人，不能同时指定。"))
        try:
            services.channel_check(channel=self.instance if self.instance.pk else None, name=data.get("name", ""),
                                   kind=data.get("kind", ""), department=data.get("department"),
                                   options=data.get("options"), secrets=self.secrets())
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return data


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ["name", "kind", "department", "user", "active", "updated_at"]
    list_filter = ["kind", "active", "department"]

    def save_model(self, request, obj, form, change):
        saved = services.channel_save(
            actor=request.user, channel=Channel.objects.get(pk=obj.pk) if change else None,
            name=form.cleaned_data["name"], kind=form.cleaned_data["kind"], department=form.cleaned_data.get("department"),
            user=form.cleaned_data.get("user"), active=form.cleaned_data.get("active", True),
            options=form.cleaned_data.get("options") or {}, secrets=form.secrets(),
        )
        obj.pk = saved.pk


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "started_at", "finished_at", "outcome", "http_status", "gateway_code", "detail"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "route", "channel", "recipient", "title", "state", "attempt_count"]
    list_filter = ["state", "route", "channel_kind", "reason", "level"]
    search_fields = ["title", "recipient"]
    inlines = [AttemptInline]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
