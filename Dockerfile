# syntax=docker/dockerfile:1
# Build stage: the SQL is checked at compile time against .sqlx/ (written by bin/sqlx-prepare),
# so the build needs no database.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo ./.cargo
# bench/ is a workspace member: cargo needs it present to load the workspace, but does not build it.
COPY bench/Cargo.toml ./bench/
COPY bench/src ./bench/src
COPY src ./src
COPY migrations ./migrations
COPY .sqlx ./.sqlx
ENV SQLX_OFFLINE=true
RUN cargo build --locked --release && strip target/release/capi-bridge

# Runtime stage: a slim Debian with CA certificates (for graph.facebook.com) and a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home capi
COPY --from=build /src/target/release/capi-bridge /usr/local/bin/capi-bridge
USER capi
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["capi-bridge", "healthcheck"]
ENTRYPOINT ["capi-bridge"]
CMD ["serve"]
