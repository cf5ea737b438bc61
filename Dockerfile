# syntax=docker/dockerfile:1
# One image for the control plane, the workers and the CLI (docs/deploy.md):
#   docker run noetl server   -> noetl-server (HTTP API on 8082)
#   docker run noetl worker   -> noetl-worker
#   docker run noetl run ...  -> any noetl CLI command
# Build: noetl build [--platform linux/amd64|linux/arm64] [--no-cache] [--tag noetl:dev]

ARG NODE_VERSION=20

# 1. build: dependencies, TypeScript, the web UI; then the npm package the runtime installs.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm pack --ignore-scripts --silent --pack-destination /tmp && mv /tmp/noetl-*.tgz /tmp/noetl.tgz

# 2. runtime: the packed package with production dependencies only, python3 for python steps.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG VERSION=0.0.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="noetl" \
      org.opencontainers.image.description="NoETL workflow orchestrator: control plane, worker and CLI" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 noetl \
 && useradd --uid 10001 --gid noetl --home-dir /var/lib/noetl --create-home --shell /usr/sbin/nologin noetl
WORKDIR /app
COPY --from=build /tmp/noetl.tgz /tmp/noetl.tgz
RUN npm install --omit=dev --no-audit --no-fund --global /tmp/noetl.tgz && rm /tmp/noetl.tgz \
 && npm cache clean --force
COPY deploy/docker-entrypoint.sh /usr/local/bin/noetl-entrypoint
ENV NODE_ENV=production \
    NOETL_HOME=/var/lib/noetl \
    NOETL_HOST=0.0.0.0 \
    NOETL_PORT=8082 \
    NOETL_APP_DIR=/usr/local/lib/node_modules/noetl
USER 10001:10001
VOLUME ["/var/lib/noetl"]
EXPOSE 8082 9090
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["noetl-entrypoint", "healthcheck"]
ENTRYPOINT ["tini", "--", "noetl-entrypoint"]
CMD ["server"]
