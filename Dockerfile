# Cohortly's image: the web process by default (gunicorn, gunicorn.conf.py), and
# the task worker from the same image (`python manage.py db_worker`).
#   docker build -t cohortly .
#   docker run --env-file .env.production -p 8000:8000 cohortly
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000

WORKDIR /app

# Every pinned dependency ships a wheel (psycopg[binary], argon2-cffi, orjson):
# no compiler in the image. Copied first so code changes reuse this layer.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time; WhiteNoise serves them from the image.
# Settings refuse to load without a real-looking SECRET_KEY when DEBUG is off:
# this one exists only during this step and never reaches the running container.
RUN SECRET_KEY=collectstatic-only-not-a-real-secret-4f9c2a7e1b8d6035e2c4a9f7b1d3 \
    python manage.py collectstatic --no-input -v 0

# Run as an unprivileged user; the code and static files stay root-owned, read-only to it.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin cohortly
USER cohortly

# The commit the image is built from, for Sentry's release: the image has no .git
# to ask (docker build --build-arg SENTRY_RELEASE=$(git rev-parse HEAD) .). Empty,
# the settings take RENDER_GIT_COMMIT or RAILWAY_GIT_COMMIT_SHA where those hosts set them.
ARG SENTRY_RELEASE=""
ENV SENTRY_RELEASE=$SENTRY_RELEASE

# gunicorn.conf.py binds 0.0.0.0:$PORT (PORT above; Render and Railway set their own).
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "cohortly.wsgi"]
