"""The English interface: pages, API messages and the JavaScript catalogue follow the
language cookie or Accept-Language; Chinese stays the default; the English catalogue is
complete and its compiled ``.mo`` matches the ``.po`` (the ``.mo`` is committed, because a
machine may have no gettext to compile it)."""
from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")


def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- pages ---------------------------------------------------------------------------------
def test_login_page_in_english_with_the_language_cookie(client):
    page = _english(client).get("/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Username" in page and "Sign in" in page and "Report a tip (no sign-in needed)" in page
    assert "用户名" not in page and "群众举报入口" not in page


def test_login_page_in_english_with_accept_language(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert "Username" in page and "用户名" not in page


def test_public_tip_page_in_english(client):
    page = _english(client).get("/public/tip/").content.decode()
    assert "Report a smuggling tip" in page and "Submit tip" in page
    assert "我要举报走私线索" not in page and "提交举报" not in page
    assert "What is " in page  # the check question, in English words
    assert "/i18n/js/" in page  # the script catalogue comes before the page scripts


def test_chinese_is_the_default(client):
    login = client.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in login
    assert "用户名" in login and "Username" not in login
    tip = client.get("/public/tip/").content.decode()
    assert "我要举报走私线索" in tip and "Report a smuggling tip" not in tip
    assert "等于几？" in tip


def test_api_messages_follow_the_language(api_for, users):
    english = api_for(users["auditor"]).post("/api/core/departments/", {"code": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 403
    assert english.json()["detail"] == "Auditors can view but not change anything."
    chinese = api_for(users["auditor"]).post("/api/core/departments/", {"code": "x"})
    assert chinese.json()["detail"] == "审计员只能查看，不能修改。"


# --- JavaScript ----------------------------------------------------------------------------
def test_javascript_catalog_in_english(client):
    res = _english(client).get("/i18n/js/")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("text/javascript")
    body = res.content.decode()
    assert "No warnings" in body and "Chosen place: %(lon)s, %(lat)s" in body


def test_javascript_catalog_in_chinese_has_no_english(client):
    res = client.get("/i18n/js/")
    assert res.status_code == 200
    assert "No warnings" not in res.content.decode()


def test_phone_page_service_worker_caches_the_catalog(client):
    body = client.get("/sources/mobile/sw.js").content.decode()
    assert '"/i18n/js/"' in body  # in the shell (offline) and fetched network-first (per language)


# --- the catalogue itself --------------------------------------------------------------------
def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def _entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr(s) and flags (no polib)."""
    entries: list[dict] = []
    current: dict | None = None
    field = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current, field = None, None
            continue
        if line.startswith("#~"):  # obsolete
            current = current or {"obsolete": True}
            current["obsolete"] = True
            continue
        if current is None:
            current = {"flags": [], "msgstr": {}, "obsolete": False}
        if line.startswith("#,"):
            current["flags"] += [f.strip() for f in line[2:].split(",")]
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            current["msgstr"][index] = _unquote(rest)
            field = ("msgstr", index)
        elif keyword in ("msgid", "msgid_plural", "msgctxt"):
            current[keyword] = _unquote(rest)
            field = (keyword, None)
        elif line.startswith('"') and field is not None:
            if field[0] == "msgstr":
                current["msgstr"][field[1]] += _unquote(line)
            else:
                current[field[0]] += _unquote(line)
    return [e for e in entries if not e.get("obsolete") and "msgid" in e]


@pytest.mark.parametrize("domain", DOMAINS)
def test_english_catalogue_has_no_untranslated_or_fuzzy_entries(domain):
    entries = _entries(LOCALE / f"{domain}.po")
    messages = [e for e in entries if e["msgid"]]
    assert messages, "empty catalogue"
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], f"untranslated in {domain}.po (run makemessages, then translate): {untranslated[:20]}"
    assert fuzzy == [], f"fuzzy in {domain}.po: {fuzzy[:20]}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogue_matches_the_po_file(domain):
    """The committed .mo was compiled from the current .po (run ``manage.py compilemessages``)."""
    with (LOCALE / f"{domain}.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    for e in _entries(LOCALE / f"{domain}.po"):
        if not e["msgid"]:
            continue
        key = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if "msgid_plural" in e:
            assert mo._catalog.get((key, 0)) == e["msgstr"][0], e["msgid"]
            assert mo._catalog.get((key, 1)) == e["msgstr"][1], e["msgid"]
        else:
            assert mo._catalog.get(key) == e["msgstr"][0], f"{domain}.mo is stale for {e['msgid']!r}"
