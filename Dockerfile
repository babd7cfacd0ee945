# The Huly Network coordinator.
#   docker build -t huly-network .
#   docker run --rm -p 3737:3737 -p 3780:3780 huly-network   (3780: dashboard, /metrics)
# Configuration by environment (docker run -e HULY_NETWORK_ALIVE_TIMEOUT=5 …); see
# `deno task start --help`. Any other CLI command runs too:
#   docker run --rm --network host huly-network agents --network 127.0.0.1:3737

# Stage 1: fetch the npm packages (zeromq's prebuilt libzmq included) and type-check.
FROM denoland/deno:2.9.6 AS build
WORKDIR /app
COPY deno.json deno.lock ./
COPY mod.ts ./
COPY core/ core/
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
# /healthz, /readyz); JSON lines for log collectors. Without keys that needs
# HULY_NETWORK_INSECURE: publish the ports only where it is safe, or mount an access
# file and set HULY_NETWORK_ACCESS (see the README's Security section).
ENV HULY_NETWORK_HOST=0.0.0.0 \
    HULY_NETWORK_INSECURE=true \
    HULY_NETWORK_PORT=3737 \
    HULY_NETWORK_HTTP_HOST=0.0.0.0 \
    HULY_NETWORK_HTTP_PORT=3780 \
    HULY_NETWORK_LOG_FORMAT=json
EXPOSE 3737 3780
# Healthy when the coordinator answers a client (the CLI connects to 127.0.0.1:$HULY_NETWORK_PORT).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
    CMD ["deno", "run", "--cached-only", "--allow-read", "--allow-ffi", "--allow-env", "--allow-net", "cli/main.ts", "agents", "--connect-timeout", "5"]
# SIGTERM (docker stop) tells every peer the coordinator is going away and exits 0.
ENTRYPOINT ["deno", "run", "--cached-only", "--allow-read", "--allow-ffi", "--allow-env", "--allow-net", "cli/main.ts"]
CMD ["serve"]
