"""Page forms: they parse and give Chinese messages; the rules live in services.py."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Bulletin, RewardRule, Tip

REQUIRED = {"required": _("此项必填。")}


class TipForm(forms.Form):
    category = forms.ChoiceField(label=_("看到了什么"), choices=Tip.Category.choices, widget=forms.RadioSelect, error_messages={"required": _("请选择看到的情况类别。"), "invalid_choice": _("请选择看到的情况类别。")})
    description = forms.CharField(label=_("情况描述"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000, "placeholder": _("船只/车辆特征、人数、货物、正在做什么……")}), error_messages={**REQUIRED, "max_length": _("情况描述不能超过 2000 字。")})
    place_text = forms.CharField(label=_("地点描述"), max_length=200, required=False, widget=forms.TextInput(attrs={"maxlength": 200, "placeholder": _("如：高塘岛某闲置码头东侧")}), error_messages={"max_length": _("地点描述不能超过 200 字。")})
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, error_messages={"invalid": _("地图位置无效。")})
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, error_messages={"invalid": _("地图位置无效。")})
    seen_at = forms.DateTimeField(label=_("发现时间"), required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"), error_messages={"invalid": _("发现时间格式不正确。")})
    contact_name = forms.CharField(label=_("称呼（选填）"), max_length=40, required=False, error_messages={"max_length": _("称呼不能超过 40 字。")})
    contact_phone = forms.CharField(label=_("联系方式（选填）"), max_length=60, required=False, error_messages={"max_length": _("联系方式不能超过 60 字。")})
    challenge_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)
    challenge_answer = forms.CharField(label=_("验证题"), max_length=6, required=False, widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": 6}))
    website = forms.CharField(required=False, max_length=200)  # honeypot: hidden from people, filled by bots


class StatusLookupForm(forms.Form):
    code = forms.CharField(label=_("举报编码"), max_length=20, error_messages=REQUIRED, widget=forms.TextInput(attrs={"placeholder": "XS-XXXX-XXXX", "autocomplete": "off", "autocapitalize": "characters"}))
    secret = forms.CharField(label=_("查询密钥"), max_length=64, error_messages=REQUIRED, widget=forms.PasswordInput(attrs={"autocomplete": "off"}))


class MessageForm(forms.Form):
    body = forms.CharField(label=_("留言"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}), error_messages={**REQUIRED, "max_length": _("留言不能超过 1000 字。")})


class BulletinForm(forms.ModelForm):
    class Meta:
        model = Bulletin
        fields = ["kind", "title", "summary", "source", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14}), "summary": forms.Textarea(attrs={"rows": 2})}


class RewardProposalForm(forms.Form):
    rule = forms.ModelChoiceField(label=_("奖励规则"), queryset=RewardRule.objects.filter(active=True), error_messages=REQUIRED)
    outcome = forms.ChoiceField(label=_("举报结果"), choices=RewardRule.Outcome.choices)
    goods_value_yuan = forms.DecimalField(label=_("案值（元）"), max_digits=14, decimal_places=2, min_value=0, initial=0)
    amount_yuan = forms.DecimalField(label=_("奖励金额（元）"), max_digits=12, decimal_places=2, min_value=0)
    reason = forms.CharField(label=_("理由"), max_length=500, required=False)
