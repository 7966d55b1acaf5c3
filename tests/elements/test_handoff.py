"""The store -> detect hand-off survives crashes on either side: every stored fix is judged once."""
from __future__ import annotations

import pytest

from apps.elements import handoff, services
from apps.elements.convert import fix_to_wire
from apps.elements.models import FixHandoff, StoredFix, Warning

from .conftest import landing_fixes, local_night

pytestmark = pytest.mark.django_db


def _store(fixes, partition=0):
    return services.fix_batch_store(run_id=None, partition=partition, fixes=[fix_to_wire(f) for f in fixes])


def test_stored_fixes_are_marked_in_their_transaction_and_the_mark_goes_with_the_detect_commit(demo_geo):
    fixes = landing_fixes(demo_geo["demo-gt-02"], vessel_id="412447001", night=local_night(2), source="ais")
    r = _store(fixes)
    assert r["stored"] == len(fixes) and r["handoff"] == FixHandoff.objects.get().pk
    assert handoff.pending() == {"marks": 1, "fixes": len(fixes)}

    d = services.fix_batch_detect(run_id=None, upto=r["handoff"])
    assert d["detected"] == len(fixes) and d["warnings_new"] == 1
    assert handoff.pending() == {"marks": 0, "fixes": 0}
    # a second detect step (a redelivered task) judges nothing again
    assert services.fix_batch_detect(run_id=None, upto=r["handoff"])["detected"] == 0
    assert Warning.objects.count() == 1


def test_a_detect_step_that_dies_before_its_commit_leaves_the_marks_for_the_next(demo_geo, monkeypatch):
    fixes = landing_fixes(demo_geo["demo-gt-02"], vessel_id="412447001", night=local_night(2), source="ais")
    r = _store(fixes)

    real = services.warning_events_apply

    def dying(*, events_, counts):
        real(events_=events_, counts=counts)  # the warnings are written ...
        raise SystemExit("worker killed")  # ... and the process dies before the commit

    monkeypatch.setattr(services, "warning_events_apply", dying)
    with pytest.raises(SystemExit):
        services.fix_batch_detect(run_id=None, upto=r["handoff"])
    monkeypatch.setattr(services, "warning_events_apply", real)
    assert Warning.objects.count() == 0 and handoff.pending()["fixes"] == len(fixes)

    # the crashed store step's task comes back: the fixes are duplicates now, nothing new is marked ...
    again = _store(fixes)
    assert again["stored"] == 0 and again["duplicates"] == len(fixes)
    # ... but the bound it reports still covers the mark the crash left, so the next detect step judges it
    d = services.fix_batch_detect(run_id=None, upto=again["handoff"])
    assert d["detected"] == len(fixes) and d["warnings_new"] == 1
    assert handoff.pending()["marks"] == 0 and StoredFix.objects.count() == len(fixes)


def test_a_detect_step_judges_only_marks_up_to_its_bound(demo_geo):
    night = local_night(2)
    first = landing_fixes(demo_geo["demo-gt-02"], vessel_id="412447001", night=night, source="ais")
    second = landing_fixes(demo_geo["demo-gt-01"], vessel_id="412447002", night=night, source="ais")
    r1 = _store(first, partition=0)
    r2 = _store(second, partition=1)
    assert r2["handoff"] > r1["handoff"]
    assert services.fix_batch_detect(run_id=None, upto=r1["handoff"])["detected"] == len(first)
    assert handoff.pending()["fixes"] == len(second)  # the next slice's marks wait for their own step
    assert services.fix_batch_detect(run_id=None, upto=None)["detected"] == len(second)


def _scenario_file(path, demo_geo) -> None:
    from .conftest import ais_lines

    night = local_night(2)
    fixes = []
    for i, code in enumerate(("demo-gt-02", "demo-gt-01", "demo-ds-01")):
        fixes += landing_fixes(demo_geo[code], vessel_id=f"41244710{i}", night=night, source="ais")
    path.write_text("\n".join(ais_lines(sorted(fixes, key=lambda f: (f.ts, f.vessel_id)))) + "\n")


def _outcome():
    fixes = sorted(StoredFix.objects.values_list("vessel__external_id", "ts", "lon_e7", "lat_e7"))
    warnings = sorted((w.kind, tuple(w.vessels), w.start, w.level) for w in Warning.objects.all())
    return fixes, warnings


def test_running_a_file_again_after_a_crash_repairs_what_the_crash_left(demo_geo, tmp_path, monkeypatch):
    from apps.elements import runtime, state
    from apps.elements.models import IngestRun, Vessel

    from .conftest import run_json

    path = tmp_path / "three.nmea"
    _scenario_file(path, demo_geo)
    clean_totals = run_json("ingest_ais", str(path), "--batch-size", "40", "--no-progress")
    clean = _outcome()
    assert len(clean[1]) == 3 and clean_totals["stored"] == len(clean[0])
    for model in (Warning, StoredFix, Vessel, IngestRun):
        model.objects.all().delete()
    state.state_clear()
    runtime.reset()
    runtime.context_changed()

    # the process dies (Ctrl-C, SIGTERM, a worker's death in the embedded default) in the 4th detect step
    real, calls = services.warning_events_apply, []

    def dying(**kwargs):
        calls.append(1)
        real(**kwargs)
        if len(calls) == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(services, "warning_events_apply", dying)
    with pytest.raises(KeyboardInterrupt):
        run_json("ingest_ais", str(path), "--batch-size", "40", "--no-progress")
    monkeypatch.setattr(services, "warning_events_apply", real)
    crashed = IngestRun.objects.get()
    assert crashed.status == IngestRun.Status.FAILED and "中断" in crashed.error  # not left running
    stored_before = StoredFix.objects.count()
    assert 0 < stored_before < len(clean[0]) and handoff.pending()["fixes"] > 0

    again = run_json("ingest_ais", str(path), "--batch-size", "40", "--no-progress")
    assert again["stored"] == len(clean[0]) - stored_before and again["duplicates"] == stored_before
    assert not again["errors"] and handoff.pending()["marks"] == 0
    assert _outcome() == clean  # the same fixes and the same warnings as a clean run
