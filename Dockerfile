# sms-tasks container image.
#
#   docker build -t sms-tasks .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://... -e SMS__DATABASE__LOCAL_CLUSTER=false sms-tasks
#
# Written for the classic builder as well as BuildKit (docker-compose v1 builds with the
# classic one), so no heredocs and no RUN --mount.

########################################################################################
# Build stage
########################################################################################
FROM rust:1-bookworm AS build
WORKDIR /build

# `stub-targets` creates a placeholder for src/main.rs and for every `path = "....rs"`
# that Cargo.toml names ([lib], [[bin]], [[bench]], [[test]], [[example]]) when the file is
# not there, because cargo refuses a manifest whose declared target files are missing even
# when only `--bin sms-tasks` is built. Existing files are never touched.
RUN printf '%s\n' \
      '#!/bin/sh' \
      'set -eu' \
      'for f in src/main.rs $(sed -n "s/^[[:space:]]*path[[:space:]]*=[[:space:]]*\"\([^\"]*\.rs\)\".*/\1/p" Cargo.toml); do' \
      '  [ -e "$f" ] && continue' \
      '  mkdir -p "$(dirname "$f")"' \
      '  case "$f" in' \
      '    */lib.rs) : > "$f" ;;' \
      '    *) echo "fn main() {}" > "$f" ;;' \
      '  esac' \
      'done' \
      > /usr/local/bin/stub-targets \
 && chmod +x /usr/local/bin/stub-targets

# 1. Dependencies only: this layer is reused until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN stub-targets \
 && cargo build --release --locked --bin sms-tasks \
 && rm -rf src

# 2. The real sources. migrations/ is embedded by refinery::embed_migrations! and
#    config/default.toml by include_str!, both at compile time.
COPY src ./src
COPY migrations ./migrations
COPY config ./config
# Forget the placeholder build of this crate (COPY keeps the context's mtimes, which can be
# older than the placeholder artifacts), then build for real.
RUN stub-targets \
 && rm -rf target/release/.fingerprint/sms-tasks-* \
 && find src -name '*.rs' -exec touch {} + \
 && cargo build --release --locked --bin sms-tasks \
 && cp target/release/sms-tasks /usr/local/bin/sms-tasks

########################################################################################
# Runtime stage
########################################################################################
FROM debian:bookworm-slim

# ca-certificates for TLS to the database; curl for the container healthcheck
# (docker-compose.yml probes GET /health/ready with it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 sms \
 && useradd --system --uid 10001 --gid sms --home-dir /var/lib/sms-tasks --create-home \
      --shell /usr/sbin/nologin sms

COPY --from=build /usr/local/bin/sms-tasks /usr/local/bin/sms-tasks

# Writable working directory (only used by a private PostgreSQL cluster under .data/, which
# starts only when no database URL is configured and the default server does not answer; a
# DATABASE_URL, or SMS__DATABASE__LOCAL_CLUSTER=false, rules it out).
WORKDIR /var/lib/sms-tasks
USER 10001:10001

EXPOSE 8080
ENTRYPOINT ["sms-tasks"]
CMD ["serve", "--listen", "0.0.0.0:8080"]
