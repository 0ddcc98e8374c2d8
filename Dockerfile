# resdet in a container: `resdet serve` by default, `resdet queue worker` (or any command) by
# argument. Build: docker build -t resdet:0.1.0 .   (see README, "Past one machine").

# --- build: the full dependency set (tsc is a dev dependency) compiles the sources to dist/ ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The sources are not here yet, so `prepare` (the build) waits for the explicit step below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json index.ts ./
COPY core ./core
COPY data ./data
COPY backbone ./backbone
COPY detection ./detection
COPY server ./server
COPY tools ./tools
RUN npm run build

# --- runtime: production dependencies only, the compiled code and the assets it reads ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` would run tsc, which --omit=dev leaves out: dist/ comes from the build stage instead.
# Install scripts still run (native backends, sharp's platform binary).
RUN npm pkg delete scripts.prepare && npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY backbone/*.json ./backbone/
COPY server/public ./server/public
# The image's own user, not root; models come in read-only at /models (a volume).
USER node
EXPOSE 8080
# /healthz answers as soon as the process listens (readiness, /readyz, waits for the models).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/tools/bin.js"]
# --drain-timeout-ms: keep `docker stop -t` (and Kubernetes' grace period) above twice this.
CMD ["serve", "--detector", "/models/detector", "--host", "0.0.0.0", "--port", "8080", "--drain-timeout-ms", "20000"]
