"""Process entry points: the ``sunledger`` CLI, the Celery worker, the MQTT subscriber,
logging setup and operations (readiness, metrics). Nothing below imports this package."""
