"""Rewards: rules (regular, campaign), proposal → approval → paid, approver ≠ proposer, paid to the tip code."""
from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.reporting import crypto, services
from apps.reporting.models import Reward

pytestmark = pytest.mark.django_db


@pytest.fixture
def useful(media_root, users):
    receipt = services.tip_submit(category="boat_unloading", description="夜里有船靠岸卸货，搬了很多箱子。", place_text="高塘岛")
    services.tip_triage(tip=receipt.tip, actor=users["duty"], outcome="useful")
    return receipt


@pytest.fixture
def rule(users):
    return services.reward_rule_save(actor=users["commander"], name="常态查获奖励", kind="regular", outcome="seizure", amount_min_yuan=1000, amount_max_yuan=20000, goods_value_max_yuan=1000000)


def test_rules_are_set_by_the_commander_and_checked(users):
    with pytest.raises(PermissionDenied):
        services.reward_rule_save(actor=users["duty"], name="x", kind="regular", outcome="seizure", amount_min_yuan=1, amount_max_yuan=2)
    with pytest.raises(ValidationError, match="上限不能低于下限"):
        services.reward_rule_save(actor=users["commander"], name="x", kind="regular", outcome="seizure", amount_min_yuan=5, amount_max_yuan=2)
    with pytest.raises(ValidationError, match="起止日期"):
        services.reward_rule_save(actor=users["commander"], name="x", kind="campaign", outcome="seizure", amount_min_yuan=1, amount_max_yuan=2)


def test_proposal_approval_payment_to_the_tip_code(client, users, make_user, useful, rule):
    tip = useful.tip
    commander2 = make_user("commander2", "commander", "antismuggling")
    with pytest.raises(ValidationError, match="1000.00 至 20000.00"):
        services.reward_propose(tip=tip, actor=users["duty"], rule=rule, outcome="seizure", amount_yuan=50000, goods_value_yuan=300000)
    with pytest.raises(ValidationError, match="只适用于"):
        services.reward_propose(tip=tip, actor=users["duty"], rule=rule, outcome="useful_clue", amount_yuan=5000)
    with pytest.raises(PermissionDenied):
        services.reward_propose(tip=tip, actor=users["police"], rule=rule, outcome="seizure", amount_yuan=5000)

    # proposed through the page by the commander
    client.force_login(users["commander"])
    res = client.post(f"/public/manage/tips/{tip.pk}/", {"action": "propose_reward", "rule": rule.pk, "outcome": "seizure", "goods_value_yuan": "300000", "amount_yuan": "8000", "reason": "查获冻品"})
    assert res.status_code == 302
    reward = Reward.objects.get()
    assert reward.state == Reward.State.PROPOSED and reward.proposed_by == users["commander"]
    with pytest.raises(ValidationError, match="已有奖励记录"):
        services.reward_propose(tip=tip, actor=users["duty"], rule=rule, outcome="seizure", amount_yuan=5000)

    # the proposer cannot approve; a duty officer cannot approve at all
    res = client.post(f"/public/manage/tips/{tip.pk}/", {"action": "approve_reward", "reward": reward.pk})
    assert res.status_code == 400 and "审批人不能与提议人为同一人" in res.content.decode()
    with pytest.raises(PermissionDenied):
        services.reward_approve(reward=reward, actor=users["duty"])
    assert Reward.objects.get().state == Reward.State.PROPOSED
    services.reward_approve(reward=reward, actor=commander2)
    reward.refresh_from_db()
    assert reward.state == Reward.State.APPROVED and reward.approved_by == commander2

    # payment waits for the tipster's claim with code + secret
    with pytest.raises(ValidationError, match="尚未凭举报编码申请领取"):
        services.reward_pay(reward=reward, actor=users["duty"], payment_reference="PAY-1")
    tipster = client.__class__()
    tipster.post("/public/tip/status/", {"action": "lookup", "code": useful.code, "secret": useful.secret})
    page = tipster.get("/public/tip/status/").content.decode()
    assert "8000.00" in page and "申请领取" in page
    assert tipster.post("/public/tip/status/", {"action": "claim", "reward": reward.pk, "method": "by_code"}).status_code == 302
    reward.refresh_from_db()
    assert reward.claim_method == "by_code" and reward.claimed_at and reward.payee_ciphertext == ""
    assert tipster.post("/public/tip/status/", {"action": "claim", "reward": reward.pk, "method": "by_code"}).status_code == 400

    services.reward_pay(reward=reward, actor=users["duty"], payment_reference="XS-PAY-0001")
    reward.refresh_from_db()
    assert reward.state == Reward.State.PAID and reward.paid_to_code == useful.code and reward.paid_by == users["duty"]
    states = [e.changes_dict.get("state") for e in LogEntry.objects.get_for_object(reward).filter(action=LogEntry.Action.UPDATE).order_by("timestamp")]
    assert ["proposed", "approved"] in states and ["approved", "paid"] in states
    assert "已发放" in tipster.get("/public/tip/status/").content.decode()


def test_the_tipster_may_choose_to_reveal_a_name_for_payment_kept_encrypted(client, users, make_user, useful, rule):
    reward = services.reward_propose(tip=useful.tip, actor=users["duty"], rule=rule, outcome="seizure", amount_yuan=Decimal("1500"))
    services.reward_approve(reward=reward, actor=users["commander"])
    client.post("/public/tip/status/", {"action": "lookup", "code": useful.code, "secret": useful.secret})
    res = client.post("/public/tip/status/", {"action": "claim", "reward": reward.pk, "method": "reveal_name"})
    assert res.status_code == 400 and "必填" in res.content.decode()
    res = client.post("/public/tip/status/", {"action": "claim", "reward": reward.pk, "method": "reveal_name", "payee_name": "王五", "payee_account": "6222000011112222"})
    assert res.status_code == 302
    reward.refresh_from_db()
    assert "王五" not in reward.payee_ciphertext and crypto.unseal(reward.payee_ciphertext) == {"name": "王五", "account": "6222000011112222"}
    assert not any("6222000011112222" in e.changes for e in LogEntry.objects.get_for_object(reward))


def test_campaign_rules_apply_only_inside_their_dates(users, useful):
    today = timezone.localdate()
    past = services.reward_rule_save(actor=users["commander"], name="去年专项", kind="campaign", outcome="seizure", amount_min_yuan=5000, amount_max_yuan=50000, campaign_start=today - timedelta(days=400), campaign_end=today - timedelta(days=300))
    with pytest.raises(ValidationError, match="专项奖励活动期间"):
        services.reward_propose(tip=useful.tip, actor=users["duty"], rule=past, outcome="seizure", amount_yuan=6000)
    current = services.reward_rule_save(actor=users["commander"], name="本期专项", kind="campaign", outcome="seizure", amount_min_yuan=5000, amount_max_yuan=50000, campaign_start=today - timedelta(days=5), campaign_end=today + timedelta(days=5))
    assert services.reward_propose(tip=useful.tip, actor=users["duty"], rule=current, outcome="seizure", amount_yuan=6000).state == "proposed"


def test_no_reward_for_a_tip_not_judged_useful(users, media_root, rule):
    tip = services.tip_submit(category="other", description="听说有人走私", place_text="不详").tip
    with pytest.raises(ValidationError, match="研判有效"):
        services.reward_propose(tip=tip, actor=users["duty"], rule=rule, outcome="seizure", amount_yuan=2000)
