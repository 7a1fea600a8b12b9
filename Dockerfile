# bobsync image: one image, two processes (`node bin/bobsync.js worker` and `… api`).

# Build: compile the TypeScript and bundle the workflow code once (npm run build). The emulators
# and the local stack behind `bobsync dev` are the workspace package packages/local, which no
# stage copies: npm installs the product's dependencies alone.
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Run: production dependencies and compiled code only; no TypeScript, no sources, no emulators.
FROM node:20.19-bookworm-slim

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. Dev tools (jest, eslint, tsc, tsx)
# stay out; test/unit/compose.test.ts checks that the compiled code never needs them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY --from=build /app/dist ./dist

# /data holds claim-check blobs (snapshots, plans, reports); a named volume mounted there
# inherits this ownership. /config receives bobsync.yaml read-only.
RUN mkdir -p /data /config && chown node:node /data

ENV NODE_ENV=production \
    BOBSYNC_CONFIG=/config/bobsync.yaml \
    BOBSYNC_DATA_DIR=/data \
    BOBSYNC_API_HOST=0.0.0.0 \
    BOBSYNC_API_PORT=3000

# The base image's unprivileged user.
USER node

EXPOSE 3000 3001
# The worker as docker-compose.yml starts it (why the heap flag: see there).
CMD ["node", "--heap-growing-percent=50", "bin/bobsync.js", "worker"]
