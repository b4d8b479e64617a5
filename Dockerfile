# Build stage: GOV.UK Frontend from npm (the pages' styles, scripts, fonts and images).
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim
WORKDIR /app
# Every dependency from the lock, pinned and hash-checked; then the project itself, resolving nothing.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY service ./service
COPY schema ./schema
COPY geodata ./geodata
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk /app/govuk-frontend
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e .
ENV PATHWAYS_WEB_ASSETS_DIR=/app/govuk-frontend
RUN useradd --system pathways && mkdir -p /var/lib/pathways && chown pathways /var/lib/pathways
# The replica's local snapshot of the directory (PATHWAYS_INDEX_SNAPSHOT) lives here: a restarted container starts
# from it; a new one reads the database.
ENV PATHWAYS_DATA_DIR=/var/lib/pathways
USER pathways
EXPOSE 8000
CMD ["pathways", "serve"]
