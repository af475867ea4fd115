# Production image: gunicorn for the web process, the same image for the
# Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=trust.settings \
    TRUST_VAR_DIR=/var/lib/trust

# WeasyPrint needs Pango; the Noto fonts cover every script in pupils' names.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-noto-core fonts-noto-cjk postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . \
    && python manage.py collectstatic --noinput \
    && useradd --system --home /app trust \
    && mkdir -p /var/lib/trust && chown trust /var/lib/trust

USER trust
EXPOSE 8000
CMD ["gunicorn", "trust.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
