# Settings for the gunicorn servers the multi-process tests start (not the
# project's gunicorn.conf.py, so the tests don't depend on deploy defaults).
accesslog = None
loglevel = "warning"
graceful_timeout = 5
timeout = 60
