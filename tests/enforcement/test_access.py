"""Role and department checks with real requests: pages and endpoints refuse what they must, allow what they should."""
import pytest

from apps.enforcement import services
from apps.enforcement.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatch(plans, users, make_warning):
    return services.dispatch_subject(subject=make_warning(level="orange"), actor=users["duty"])


def test_a_department_sees_only_its_own_tasks(dispatch, users, api_for):
    police_task = dispatch.tasks.get(department__code="police")
    coast_task = dispatch.tasks.get(department__code="coastguard")
    listed = api_for(users["police"]).get("/api/enforcement/tasks/").json()
    assert [t["id"] for t in listed["results"]] == [police_task.pk]
    assert api_for(users["police"]).get(f"/api/enforcement/tasks/{coast_task.pk}/").status_code == 404
    assert api_for(users["police"]).get(f"/api/enforcement/tasks/{police_task.pk}/").status_code == 200
    # the operations centre and the auditor see all of them
    assert api_for(users["duty"]).get("/api/enforcement/tasks/").json()["count"] == 4
    assert api_for(users["auditor"]).get("/api/enforcement/tasks/").json()["count"] == 4
    # field workers and anonymous users see none
    assert api_for(users["grid"]).get("/api/enforcement/tasks/").status_code == 403
    assert api_for().get("/api/enforcement/tasks/").status_code in (401, 403)


def test_only_the_tasks_department_acts_on_it(dispatch, users, api_for):
    coast_task = dispatch.tasks.get(department__code="coastguard")
    url = f"/api/enforcement/tasks/{coast_task.pk}/acknowledge/"
    assert api_for(users["police"]).post(url).status_code == 404          # another department
    forbidden = api_for(users["duty"]).post(url)                           # command roles do not acknowledge
    assert forbidden.status_code == 403 and "任务所属部门" in forbidden.json()["detail"]
    assert api_for(users["auditor"]).post(url).status_code == 403         # auditors only read
    assert Task.objects.get(pk=coast_task.pk).state == "new"
    assert api_for(users["coastguard"]).post(url).status_code == 200     # the right department
    assert Task.objects.get(pk=coast_task.pk).state == "acknowledged"


def test_the_department_head_acts_too_but_only_command_verifies_and_reassigns(dispatch, users, api_for, departments):
    task = dispatch.tasks.get(department__code="police")
    head = api_for(users["police_head"])
    base = f"/api/enforcement/tasks/{task.pk}/"
    assert head.post(base + "acknowledge/").status_code == 200
    assert head.post(base + "start/").status_code == 200
    assert head.post(base + "feedback/", {"text": "已到场", "result": "nothing_found", "arrived_at": task.assigned_at.isoformat()}, format="json").status_code == 200
    refused = head.post(base + "verify/")
    assert refused.status_code == 403 and "联合作战中心" in refused.json()["detail"]
    assert api_for(users["police"]).post(base + "reassign/", {"department": departments["hepu"].pk}, format="json").status_code == 403
    assert api_for(users["duty"]).post(base + "verify/").status_code == 200


def test_pages_check_role_and_department(dispatch, users, make_user, client):
    anonymous = client.get("/enforcement/board/")
    assert anonymous.status_code == 302
    client.force_login(users["police"])
    assert client.get("/enforcement/board/").status_code == 403
    inbox = client.get("/enforcement/inbox/")
    assert inbox.status_code == 200 and "部门任务" in inbox.content.decode()
    case = dispatch.case
    assert client.get(f"/enforcement/cases/{case.pk}/").status_code == 200      # police take part
    client.force_login(make_user("fish1", "dept_officer", "fisheries"))
    assert client.get(f"/enforcement/cases/{case.pk}/").status_code == 404      # fisheries do not
    client.force_login(users["duty"])
    board = client.get("/enforcement/board/")
    assert board.status_code == 200 and "任务看板" in board.content.decode()
    assert client.get("/enforcement/inbox/").status_code == 403
    assert client.get(f"/enforcement/cases/{case.pk}/").status_code == 200
    client.force_login(users["grid"])
    assert client.get("/enforcement/cases/").status_code == 403
    client.force_login(users["auditor"])
    assert client.get("/enforcement/board/").status_code == 200
    assert client.get("/enforcement/cases/").status_code == 200


def test_cases_are_scoped_to_participating_departments(dispatch, users, make_user, api_for):
    case = dispatch.case
    assert [c["id"] for c in api_for(users["police"]).get("/api/enforcement/cases/").json()["results"]] == [case.pk]
    fisher = make_user("fish2", "dept_officer", "fisheries")
    assert api_for(fisher).get("/api/enforcement/cases/").json()["count"] == 0
    assert api_for(fisher).get(f"/api/enforcement/cases/{case.pk}/").status_code == 404
    assert api_for(fisher).post(f"/api/enforcement/cases/{case.pk}/people/", {"role": "crew", "name": "张三"}).status_code == 404
    assert api_for(users["police"]).post(f"/api/enforcement/cases/{case.pk}/people/", {"role": "crew", "name": "张三"}).status_code == 200
    assert api_for(users["auditor"]).post(f"/api/enforcement/cases/{case.pk}/people/", {"role": "crew", "name": "李四"}).status_code == 403


def test_id_numbers_are_masked_outside_the_operations_centre(dispatch, users, api_for):
    services.case_add_person(case=dispatch.case, actor=users["duty"], role="boss", name="陈某", id_number="330225198001011234")
    police_view = api_for(users["police"]).get(f"/api/enforcement/cases/{dispatch.case.pk}/").json()
    assert police_view["people"][0]["id_number"] == "330***********1234"
    duty_view = api_for(users["duty"]).get(f"/api/enforcement/cases/{dispatch.case.pk}/").json()
    assert duty_view["people"][0]["id_number"] == "330225198001011234"


def test_bad_input_is_a_clear_400_not_a_500(dispatch, users, api_for):
    task = dispatch.tasks.get(department__code="police")
    duty = api_for(users["duty"])
    res = duty.post(f"/api/enforcement/tasks/{task.pk}/reassign/", {"department": "nowhere"}, format="json")
    assert res.status_code == 400 and "找不到部门" in str(res.json())
    res = api_for(users["police"]).post(f"/api/enforcement/tasks/{task.pk}/reject/", {"reason": ""}, format="json")
    assert res.status_code == 400 and "拒收理由" in str(res.json())
    res = duty.post(f"/api/enforcement/cases/{dispatch.case.pk}/goods/", {"kind": "gold", "quantity": "x"}, format="json")
    assert res.status_code == 400
    body = str(res.json())
    assert "物品类别" in body and "数量必须是数字" in body
