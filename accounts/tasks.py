"""Work of accounts done off the request, by the task queue (django-tasks: run at
once in development and tests, by `manage.py db_worker` in production)."""

from django_tasks import task

from cohortly.middleware import request_id_var


@task()
def password_reset_task(*, email: str, request_id: str = "-") -> int:
    """Look the address up and mail its set-password link (accounts.services
    .password_reset_send); the request that asked only queued this. 1 if sent."""
    from accounts.services import password_reset_send

    token = request_id_var.set(request_id)  # the email's outbox row names the request
    try:
        return password_reset_send(email=email)
    finally:
        request_id_var.reset(token)
