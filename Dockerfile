# The BFF's production image: small (python slim, locked dependencies only, no compiler in the
# runtime), run as an unprivileged user. Build: docker build -t member-portal-bff .
# See docs/deploy.md.

# --- Stage: the web portal's production build -------------------------------------------------
# MARKED FOR THE PORTAL (issue 10): clients/web holds only GraphQL operations today. Once it has a
# package.json with a "build" script, this stage builds it and the runtime serves nothing new
# by itself: the files land in /app/portal for a static server or a later route.
FROM node:22-slim AS portal
WORKDIR /web
COPY clients/web/ ./
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund && npm run build \
      && mkdir -p /portal && cp -r dist/. /portal/; \
    else mkdir -p /portal; fi

# --- Stage: install the package and its locked dependencies -----------------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY bff/ bff/
RUN python -m venv /venv && /venv/bin/pip install -c requirements.lock .

# --- Stage: runtime -----------------------------------------------------------------------------
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bff
COPY --from=build /venv /venv
COPY clients/manifest.json /app/clients/manifest.json
COPY --from=portal /portal /app/portal
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BFF_ENV=production \
    TRUSTED_DOCUMENTS_MANIFEST=/app/clients/manifest.json
WORKDIR /app
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["bff", "serve", "--host", "0.0.0.0", "--port", "8000"]
