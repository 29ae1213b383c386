# The agent-team worker image. Its build steps are the commands CI runs: `npm ci`, then `npm run build`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The sources come next: the package's own `prepare` (the build) runs after they do.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Caches (the workflow bundle) in a folder of the image's own; by default they go to ~/.cache.
ENV AGENT_TEAM_CACHE_DIR=/app/.cache
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/config ./config
# Bundle the workflow code at build time (into $AGENT_TEAM_CACHE_DIR), so a worker starts polling at once.
RUN node -e "require('./dist/src/worker').workflowBundle().then(() => process.exit(0))" && chown -R node /app/.cache
USER node
# Healthy while the process can reach its Temporal frontend.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "require('./dist/src/temporal/dev-server').temporalHealthy(process.env.TEMPORAL_ADDRESS).then((ok) => process.exit(ok ? 0 : 1))"
ENTRYPOINT ["node", "bin/agent-team.js"]
CMD ["worker"]
