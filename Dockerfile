# The one image of the stack: web (gunicorn + whitenoise), worker and beat
# run it with different commands (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The pinned runtime dependencies from pyproject.toml, in a layer of their own
# so a code change does not reinstall them. No test or bench extras.
COPY pyproject.toml ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /var/lib/ymca \
    && chown app /var/lib/ymca

COPY --chown=app . .

# Production settings; secrets come from the environment at run time (.env
# or NAME_FILE mounts), never from the image.
ENV DEPLOYMENT=production \
    VAR_DIR=/var/lib/ymca \
    TRACTION_REC_DATA_DIR=/var/lib/ymca/traction_rec \
    STATIC_ROOT=/app/staticfiles

# Static files are collected into the image and served by whitenoise. The two
# keys below exist only for this build step (production refuses to start
# without keys of its own); they are not in the final environment.
RUN SECRET_KEY=collectstatic-build-step-only FIELD_ENCRYPTION_KEY=collectstatic-build-step-only \
    python manage.py collectstatic --noinput --verbosity 0

USER app
VOLUME ["/var/lib/ymca"]
EXPOSE 8000

# Inside the container gunicorn listens on every interface of the container's
# own network namespace; docker-compose.yml publishes it on the host's
# 127.0.0.1 only, for the TLS proxy. One access line per request, key=value,
# the path without its query string (`docker compose logs -t` adds the time).
ENV GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --workers 3 --timeout 60 --access-logfile - --access-logformat 'level=INFO logger=gunicorn.access method=%(m)s path=%(U)s status=%(s)s bytes=%(B)s duration_ms=%(M)s'"
CMD ["gunicorn", "config.wsgi:application"]
