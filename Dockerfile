# sms-tasks container image.
#
#   docker build -t sms-tasks .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://... -e SMS__DATABASE__LOCAL_CLUSTER=false sms-tasks
#   docker run --rm --network host sms-tasks agent --endpoint http://127.0.0.1:8080 --token T
#
# Written for the classic builder as well as BuildKit (docker-compose v1 builds with the
# classic one), so no heredocs and no RUN --mount.

########################################################################################
# Build stage
########################################################################################
FROM rust:1-bookworm AS build
WORKDIR /build

# The repository is a Cargo workspace: the service crate at the root, the load benchmark in
# bench/, the simulated agent in agent/. The service and the agent are built here (`-p
# sms-tasks -p sms-tasks-agent`); cargo still reads every member's manifest, so
# bench/Cargo.toml is copied too, with a stub for its one target.

# 1. Dependencies only: this layer is reused until a manifest or Cargo.lock change. The
#    stubs stand for the targets the manifests declare (src/lib.rs, src/main.rs,
#    bench/src/main.rs, agent/src/main.rs).
COPY Cargo.toml Cargo.lock ./
COPY bench/Cargo.toml ./bench/
COPY agent/Cargo.toml ./agent/
RUN mkdir -p src bench/src agent/src \
 && : > src/lib.rs \
 && echo 'fn main() {}' > src/main.rs \
 && echo 'fn main() {}' > bench/src/main.rs \
 && echo 'fn main() {}' > agent/src/main.rs \
 && cargo build --release --locked -p sms-tasks -p sms-tasks-agent --bin sms-tasks --bin sms-tasks-agent \
 && rm -rf src agent/src

# 2. The real sources. migrations/ is embedded by refinery::embed_migrations! and
#    config/default.toml by include_str!, both at compile time. bench/src keeps its stub: the
#    image has the service and the agent.
COPY src ./src
COPY agent/src ./agent/src
COPY migrations ./migrations
COPY config ./config
# Forget the stub builds of these crates (COPY keeps the context's mtimes, which can be older
# than the stubs' artifacts), then build for real.
RUN rm -rf target/release/.fingerprint/sms-tasks-* \
 && find src agent/src -name '*.rs' -exec touch {} + \
 && cargo build --release --locked -p sms-tasks -p sms-tasks-agent --bin sms-tasks --bin sms-tasks-agent \
 && cp target/release/sms-tasks target/release/sms-tasks-agent /usr/local/bin/

########################################################################################
# Runtime stage
########################################################################################
FROM debian:bookworm-slim

# ca-certificates for TLS to the database. No curl: the health check is `sms-tasks healthcheck`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 sms \
 && useradd --system --uid 10001 --gid sms --home-dir /var/lib/sms-tasks --create-home \
      --shell /usr/sbin/nologin sms

# `sms-tasks agent …` runs the sms-tasks-agent beside it.
COPY --from=build /usr/local/bin/sms-tasks /usr/local/bin/sms-tasks-agent /usr/local/bin/

# Writable working directory (only used by a private PostgreSQL cluster under .data/, which
# starts only when no database URL is configured and the default server does not answer; a
# DATABASE_URL, or SMS__DATABASE__LOCAL_CLUSTER=false, rules it out).
WORKDIR /var/lib/sms-tasks
USER 10001:10001

# The listen address is a setting rather than a `serve --listen` argument, so that the health
# check (which reads the same settings) probes the port the service listens on.
ENV SMS__SERVER__LISTEN=0.0.0.0:8080
EXPOSE 8080
# GET /health/ready on server.listen (0.0.0.0 is probed as 127.0.0.1); exit 0 only on 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=5 CMD ["sms-tasks", "healthcheck"]
ENTRYPOINT ["sms-tasks"]
CMD ["serve"]
