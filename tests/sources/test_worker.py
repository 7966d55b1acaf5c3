"""The scheduled jobs run by a real Celery worker process against the test database."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.sources import selectors, services, tasks
from apps.sources.models import Facility, PatrolPlan, RepairTask

from .conftest import window_around

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """When browser tests ran earlier in the session, Playwright's (session-scoped) event loop is
    still marked running in this thread; these ORM calls are plain synchronous ones."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def test_worker_flags_missed_checkins_and_silent_devices(patrol, departments, celery_worker_process, transactional_db):
    now = timezone.now()
    (plan,) = services.patrol_plans_generate(date=selectors.night_of(now), windows=[window_around(now - timedelta(hours=3))])
    services.site_standards_ensure_defaults()
    site = services.protected_site_for_geofence(geofence=patrol.pier)
    camera = services.facility_register(site=site, kind="infrared", code="gt-ir-1", name="红外哨兵 1", responsible_department=departments["police"])
    services.facility_issue_token(facility=camera)
    Facility.objects.filter(pk=camera.pk).update(last_heartbeat_at=now - timedelta(minutes=30))

    assert tasks.flag_missed_checkins.delay().get(timeout=120) == 1
    assert tasks.check_device_heartbeats.delay().get(timeout=120) == 1
    plan.refresh_from_db()
    camera.refresh_from_db()
    assert plan.status == PatrolPlan.Status.MISSED
    assert camera.status == Facility.Status.DOWN
    assert RepairTask.objects.get(facility=camera).department.code == "police"
    # run again by the worker: nothing new
    assert tasks.flag_missed_checkins.delay().get(timeout=120) == 0
    assert tasks.check_device_heartbeats.delay().get(timeout=120) == 0
    assert RepairTask.objects.count() == 1
