"""The one Celery app. Tasks are autodiscovered from every app's ``tasks.py``."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangshan.settings")

app = Celery("xiangshan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
