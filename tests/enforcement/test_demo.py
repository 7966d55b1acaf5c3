"""The demo: plans, the demo warnings dispatched, a tobacco case mid-way through disposal; idempotent."""
import io

import pytest

from apps.enforcement.models import Case, DispatchPlan, Task
from apps.enforcement.plan_defaults import DEFAULT_PLANS

pytestmark = pytest.mark.django_db


def test_demo_loads_twice_without_duplicates(make_warning, settings, tmp_path):
    from apps.core import demo as core_demo
    from apps.enforcement import demo

    settings.MEDIA_ROOT = tmp_path / "media"
    core_demo.load(io.StringIO())
    red = make_warning(level="red")
    make_warning(level="blue")
    out = io.StringIO()
    demo.load(out)
    demo.load(io.StringIO())
    assert DispatchPlan.objects.count() == len(DEFAULT_PLANS)
    assert Task.objects.filter(warning=red).count() == 9
    case = Case.objects.get(title=demo.CASE_TITLE)
    goods = case.goods.get()
    assert goods.kind == "tobacco"
    assert list(goods.steps.values_list("step", flat=True)) == ["handover", "receiving_site", "count_confirm"]
    assert case.evidence.count() == 1
    assert Task.objects.exclude(state="new").exists()  # some progress for the board
    assert "tobacco disposal at step 4 of 7" in out.getvalue()
