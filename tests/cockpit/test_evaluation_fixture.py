"""The department evaluation against a hand-computed fixture.

Tasks, seized goods, disposal chains and tips are built with exact timestamps (Asia/Shanghai)
in March 2026; the expected numbers are worked out by hand in the comments and asserted
exactly, through the selector, the API, the page and both exports.
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
START, END = "2026-03-01", "2026-03-31"


def t(s: str) -> datetime:
    """A local (Asia/Shanghai) time: '03-01 00:30' -> 2026-03-01T00:30+08:00."""
    return datetime.strptime(f"2026-{s}", "%Y-%m-%d %H:%M").replace(tzinfo=SH)


class Build:
    def __init__(self, departments, users):
        self.d = departments
        self.users = users
        self.n = 0

    def _subject(self, tip=None):
        from apps.elements.models import Warning

        self.n += 1
        if tip is not None:
            return ContentType.objects.get_for_model(tip), tip.pk, None
        w = Warning.objects.create(
            kind="idle_pier_landing", level="orange", score=70, episode_key=f"fixture-{self.n}",
            start=t("03-01 00:00"), end=t("03-01 01:00"), status="dispatched",
        )
        return ContentType.objects.get_for_model(w), w.pk, w

    def task(self, dept: str, assigned: str, *, ack=None, arrived=None, feedback=None, result="", text="",
             state="new", tip=None, ack_min=10, arrive_min=60, feedback_min=240):
        from apps.enforcement.models import Dispatch, Task

        ctype, oid, warning = self._subject(tip)
        dispatch = Dispatch.objects.create(content_type=ctype, object_id=oid, warning=warning, title=f"派发 {self.n}", level="orange")
        at = t(assigned)
        return Task.objects.create(
            dispatch=dispatch, warning=warning, department=self.d[dept], slot=f"sea:{dept}", sector="sea", level="orange",
            title=f"任务 {self.n}", state=state, ack_minutes=ack_min, arrive_minutes=arrive_min, feedback_minutes=feedback_min,
            assigned_at=at, ack_due_at=at + timedelta(minutes=ack_min), arrive_due_at=at + timedelta(minutes=arrive_min),
            feedback_due_at=at + timedelta(minutes=feedback_min),
            acknowledged_at=t(ack) if ack else None, arrived_at=t(arrived) if arrived else None,
            started_at=t(ack) if arrived else None, feedback_at=t(feedback) if feedback else None,
            feedback_result=result, feedback_text=text, closed_at=t(feedback) + timedelta(hours=1) if state == "closed" else None,
            rejected_at=t(assigned) + timedelta(minutes=5) if state == "rejected" else None,
        )

    def tip(self, code: str):
        from apps.reporting.models import Tip

        return Tip.objects.create(code=code, secret_hash="x", category="boat_unloading", description="有船夜间卸货", state="dispatched")

    def goods(self, dept: str, seized: str, steps: int):
        from apps.enforcement.models import DISPOSAL_ORDER, Case, DisposalStep, SeizedGoods

        self.n += 1
        case = Case.objects.create(number=f"XS-FIX-{self.n}", title="夜间走私冻品案")
        g = SeizedGoods.objects.create(
            case=case, kind="frozen_goods", description="冻品", quantity=Decimal("10"), unit="吨",
            estimated_value_yuan=Decimal("300000"), custodian_department=self.d[dept], seized_at=t(seized),
        )
        for i, step in enumerate(DISPOSAL_ORDER[:steps]):
            DisposalStep.objects.create(goods=g, step=step, order=i + 1, signed_by=self.users["commander"],
                                        department=self.d[dept], signed_at=t(seized) + timedelta(days=i + 1))
        return g


@pytest.fixture
def fixture_data(departments, users):
    b = Build(departments, users)
    tip1, tip2 = b.tip("TIP-A1"), b.tip("TIP-A2")
    # --- 县公安局 (police) --------------------------------------------------------------------
    # P1 03-01 00:30 local (= 02-28 16:30 UTC: inside the local month); ack +5 min, arrived 01:20
    #    (due 01:30), feedback 04:00 (due 04:30) with result and text; verified closed; from tip 1.
    b.task("police", "03-01 00:30", ack="03-01 00:35", arrived="03-01 01:20", feedback="03-01 04:00",
           result="seized", text="查获冻品 10 吨", state="closed", tip=tip1)
    # P2 03-05 02:00; ack 02:20 (20 min; due 02:10: late); arrived 03:30 (due 03:00: late);
    #    feedback 05:00 (due 06:00: on time) with a result but no text (incomplete); from tip 2, not closed.
    b.task("police", "03-05 02:00", ack="03-05 02:20", arrived="03-05 03:30", feedback="03-05 05:00",
           result="nothing_found", text="", state="feedback_submitted", tip=tip2)
    # P3 03-20 23:00; ack 23:08 (8 min, on time); never arrived nor fed back (deadlines long past).
    b.task("police", "03-20 23:00", ack="03-20 23:08", state="acknowledged")
    # Outside the period: 02-28 23:59 and 04-01 00:00 local (the end date is inclusive up to 24:00).
    b.task("police", "02-28 23:59", ack="03-01 00:01", state="acknowledged")
    b.task("police", "04-01 00:00", ack="04-01 00:01", state="acknowledged")
    # --- 海警工作站 (coastguard) ----------------------------------------------------------------
    # C1 03-10 22:00; ack 22:30 (30 min, late); arrived 22:50 (due 23:00, on time); feedback
    #    03-11 01:00 (due 02:00, on time), complete; closed.
    b.task("coastguard", "03-10 22:00", ack="03-10 22:30", arrived="03-10 22:50", feedback="03-11 01:00",
           result="intercepted", text="拦截盘查", state="closed")
    # C2 03-11 22:00 rejected: received, but no deadline steps and no feedback owed.
    b.task("coastguard", "03-11 22:00", state="rejected")
    # --- 鹤浦镇 (hepu) ----------------------------------------------------------------------------
    # H1 03-15 03:00; ack 03:04 (4 min); arrived 03:40 (due 04:00); feedback 07:30 (due 07:00: late), complete.
    b.task("hepu", "03-15 03:00", ack="03-15 03:04", arrived="03-15 03:40", feedback="03-15 07:30",
           result="seized", text="查获白糖", state="closed")
    # --- seized goods -----------------------------------------------------------------------------
    b.goods("police", "03-03 05:00", steps=7)  # full chain: done
    b.goods("police", "03-10 05:00", steps=3)  # stopped at count-confirm: not done
    b.goods("hepu", "03-20 05:00", steps=7)  # done
    b.goods("coastguard", "02-20 05:00", steps=7)  # seized before the period: not counted
    return b


# Hand computation (default weights: received .10, ack .20, on-time .25, feedback .15, disposal .15, tips .15)
#
#                     received  ack median  steps on time  feedback  disposal  tips
# police (P1-P3)          3       8 (5,20,8)   5/9           1/3       1/2       1/2
# coastguard (C1, C2)     2      30            2/3 (C1)      1/1       —         —
# hepu (H1)               1       4            2/3           1/1       1/1       —
# customs, others         0       —            —             —         —         —
#
# police steps: P1 3 of 3; P2 ack late, arrive late, feedback on time: 1 of 3; P3 ack on time,
#   arrive and feedback due and missed: 1 of 3 -> 5/9. Feedback owed by P1, P2, P3; complete only P1.
# Scores: received n/3; ack (30 - v)/(30 - 4) -> police 22/26, coastguard 0, hepu 1.
# police     = .1*1 + .2*22/26 + .25*5/9 + .15*1/3 + .15*.5 + .15*.5 = .608120 -> 60.81
# coastguard = (.1*2/3 + .2*0 + .25*2/3 + .15*1) / (.1+.2+.25+.15) = .383333/.7 = .547619 -> 54.76
# hepu       = (.1*1/3 + .2*1 + .25*2/3 + .15*1 + .15*1) / .85 = .7/.85 = .823529 -> 82.35
# customs and the other departments: only "received" applies, score 0 -> 0.0, all ranked 4th.
EXPECTED = {
    "鹤浦镇": dict(rank=1, total=82.35, tasks_received=1, ack_median_min=4.0, steps_on_time=2, steps_due=3,
                 feedback_done=1, feedback_due=1, disposals_done=1, disposals_total=1, tips_closed=0, tips_total=0,
                 on_time_rate=66.67, feedback_rate=100.0, disposal_rate=100.0, tips_rate=None),
    "县公安局": dict(rank=2, total=60.81, tasks_received=3, ack_median_min=8.0, steps_on_time=5, steps_due=9,
                  feedback_done=1, feedback_due=3, disposals_done=1, disposals_total=2, tips_closed=1, tips_total=2,
                  on_time_rate=55.56, feedback_rate=33.33, disposal_rate=50.0, tips_rate=50.0),
    "海警工作站": dict(rank=3, total=54.76, tasks_received=2, ack_median_min=30.0, steps_on_time=2, steps_due=3,
                   feedback_done=1, feedback_due=1, disposals_done=0, disposals_total=0, tips_closed=0, tips_total=0,
                   on_time_rate=66.67, feedback_rate=100.0, disposal_rate=None, tips_rate=None),
    "海关": dict(rank=4, total=0.0, tasks_received=0, ack_median_min=None, on_time_rate=None, feedback_rate=None),
}


def _check(rows):
    by_name = {r["department"]: r for r in rows}
    assert len(rows) == 14
    for name, expected in EXPECTED.items():
        got = {k: by_name[name][k] for k in expected}
        assert got == expected, name
    assert [r["department"] for r in rows[:3]] == ["鹤浦镇", "县公安局", "海警工作站"]
    assert all(r["rank"] == 4 and r["total"] == 0.0 for r in rows[3:])


def test_selector_matches_the_hand_computation(fixture_data):
    from datetime import date

    from apps.cockpit.selectors import department_evaluation

    data = department_evaluation(start=date(2026, 3, 1), end=date(2026, 3, 31))
    _check(data["rows"])
    assert data["weights"]["on_time"] == 0.25


def test_api_page_and_exports_show_the_same_numbers(fixture_data, api_for, users, client):
    res = api_for(users["auditor"]).get("/api/cockpit/evaluation/", {"start": START, "end": END})
    assert res.status_code == 200
    _check(res.json()["rows"])

    client.force_login(users["duty"])
    page = client.get("/cockpit/evaluation/", {"start": START, "end": END}).content.decode()
    assert page.index("鹤浦镇") < page.index("县公安局") < page.index("海警工作站")
    assert "82.35" in page and "60.81" in page and "5/9" in page

    from openpyxl import load_workbook

    xlsx = client.get("/cockpit/evaluation/export.xlsx", {"start": START, "end": END})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(xlsx.content))
    ws = wb["部门排名"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    header = rows[2]
    assert header[:3] == ("排名", "部门", "综合得分")
    table = {r[1]: r for r in rows[3:]}
    assert table["鹤浦镇"][0] == 1 and table["鹤浦镇"][2] == pytest.approx(82.35)
    assert table["县公安局"][2] == pytest.approx(60.81) and table["县公安局"][4] == pytest.approx(8.0)
    assert table["海警工作站"][7] is None  # no seized goods: not applicable, left empty
    weights = {r[0]: r[1] for r in wb["权重"].iter_rows(values_only=True) if r and r[0]}
    assert weights["按时率"] == pytest.approx(0.25) and weights["合计"] == pytest.approx(1.0)

    pdf = client.get("/cockpit/evaluation/export.pdf", {"start": START, "end": END})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    pages = re.findall(rb"/Type /Page[^s]", pdf.content)  # reportlab writes plain page dictionaries
    assert len(pages) >= 1
    assert b"/STSong-Light" in pdf.content  # the CJK font that renders the Chinese


def test_changing_the_weights_reorders_the_ranking(fixture_data, users):
    from datetime import date

    from apps.cockpit.selectors import department_evaluation
    from apps.cockpit.services import evaluation_weights_update

    # Only the workload counts: police (3 tasks) first, coastguard (2) second, hepu (1) third.
    evaluation_weights_update(actor=users["commander"], weights={
        "received": "1", "ack_time": "0", "on_time": "0", "feedback": "0", "disposal": "0", "tips": "0"})
    rows = department_evaluation(start=date(2026, 3, 1), end=date(2026, 3, 31))["rows"]
    assert [(r["department"], r["total"]) for r in rows[:3]] == [("县公安局", 100.0), ("海警工作站", 66.67), ("鹤浦镇", 33.33)]
