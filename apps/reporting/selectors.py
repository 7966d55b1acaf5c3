"""Public participation reads: what the tipster may see, lists for the pages, indicators."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Bulletin, Reward, RewardRule, Tip, TipMessage

# What the tipster sees for each state: a label and a sentence, nothing internal.
PUBLIC_STATUS = {
    Tip.State.NEW: (_("已受理"), _("您的举报已收到，正在核查。")),
    Tip.State.DUPLICATE: (_("已核查"), _("经核查，该情况已有群众反映，正在一并处理。感谢您的举报。")),
    Tip.State.FALSE: (_("已核查"), _("经核查，暂未发现走私线索。感谢您的关注。")),
    Tip.State.USEFUL: (_("线索有效"), _("经核查线索有效，正在安排处置。")),
    Tip.State.DISPATCHED: (_("正在处置"), _("已交由执法力量处置。")),
    Tip.State.CLOSED: (_("已办结"), _("该举报已办结。感谢您的举报。")),
}
PUBLIC_STEPS = [_("已受理"), _("已核查"), _("正在处置"), _("已办结")]


@dataclass(frozen=True)
class PublicMessage:
    author: str  # "举报人" or "办理人员": never a handler's name
    mine: bool
    body: str
    created_at: datetime


@dataclass(frozen=True)
class PublicTipView:
    code: str
    category: str
    created_at: datetime
    status: str
    explanation: str
    step: int
    messages: list[PublicMessage]
    claimable_rewards: list[dict]
    closed: bool


def _dispatch_finished(tip: Tip) -> bool:
    """Whether every enforcement task of the tip's dispatch has fed back or closed (exposes nothing else)."""
    if tip.dispatch_id is None:
        return False
    from apps.enforcement.models import Task

    states = set(Task.objects.filter(dispatch_id=tip.dispatch_id).values_list("state", flat=True))
    done = {Task.State.FEEDBACK_SUBMITTED, Task.State.CLOSED, Task.State.REJECTED}
    return bool(states) and states <= done and bool(states & {Task.State.FEEDBACK_SUBMITTED, Task.State.CLOSED})


def tip_public_view(*, tip: Tip) -> PublicTipView:
    """Everything the holder of the code and secret may see: status and the thread, no internals."""
    status, explanation = PUBLIC_STATUS[Tip.State(tip.state)]
    step = {"new": 0, "duplicate": 1, "false": 1, "useful": 1, "dispatched": 2, "closed": 3}[tip.state]
    if tip.state == Tip.State.DISPATCHED and _dispatch_finished(tip):
        status, explanation = _("处置完毕"), _("执法处置已完成，正在整理反馈。")
    messages = [
        PublicMessage(
            author=str(TipMessage.Author(m.author).label), mine=m.author == TipMessage.Author.TIPSTER, body=m.body, created_at=m.created_at
        )
        for m in tip.messages.all()
    ]
    rewards = [
        {"id": r.pk, "amount_yuan": r.amount_yuan, "state": r.get_state_display(), "claimed": bool(r.claimed_at), "paid": r.state == Reward.State.PAID, "claimable": r.state == Reward.State.APPROVED and not r.claimed_at}
        for r in tip.rewards.filter(state__in=[Reward.State.APPROVED, Reward.State.PAID])
    ]
    return PublicTipView(
        code=tip.code, category=tip.get_category_display(), created_at=tip.created_at, status=str(status),
        explanation=str(explanation), step=step, messages=messages, claimable_rewards=rewards, closed=tip.state == Tip.State.CLOSED,
    )


def tips_for_triage(*, user, state: str = "", q: str = "") -> QuerySet[Tip]:
    tips = Tip.objects.visible_to(user).annotate(
        n_files=Count("attachments", distinct=True), n_messages=Count("messages", distinct=True)
    ).order_by("-created_at", "-id")
    if state in Tip.State.values:
        tips = tips.filter(state=state)
    if q:
        tips = tips.filter(Q(code__icontains=q.strip()) | Q(description__icontains=q) | Q(place_text__icontains=q))
    return tips


def bulletins_public(*, q: str = "", kind: str = "") -> QuerySet[Bulletin]:
    """Published bulletins, newest first, searched in title, summary, body and source."""
    items = Bulletin.objects.published()
    if kind in Bulletin.Kind.values:
        items = items.filter(kind=kind)
    for word in (q or "").split()[:5]:
        items = items.filter(Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word) | Q(source__icontains=word))
    return items


def reward_rules_public() -> QuerySet[RewardRule]:
    return RewardRule.objects.filter(active=True)


def tip_indicators() -> dict:
    """Counts for the cockpit: tips per state, useful share, rewards paid."""
    by_state = dict(Tip.objects.values_list("state").annotate(n=Count("id")))
    total = sum(by_state.values())
    judged = total - by_state.get(Tip.State.NEW, 0)
    useful = Tip.objects.filter(triage_outcome="useful").count()
    return {
        "total": total,
        "by_state": {s: by_state.get(s, 0) for s in Tip.State.values},
        "useful_share": round(useful / judged, 3) if judged else None,
        "rewards_paid": Reward.objects.filter(state=Reward.State.PAID).count(),
    }
