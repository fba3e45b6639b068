# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /app

COPY requirements/ requirements/
# CPU-only torch first: an unpinned torch would pull a multi-GB CUDA build.
ARG TORCH_PIP_ARGS=""
RUN pip install $TORCH_PIP_ARGS -r requirements/torch.txt && pip install -r requirements/base.txt

COPY . .
RUN DJANGO_SECRET_KEY=build DATABASE_URL=postgresql://build@localhost/build python manage.py collectstatic --no-input \
    && DJANGO_SECRET_KEY=build DATABASE_URL=postgresql://build@localhost/build python manage.py build_embedder \
    && useradd --create-home goldloop && chown -R goldloop /app
USER goldloop
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
