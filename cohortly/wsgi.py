import io
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohortly.settings")

django_application = get_wsgi_application()


def application(environ, start_response):
    """Django's application, reading a chunked request's body.

    Django reads a body only as far as its Content-Length, and a chunked request
    (Transfer-Encoding: chunked, as `curl -T -`, `requests` given a generator or a
    streaming `fetch` send it) has none: a PATCH was answered 200 having read
    nothing, and a POST 400 `required`. gunicorn takes the chunks apart and says
    where the body ends (wsgi.input_terminated); it is read here up to one byte
    past DATA_UPLOAD_MAX_MEMORY_SIZE, so a body too large is still the 413 it is
    with a Content-Length."""
    if (
        environ.get("wsgi.input_terminated")
        and not environ.get("CONTENT_LENGTH")
        and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = environ["wsgi.input"].read() if limit is None else environ["wsgi.input"].read(limit + 1)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
    return django_application(environ, start_response)
