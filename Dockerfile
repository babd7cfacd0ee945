# The Huly Network coordinator. It refuses to start without an access file (keys)
# unless told --insecure at run time; the dashboard has no authentication, so it is
# published on the host's loopback only.
#   docker build -t huly-network .
#   docker run --rm -p 3737:3737 -p 127.0.0.1:3780:3780 -v "$PWD/keys:/keys:ro" \
#     -e HULY_NETWORK_ACCESS=/keys/access.json huly-network
#   docker run --rm -p 127.0.0.1:3737:3737 -p 127.0.0.1:3780:3780 huly-network serve --insecure
# Configuration by environment (docker run -e HULY_NETWORK_ALIVE_TIMEOUT=5 …); see
# `deno task start --help`. Any other CLI command runs too:
#   docker run --rm --network host huly-network agents --network 127.0.0.1:3737

# Stage 1: fetch the npm packages (zeromq's prebuilt libzmq included) and type-check.
FROM denoland/deno:2.9.6 AS build
WORKDIR /app
COPY deno.json deno.lock ./
COPY mod.ts ./
COPY common/ common/
COPY core/ core/
COPY observability/ observability/
COPY security/ security/
COPY rpc/ rpc/
COPY client/ client/
COPY server/ server/
COPY cli/ cli/
RUN deno install --frozen --entrypoint cli/main.ts && deno check cli/main.ts

# Stage 2: the same runtime with only the program, its node_modules and the module
# cache, run as the image's unprivileged `deno` user.
FROM denoland/deno:2.9.6
WORKDIR /app
COPY --from=build --chown=deno:deno /app /app
COPY --from=build --chown=deno:deno /deno-dir /deno-dir
USER deno
# Bind every interface inside the container (the default, 127.0.0.1, is unreachable
# from outside it), for the peers' port and the HTTP endpoint (dashboard, /metrics,
# /healthz, /readyz); JSON lines for log collectors. Without keys it does not start:
# mount an access file and set HULY_NETWORK_ACCESS (see
# docs/security.md), or say `serve --insecure` when you run it.
ENV HULY_NETWORK_HOST=0.0.0.0 \
    HULY_NETWORK_PORT=3737 \
    HULY_NETWORK_HTTP_HOST=0.0.0.0 \
    HULY_NETWORK_HTTP_PORT=3780 \
    HULY_NETWORK_LOG_FORMAT=json
EXPOSE 3737 3780
# Healthy when the coordinator's HTTP endpoint answers /healthz (no client is started).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
    CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('HULY_NETWORK_HTTP_PORT')}/healthz`); Deno.exit(r.ok ? 0 : 1)"]
# A 1 MiB young generation: 55 MiB less RSS, no loss of throughput (docs/performance.md).
# SIGTERM (docker stop) tells every peer the coordinator is going away and exits 0.
ENTRYPOINT ["deno", "run", "--cached-only", "--v8-flags=--max-semi-space-size=1", "--allow-read", "--allow-ffi", "--allow-env", "--allow-net", "cli/main.ts"]
CMD ["serve"]
