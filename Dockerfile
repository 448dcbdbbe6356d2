# syntax=docker/dockerfile:1
#
# One image for every Vigil service. The first argument (or SERVICE) picks what runs:
#   docker run vigil ingest | correlation | siem-forwarder | alert-router | soar
#   docker run vigil topics      create Vigil's topics (the admin step, from @vigil/contracts)
#   docker run vigil standins    the local SaaS stand-ins (demos, docker compose --profile standins)
# Why one image, and every knob: docs/deploy.md.

# Node 20 is what the repository builds and tests on (package.json engines: >=20.11 <23).
# Pin a digest in production: --build-arg NODE_IMAGE=node:20-bookworm-slim@sha256:...
ARG NODE_IMAGE=node:20-bookworm-slim
ARG PNPM_VERSION=12.4.2

# ---------------------------------------------------------------------------------------------
# build: all dependencies (dev included), then tsc -b for the five services and the tools.
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION
ENV PNPM_HOME=/pnpm \
    PNPM_STORE_DIR=/pnpm/store \
    CI=true \
    NX_DAEMON=false \
    NX_NO_CLOUD=true
ENV PATH=${PNPM_HOME}:${PATH}
RUN npm install --global --no-audit --no-fund --loglevel=error "pnpm@${PNPM_VERSION}"
WORKDIR /src
# The lockfile alone decides what is fetched, so this layer is reused until it changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc package.json ./
# pnpm-workspace.yaml names patches/ (patchedDependencies): it must be there for every pnpm step.
COPY patches ./patches
RUN --mount=type=cache,id=vigil-pnpm-store,target=/pnpm/store \
    pnpm fetch
COPY . .
RUN --mount=type=cache,id=vigil-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline
RUN pnpm exec tsc -b apps/ingest apps/correlation apps/siem-forwarder apps/alert-router apps/soar tools

# ---------------------------------------------------------------------------------------------
# prod: the same workspace re-installed with production dependencies only (no TypeScript, jest,
# eslint, nx, swc), one shared node_modules for every service (about 45 MB).
FROM build AS prod
RUN rm -rf node_modules apps/*/node_modules libs/*/node_modules tools/node_modules
RUN --mount=type=cache,id=vigil-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --prod
# Keep what runs: manifests, compiled code, node_modules and the data files the services read.
RUN set -eu; \
    mkdir -p /out; \
    cp -a package.json node_modules /out/; \
    for p in apps/* libs/* tools; do \
      mkdir -p "/out/$p"; \
      cp -a "$p/package.json" "/out/$p/"; \
      if [ -d "$p/dist" ]; then cp -a "$p/dist" "/out/$p/"; fi; \
      if [ -d "$p/node_modules" ]; then cp -a "$p/node_modules" "/out/$p/"; fi; \
    done; \
    cp -a apps/correlation/rules /out/apps/correlation/; \
    cp -a apps/alert-router/config /out/apps/alert-router/; \
    cp -a apps/soar/playbooks apps/soar/console /out/apps/soar/; \
    find /out -name '*.tsbuildinfo' -delete; \
    find /out -name '*.map' -path '*/dist/*' -delete; \
    find /out -path '*/dist/*' -name '*.spec.*' -delete

# ---------------------------------------------------------------------------------------------
# runtime: Node and the pruned tree, owned by root and run as the unprivileged "node" user
# (uid 1000), so the process cannot change its own code.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SOAR_PLAYBOOKS_DIR=/app/apps/soar/playbooks
WORKDIR /app
COPY --from=prod /out/ /app/
COPY deploy/docker/entrypoint.sh /usr/local/bin/vigil
COPY deploy/docker/healthcheck.js /app/healthcheck.js
RUN chmod 0755 /usr/local/bin/vigil && chmod 0644 /app/healthcheck.js
USER 1000:1000
EXPOSE 8081 8082 8083 8084 8085
# Readiness of whichever service runs (HTTP_PORT, or the service's default port).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.js"]
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD []
