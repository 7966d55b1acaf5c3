"""Live-push event names of element control (one place; pages listen with ``XSLive.on``).

Payloads are small: ids and what a list row needs; pages reload details from the REST API.
"""
WARNING_NEW = "warning.new"
WARNING_UPDATED = "warning.updated"
