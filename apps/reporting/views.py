"""Pages: the public ones (no login: tip form, status by code + secret, bulletins) and the
operations centre's (triage, bulletins). Thin: parse, call a service or selector, respond."""
from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import TemplateView
from django_ratelimit.decorators import ratelimit

from apps.core.permissions import RoleRequiredMixin
from apps.core.roles import COMMAND_ROLES, Role

from . import protection, selectors, services
from .forms import BulletinForm, MessageForm, RewardProposalForm, StatusLookupForm, TipForm
from .models import Bulletin, Reward, Tip, TipAttachment
from .uploads import MAX_FILES, MAX_IMAGE_BYTES, MAX_TOTAL_BYTES, MAX_VIDEO_BYTES, upload_clean

SESSION_KEY = "reporting_tip"
ACCESS_S = 30 * 60


def _messages_of(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages] or [_("提交的内容不正确。")]


def _form_errors(form) -> list[str]:
    out = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields and form.fields[field].label else ""
        out += [f"{label}：{e}" if label else str(e) for e in errors]
    return out


# --- public: home, bulletins, county outline ----------------------------------------------------
def public_home(request):
    return render(request, "reporting/public_home.html", {
        "latest": selectors.bulletins_public()[:8],
        "kinds": Bulletin.Kind.choices,
        "rules": selectors.reward_rules_public(),
    })


def bulletin_list(request):
    q = request.GET.get("q", "")[:100]
    kind = request.GET.get("kind", "")[:30]
    page = Paginator(selectors.bulletins_public(q=q, kind=kind), 20).get_page(request.GET.get("page"))
    return render(request, "reporting/bulletin_list.html", {"page": page, "q": q, "kind": kind, "kinds": Bulletin.Kind.choices})


def bulletin_detail(request, pk: int):
    bulletin = get_object_or_404(Bulletin.objects.published(), pk=pk)
    return render(request, "reporting/bulletin_detail.html", {"bulletin": bulletin})


@lru_cache(maxsize=1)
def _county_geojson() -> bytes:
    path = Path(settings.BASE_DIR) / "geodata" / "xiangshan_county_wgs84.geojson"
    try:
        return path.read_bytes()
    except OSError:
        return b'{"type": "FeatureCollection", "features": []}'


def county_geojson(request):
    """The county outline (WGS84) for the map picker, from the project's own file: works offline."""
    response = HttpResponse(_county_geojson(), content_type="application/geo+json")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- public: the tip form -------------------------------------------------------------------------
def _tip_page(request, form, errors: list[str], status: int = 200):
    return render(request, "reporting/tip_form.html", {
        "form": form, "errors": errors, "challenge": protection.challenge_new(),
        "max_files": MAX_FILES, "max_image_mb": MAX_IMAGE_BYTES // 1024 // 1024, "max_video_mb": MAX_VIDEO_BYTES // 1024 // 1024,
    }, status=status)


@csrf_exempt  # the CSRF check runs in _tip_submit, after the size check (so a huge body is never parsed)
@ratelimit(group="reporting.submit", key=protection.client_key, rate=protection.SUBMIT_RATE, method="POST", block=False)
@never_cache
def tip_form(request):
    protection.forget_address()
    if request.method == "POST":
        if getattr(request, "limited", False):
            return _tip_page(request, TipForm(), [_("提交过于频繁，请 10 分钟后再试。")], status=429)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_TOTAL_BYTES:
            return _tip_page(request, TipForm(), [_("提交的内容过大（照片和视频合计不能超过 %(mb)s MB）。") % {"mb": MAX_TOTAL_BYTES // 1024 // 1024}], status=413)
    return _tip_submit(request)


@csrf_protect
def _tip_submit(request):
    if request.method != "POST":
        return _tip_page(request, TipForm(), [])
    form = TipForm(request.POST)
    if request.POST.get("website"):
        return _tip_page(request, TipForm(), [_("提交未通过校验，请刷新页面后重新填写。")], status=400)
    try:
        protection.challenge_check(token=request.POST.get("challenge_token", ""), answer=request.POST.get("challenge_answer", ""))
    except ValidationError as exc:
        return _tip_page(request, form, _messages_of(exc), status=400)
    if not form.is_valid():
        return _tip_page(request, form, _form_errors(form), status=400)
    uploads = request.FILES.getlist("files")
    if len(uploads) > MAX_FILES:
        return _tip_page(request, form, [_("最多上传 %(n)s 个文件。") % {"n": MAX_FILES}], status=400)
    try:
        cleaned = []
        for upload in uploads:
            if upload.size > max(MAX_IMAGE_BYTES, MAX_VIDEO_BYTES):
                raise ValidationError(_("文件「%(name)s」过大。") % {"name": upload.name[-60:]})
            cleaned.append(upload_clean(name=upload.name, data=upload.read(), declared_type=upload.content_type or ""))
        data = form.cleaned_data
        receipt = services.tip_submit(
            category=data["category"], description=data["description"], place_text=data["place_text"],
            lon=data["lon"], lat=data["lat"], seen_at=data["seen_at"],
            contact_name=data["contact_name"], contact_phone=data["contact_phone"], files=cleaned,
        )
    except ValidationError as exc:
        return _tip_page(request, form, _messages_of(exc), status=400)
    response = render(request, "reporting/tip_receipt.html", {"code": receipt.code, "secret": receipt.secret})
    response["Cache-Control"] = "no-store"
    return response


# --- public: status and thread by code + secret ------------------------------------------------------
def _session_tip(request) -> Tip | None:
    access = request.session.get(SESSION_KEY)
    if not isinstance(access, dict) or access.get("until", 0) < time.time():
        return None
    return Tip.objects.filter(pk=access.get("id")).first()


def _status_page(request, *, tip: Tip | None, errors: list[str] = (), status: int = 200, form=None):
    context = {"errors": list(errors), "lookup_form": form or StatusLookupForm(), "message_form": MessageForm()}
    if tip is not None:
        context["view"] = selectors.tip_public_view(tip=tip)
    response = render(request, "reporting/tip_status.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@ratelimit(group="reporting.status", key=protection.client_key, rate=protection.STATUS_RATE, method="POST", block=False)
def tip_status(request):
    protection.forget_address()
    tip = _session_tip(request)
    if request.method != "POST":
        return _status_page(request, tip=tip)
    if getattr(request, "limited", False):
        return _status_page(request, tip=None, errors=[_("操作过于频繁，请 10 分钟后再试。")], status=429)
    action = request.POST.get("action", "lookup")
    if action == "lookup":
        form = StatusLookupForm(request.POST)
        if not form.is_valid():
            return _status_page(request, tip=None, errors=_form_errors(form), status=400, form=form)
        try:
            tip = services.tip_authenticate(code=form.cleaned_data["code"], secret=form.cleaned_data["secret"])
        except services.AccessRefused as exc:
            return _status_page(request, tip=None, errors=_messages_of(exc), status=429 if exc.code == "locked" else 403)
        request.session.cycle_key()
        request.session[SESSION_KEY] = {"id": tip.pk, "until": time.time() + ACCESS_S}
        return redirect("reporting:tip_status")
    if action == "leave":
        request.session.pop(SESSION_KEY, None)
        return redirect("reporting:tip_status")
    if tip is None:
        return _status_page(request, tip=None, errors=[_("请先输入举报编码和查询密钥。")], status=403)
    try:
        if action == "reply":
            services.tip_message_post_by_tipster(tip=tip, body=request.POST.get("body", ""))
        elif action == "claim":
            services.reward_claim(
                tip=tip, reward_id=_int_or_zero(request.POST.get("reward")), method=request.POST.get("method", ""),
                payee_name=request.POST.get("payee_name", ""), payee_account=request.POST.get("payee_account", ""),
            )
        else:
            raise ValidationError(_("未知操作。"))
    except ValidationError as exc:
        return _status_page(request, tip=tip, errors=_messages_of(exc), status=400)
    return redirect("reporting:tip_status")


def _int_or_zero(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- staff: triage and handling -------------------------------------------------------------------------
class CommandPage(RoleRequiredMixin):
    allowed_roles = COMMAND_ROLES


class TriageList(CommandPage, TemplateView):
    template_name = "reporting/triage_list.html"

    def get_context_data(self, **kwargs):
        state = self.request.GET.get("state", "")
        q = self.request.GET.get("q", "")[:100]
        page = Paginator(selectors.tips_for_triage(user=self.request.user, state=state, q=q), 50).get_page(self.request.GET.get("page"))
        return {**super().get_context_data(**kwargs), "page": page, "state": state, "q": q, "states": Tip.State.choices}


class TipDetail(CommandPage, View):
    template_name = "reporting/triage_detail.html"

    def _tip(self, pk: int) -> Tip:
        return get_object_or_404(Tip.objects.visible_to(self.request.user), pk=pk)

    def _render(self, request, tip: Tip, *, status: int = 200, proposal_form=None):
        return render(request, self.template_name, {
            "tip": tip,
            "attachments": tip.attachments.all(),
            "thread": tip.messages.select_related("handler"),
            "rewards": tip.rewards.select_related("rule", "proposed_by", "approved_by", "paid_by"),
            "proposal_form": proposal_form or RewardProposalForm(),
            "levels": Tip.Level.choices,
            "can_read_identity": request.user.has_perm(services.IDENTITY_PERMISSION),
            "identity_reads": tip.identity_reads.select_related("reader")[:20],
        }, status=status)

    def get(self, request, pk: int):
        return self._render(request, self._tip(pk))

    def post(self, request, pk: int):
        tip = self._tip(pk)
        action = request.POST.get("action", "")
        p = request.POST
        try:
            if action == "reply":
                services.tip_reply(tip=tip, actor=request.user, body=p.get("body", ""))
                messages.success(request, _("已回复举报人。"))
            elif action == "triage":
                services.tip_triage(tip=tip, actor=request.user, outcome=p.get("outcome", ""), note=p.get("note", ""), level=p.get("level") or None, duplicate_of_code=p.get("duplicate_of", ""))
                messages.success(request, _("研判结果已保存。"))
            elif action == "link":
                services.tip_link(tip=tip, actor=request.user, warning_id=p.get("warning") or None, case_id=p.get("case") or None)
                messages.success(request, _("关联已保存。"))
            elif action == "dispatch":
                services.tip_dispatch(tip=tip, actor=request.user, level=p.get("level") or None, note=p.get("note", ""))
                messages.success(request, _("已派发至相关部门。"))
            elif action == "close":
                services.tip_close(tip=tip, actor=request.user, note=p.get("note", ""))
                messages.success(request, _("举报已办结。"))
            elif action == "propose_reward":
                form = RewardProposalForm(p)
                if not form.is_valid():
                    raise ValidationError(_form_errors(form))
                services.reward_propose(tip=tip, actor=request.user, **form.cleaned_data)
                messages.success(request, _("奖励提议已提交，待指挥长审批。"))
            elif action in ("approve_reward", "reject_reward", "pay_reward"):
                reward = get_object_or_404(Reward, pk=_int_or_zero(p.get("reward")), tip=tip)
                if action == "approve_reward":
                    services.reward_approve(reward=reward, actor=request.user)
                elif action == "reject_reward":
                    services.reward_reject(reward=reward, actor=request.user, reason=p.get("reason", ""))
                else:
                    services.reward_pay(reward=reward, actor=request.user, payment_reference=p.get("payment_reference", ""))
                messages.success(request, _("奖励记录已更新。"))
            else:
                raise ValidationError(_("未知操作。"))
        except ValidationError as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
            return self._render(request, Tip.objects.get(pk=tip.pk), status=400)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("无权执行此操作。"))
            return self._render(request, Tip.objects.get(pk=tip.pk), status=403)
        return redirect("reporting:tip_detail", pk=tip.pk)


class AttachmentFile(RoleRequiredMixin, View):
    """A tip's photo or video, to the operations centre and auditors only (never a public URL)."""

    allowed_roles = COMMAND_ROLES | {Role.AUDITOR}

    def get(self, request, pk: int):
        attachment = get_object_or_404(TipAttachment.objects.select_related("tip"), pk=pk)
        if not Tip.objects.visible_to(request.user).filter(pk=attachment.tip_id).exists():
            raise Http404
        try:
            handle = attachment.file.open("rb")
        except OSError:
            raise Http404 from None
        ext = attachment.file.name.rsplit(".", 1)[-1]
        response = FileResponse(handle, content_type=attachment.content_type)
        response["Content-Disposition"] = f'inline; filename="{attachment.tip.code}-{attachment.pk}.{ext}"'
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
        return response


# --- staff: education and bulletins -------------------------------------------------------------------------
class BulletinManageList(CommandPage, View):
    template_name = "reporting/bulletin_manage.html"

    def _render(self, request, form, status=200):
        items = Bulletin.objects.select_related("author").order_by("-updated_at")
        return render(request, self.template_name, {"items": items, "form": form}, status=status)

    def get(self, request):
        return self._render(request, BulletinForm())

    def post(self, request):
        form = BulletinForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            bulletin = services.bulletin_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
            return self._render(request, form, status=400)
        messages.success(request, _("草稿已保存。"))
        return redirect("reporting:bulletin_edit", pk=bulletin.pk)


class BulletinEdit(CommandPage, View):
    template_name = "reporting/bulletin_edit.html"

    def get(self, request, pk: int):
        bulletin = get_object_or_404(Bulletin, pk=pk)
        return render(request, self.template_name, {"bulletin": bulletin, "form": BulletinForm(instance=bulletin)})

    def post(self, request, pk: int):
        bulletin = get_object_or_404(Bulletin, pk=pk)
        action = request.POST.get("action", "save")
        form = BulletinForm(request.POST, instance=Bulletin.objects.get(pk=pk)) if action == "save" else BulletinForm(instance=bulletin)
        try:
            if action == "save":
                if not form.is_valid():
                    return render(request, self.template_name, {"bulletin": bulletin, "form": form}, status=400)
                services.bulletin_update(bulletin=bulletin, actor=request.user, **form.cleaned_data)
                messages.success(request, _("已保存。"))
            elif action == "publish":
                services.bulletin_publish(bulletin=bulletin, actor=request.user)
                messages.success(request, _("已发布。"))
            elif action == "withdraw":
                services.bulletin_withdraw(bulletin=bulletin, actor=request.user)
                messages.success(request, _("已撤回。"))
            else:
                raise ValidationError(_("未知操作。"))
        except ValidationError as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
            return render(request, self.template_name, {"bulletin": Bulletin.objects.get(pk=pk), "form": form}, status=400)
        return redirect(reverse("reporting:bulletin_edit", args=[pk]))
