# dream-api on the official Deno image: non-root, data in a volume, health-checked.
#   docker build -t dream-api .
#   docker run -p 8000:8000 -v dream-data:/data -e APP_SECRET=… dream-api

# build: the island bundles, and the SDK tarball (npm pack needs Node and npm)
FROM denoland/deno:2.9.6 AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN deno install --entrypoint main.ts && deno task build

FROM denoland/deno:2.9.6
WORKDIR /app
COPY . .
COPY --from=build /app/static/build /app/static/build
# cache the server's dependencies in the image (no download at start)
RUN deno install --entrypoint main.ts \
  && mkdir -p /data && chown -R deno:deno /data

ENV DATA_DIR=/data PORT=8000
VOLUME ["/data"]
EXPOSE 8000
USER deno

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:' + (Deno.env.get('PORT') ?? '8000') + '/healthz'); Deno.exit(r.ok ? 0 : 1)"]

# the deno binary itself is the command (no npx, no task): SIGTERM reaches the server, which
# drains in-flight requests and exits 0
CMD ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--unstable-kv", "main.ts"]
