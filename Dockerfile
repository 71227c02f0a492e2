# dream-api on the official Deno image: non-root, data in a volume, health-checked.
#   docker build -t dream-api .
#   docker run -p 8000:8000 -v dream-data:/data -e APP_SECRET=… dream-api
FROM denoland/deno:2.9.6

WORKDIR /app
COPY . .
# cache dependencies and build the island bundles and the SDK at image build time
RUN deno install --entrypoint main.ts dev.ts && deno task build \
  && mkdir -p /data && chown -R deno:deno /data /app/static/build

ENV DATA_DIR=/data PORT=8000
VOLUME ["/data"]
EXPOSE 8000
USER deno

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:' + (Deno.env.get('PORT') ?? '8000') + '/healthz'); Deno.exit(r.ok ? 0 : 1)"]

# the deno binary itself is PID 1's child (no npx, no task): SIGTERM reaches the server, which
# drains in-flight requests and exits 0
CMD ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--unstable-kv", "main.ts"]
