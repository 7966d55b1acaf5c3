"""Live-push event names of the enforcement module (payloads carry ids and states only)."""

TASK_NEW = "task.new"
TASK_CHANGED = "task.changed"
TASK_ESCALATED = "task.escalated"
CASE_CHANGED = "case.changed"
