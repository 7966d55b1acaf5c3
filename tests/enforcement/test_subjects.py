"""Where and who (issue 14): every task carries its place, vessels, plates and warning time —
in the API (inbox, board, case), in notices, filterable and sortable by level, due time and place."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.enforcement import services
from apps.enforcement.subjects import geo_uri, subject_cards, subject_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def boat(db):
    from apps.elements.models import Vessel

    return Vessel.objects.create(external_id="412440777", name="浙象渔运88", callsign="BXYZ", owner="王某", home_port="石浦",
                                 registered=True)


def test_a_warning_task_says_where_and_which_boat(plans, users, make_warning, pier, boat, recorder, django_capture_on_commit_callbacks):
    from apps.elements.models import Checkpoint

    Checkpoint.objects.create(code="KK-3", name="高塘大桥卡口", lon=121.94, lat=29.21)
    w = make_warning(level="red", vessels=[boat.external_id, "999000111"])
    w.evidence = {"captures": [{"plate": "浙B12345", "status": "watched", "checkpoint_id": "KK-3"}]}
    w.save(update_fields=["evidence"])
    with django_capture_on_commit_callbacks(execute=True):
        d = services.dispatch_subject(subject=w, actor=users["duty"])
    task = d.tasks.get(department__code="coastguard")

    data = _api(users["coastguard"]).get("/api/enforcement/tasks/").json()["results"][0]
    s = data["subject"]
    assert s["place"]["name"] == pier.name and s["place"]["township"] == "高塘岛乡" and s["place"]["kind_label"] == "码头"
    assert (s["place"]["lat"], s["place"]["lon"]) == (29.205, 121.955)
    assert s["place"]["geo_uri"].startswith("geo:29.205000,121.955000?q=29.205000,121.955000(")
    assert s["vessels"][0] == {"id": "412440777", "name": "浙象渔运88", "source_label": "AIS", "callsign": "BXYZ", "owner": "王某",
                               "home_port": "石浦", "registered": True, "watch_group": ""}
    assert s["vessels"][1]["id"] == "999000111" and s["vessels"][1]["registered"] is False  # not in the registry: said so
    assert s["plates"] == [{"plate": "浙B12345", "status": "watched", "checkpoint": "高塘大桥卡口"}]
    assert s["level_label"] == "红色" and s["warning"]["id"] == w.pk and s["start"]

    # the notice names the place, the boat and the truck, in Beijing time
    sent = [n for n in recorder if n.task_id == task.pk]
    assert sent, recorder
    body = sent[0].body
    assert f"地点：{pier.name}（码头·高塘岛乡，北纬29.20500° 东经121.95500°）" in body
    assert "浙象渔运88（AIS 412440777，船主 王某，船籍港 石浦）" in body and "999000111（MMSI 999000111，未登记）" in body
    assert "车辆：浙B12345（高塘大桥卡口）" in body
    assert timezone.localtime(w.start).strftime("%m-%d %H:%M") in body and "北京时间" in body


def _api(user):
    from rest_framework.test import APIClient

    c = APIClient()
    c.force_authenticate(user)
    return c


def test_a_subject_away_from_geofences_is_placed_near_the_closest_one(users, pier):
    from apps.enforcement.models import Dispatch
    from django.contrib.contenttypes.models import ContentType

    from apps.elements.models import Geofence

    ct = ContentType.objects.get_for_model(Geofence)
    near = Dispatch.objects.create(content_type=ct, object_id=pier.pk, title="群众举报", level="yellow", lon=121.957, lat=29.207)
    far = Dispatch.objects.create(content_type=ct, object_id=pier.pk + 1, title="海上", level="blue", lon=122.2, lat=29.0)
    cards = subject_cards([near, far])
    assert cards[near.pk]["place"]["name"] == f"{pier.name}附近" and cards[near.pk]["place"]["township"] == "高塘岛乡"
    assert cards[far.pk]["place"]["name"] == "海上" and cards[far.pk]["vessels"] == []
    assert "地点：海上（北纬29.00000° 东经122.20000°）" in subject_text(cards[far.pk])


def test_geo_uri_opens_the_point_in_the_map_app():
    assert geo_uri(lat_deg=29.2, lon_deg=121.95, label="石浦 老码头") == "geo:29.200000,121.950000?q=29.200000,121.950000(%E7%9F%B3%E6%B5%A6%20%E8%80%81%E7%A0%81%E5%A4%B4)"


def test_inbox_filters_and_sorts_by_level_due_time_and_place(plans, users, make_warning, pier):
    from apps.elements.models import Geofence
    from apps.enforcement.models import Task

    other = Geofence.objects.create(name="鹤浦渔港码头", kind="pier", township="鹤浦镇", geometry=pier.geometry,
                                    centroid_lon=121.97, centroid_lat=29.10)
    services.dispatch_subject(subject=make_warning(level="yellow"), actor=users["duty"])
    services.dispatch_subject(subject=make_warning(level="red", geofence=other, lon=121.97, lat=29.10), actor=users["duty"])
    services.dispatch_subject(subject=make_warning(level="orange"), actor=users["duty"])
    mine = Task.objects.filter(department__code="police").order_by("id")
    soon = mine.last()
    Task.objects.filter(pk=soon.pk).update(ack_due_at=timezone.now() + timedelta(minutes=1))
    api = _api(users["police"])

    levels = [t["level"] for t in api.get("/api/enforcement/tasks/?ordering=-level_rank").json()["results"]]
    rank = {"red": 4, "orange": 3, "yellow": 2, "blue": 1}
    assert [rank[x] for x in levels] == sorted((rank[x] for x in levels), reverse=True) and set(levels) == {"red", "orange", "yellow"}
    assert [t["id"] for t in api.get("/api/enforcement/tasks/?ordering=ack_due_at").json()["results"]][0] == soon.pk
    assert {t["level"] for t in api.get("/api/enforcement/tasks/?level=red,orange").json()["results"]} == {"red", "orange"}
    by_place = api.get("/api/enforcement/tasks/", {"place": "鹤浦"}).json()["results"]
    assert by_place and {t["subject"]["place"]["name"] for t in by_place} == {"鹤浦渔港码头"}
    gaotang = api.get("/api/enforcement/tasks/", {"township": "高塘岛乡"}).json()["results"]
    assert gaotang and {t["subject"]["place"]["township"] for t in gaotang} == {"高塘岛乡"}


def test_task_list_builds_subjects_in_a_fixed_number_of_queries(plans, users, make_warning, django_assert_max_num_queries):
    for level in ("red", "orange", "yellow", "blue", "red", "orange"):
        services.dispatch_subject(subject=make_warning(level=level, vessels=["412440777"]), actor=users["duty"])
    api = _api(users["duty"])
    api.get("/api/enforcement/tasks/?page_size=100")  # warm caches (content types, sessions)
    with django_assert_max_num_queries(20):
        data = api.get("/api/enforcement/tasks/?page_size=100").json()
    assert len(data["results"]) > 10 and all(t["subject"]["place"] for t in data["results"])
