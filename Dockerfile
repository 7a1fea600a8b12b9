# bobsync image: one image, two processes (`node bin/bobsync.js worker` and `… api`).
# The TypeScript sources run through tsx (a runtime dependency), so there is no build stage.
FROM node:20.19-bookworm-slim

WORKDIR /app

# Dependencies first, so source edits do not reinstall them. Dev tools (jest, eslint, tsc)
# stay out of the image; test/unit/compose.test.ts checks that src and bin never need them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src

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

EXPOSE 3000
CMD ["node", "bin/bobsync.js", "worker"]
