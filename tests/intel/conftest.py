"""Key-element tests: a small network around a closed case (real services, real database)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.elements.conftest import clean_pipeline, demo_geo  # noqa: F401  (fixtures reused)

ID_ZHANG = "330225198001010018"  # valid check digit


@pytest.fixture
def closed_case(db, departments):
    """Case 3·12 (closed): boss 张三 (with ID number), truck 浙B12345, boat 浙象渔00312."""
    from apps.enforcement.models import Case, CasePerson, CaseVehicle, CaseVessel
    from apps.intel.services import links_from_case

    case = Case.objects.create(number="3·12", title="冻品走私案", status=Case.Status.CLOSED,
                               closed_at=datetime(2026, 4, 1, tzinfo=UTC))
    case.departments.add(departments["police"])
    CasePerson.objects.create(case=case, role="boss", name="张三", id_number=ID_ZHANG)
    CaseVehicle.objects.create(case=case, plate="浙B·12345", description="厢式货车")
    CaseVessel.objects.create(case=case, name="浙象渔00312", external_id="412400312")
    links_from_case(case=case)
    return case
