"""Live-push event names of source governance (one place; payloads carry ids, pages reload from REST)."""

PLANS_GENERATED = "sources.plans_generated"  # {"night": "YYYY-MM-DD", "count": n}
CHECKIN_RECORDED = "sources.checkin"  # {"plan": id, "checkin": id, "township": id}
CHECKIN_MISSED = "sources.checkin_missed"  # {"plans": [id, ...], "township": id, "names": [...]}
REPORT_FILED = "sources.report"  # {"report": id, "kind": "...", "township": id}
FACILITY_DOWN = "sources.facility_down"  # {"facility": id, "site": id}
FACILITY_UP = "sources.facility_up"  # {"facility": id}
REPAIR_CHANGED = "sources.repair"  # {"task": id, "state": "open|in_repair|closed", "department": id}
FINDING_FLAGGED = "sources.finding"  # {"finding": id, "entity": id}
