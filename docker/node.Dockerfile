# The otel-audit Node image of the compose stack: the `otel-audit` CLI against the ClickHouse server (migrate,
# queries, `serve --url`) and the demo producer. Without chDB: `--data-dir` (the embedded store) is not available
# in this image and says so (ChdbNotInstalledError).
# Build context: the repository root.

FROM node:22.20.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY sdk/package.json sdk/
COPY clickhouse/package.json clickhouse/
COPY collector/package.json collector/
COPY dashboards/package.json dashboards/
COPY cli/package.json cli/
COPY demo/package.json demo/
# chDB (optional, ~550 MB) is for the embedded store only: the stack uses the ClickHouse server.
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY sdk sdk
COPY clickhouse clickhouse
COPY collector collector
COPY cli cli
COPY demo demo
# Emit only (`--noCheck`): `npm test` type-checks the sources; here chDB's types are absent on purpose.
# Dependency order: each package's declarations are emitted before the packages that import them.
RUN for p in sdk clickhouse collector cli demo; do npx tsc -p "$p/tsconfig.build.json" --noCheck || exit 1; done

FROM node:22.20.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/sdk/package.json sdk/
COPY --from=build /app/clickhouse/package.json clickhouse/
COPY --from=build /app/collector/package.json collector/
COPY --from=build /app/dashboards/package.json dashboards/
COPY --from=build /app/cli/package.json cli/
COPY --from=build /app/demo/package.json demo/
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/sdk/dist sdk/dist
COPY --from=build /app/clickhouse/dist clickhouse/dist
COPY --from=build /app/clickhouse/migrations clickhouse/migrations
COPY --from=build /app/collector/dist collector/dist
COPY --from=build /app/cli/dist cli/dist
COPY --from=build /app/demo/dist demo/dist
USER node
CMD ["node", "cli/dist/bin.js", "--help"]
