# syntax=docker/dockerfile:1.7
#
# pastebin container image: one binary (`pastebin serve|worker|migrate|schema`)
# plus the built web app.
#
#   docker build -t pastebin:$(git rev-parse --short=12 HEAD) .
#   (the tag the chart deploys: image.tag; docs/deployment.md pushes it to ECR)
#   docker run --rm -p 8080:8080 -e PASTEBIN_DATABASE_URL=... pastebin:<tag>
#
# Needs BuildKit (default since Docker 23; `DOCKER_BUILDKIT=1` before) for the
# cache mounts. See docs/deployment.md.

ARG RUST_VERSION=1.95
ARG NODE_VERSION=22

# --- Rust build ------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# The dependency tree is pure Rust (rustls, no OpenSSL/libpq): the slim image's
# gcc is all the linker needs.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin pastebin \
 && install -D -m 0755 target/release/pastebin /out/pastebin

# --- web app build ---------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --no-audit --no-fund
COPY web/ ./
# The web build may read the committed GraphQL schema.
COPY graphql/ /src/graphql/
RUN npm run build

# --- runtime ---------------------------------------------------------------------
# distroless/cc: glibc, libgcc, CA certificates and tzdata; no shell, no package
# manager. Matches the bookworm builder's glibc.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="pastebin" \
      org.opencontainers.image.description="Paste service: GraphQL/REST API, web app, workers" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /out/pastebin /usr/local/bin/pastebin
COPY --from=web /src/web/dist /app/web/dist
WORKDIR /app
# Nothing is written at run time (a read-only root filesystem works); logs go
# to stdout. The Helm chart also mounts an emptyDir at /tmp.
ENV PASTEBIN_ADDR=0.0.0.0:8080 \
    PASTEBIN_WEB_DIR=/app/web/dist \
    PASTEBIN_LOG_FORMAT=json
# The distroless "nonroot" user, numeric so `runAsNonRoot` can verify it.
USER 65532:65532
EXPOSE 8080
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz instead.
#checkov:skip=CKV_DOCKER_2:Kubernetes liveness/readiness probes (/healthz, /readyz) replace HEALTHCHECK, which Kubernetes ignores
ENTRYPOINT ["pastebin"]
CMD ["serve"]
