// The one ClickHouse datasource every panel and variable points at; provisioning gives it this fixed uid.

export const DATASOURCE_UID = 'otel-audit-clickhouse';
export const DATASOURCE_TYPE = 'grafana-clickhouse-datasource';
export const DATASOURCE_NAME = 'otel-audit ClickHouse';

export const DATASOURCE_REF = { type: DATASOURCE_TYPE, uid: DATASOURCE_UID } as const;

/** Plugin `format` values (reference §4): 0 pivots rows into series, so event tables must use 1. */
export const FORMAT = { timeSeries: 0, table: 1, logs: 2 } as const;
export type QueryFormat = (typeof FORMAT)[keyof typeof FORMAT];

/**
 * Where Grafana reaches ClickHouse: the compose stack's service on the HTTP port. Grafana expands `${VAR}` in
 * provisioning files (no defaults syntax), so the user and password come from the Grafana container's
 * environment (compose defaults them to the server's `default` user; a read-only user replaces them, README).
 */
export const CLICKHOUSE_SERVICE = {
  host: 'clickhouse',
  httpPort: 8123,
  database: 'default',
} as const;
export const USER_ENV = 'OTEL_AUDIT_GRAFANA_CLICKHOUSE_USER';
export const PASSWORD_ENV = 'OTEL_AUDIT_GRAFANA_CLICKHOUSE_PASSWORD';

export function datasourceProvisioning(): unknown {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: DATASOURCE_NAME,
        uid: DATASOURCE_UID,
        type: DATASOURCE_TYPE,
        // Dashboards pick it by uid. A second default would make Grafana refuse the provisioning file in a
        // Grafana that already has one (one default datasource per organization).
        isDefault: false,
        editable: false,
        jsonData: {
          host: CLICKHOUSE_SERVICE.host,
          port: CLICKHOUSE_SERVICE.httpPort,
          protocol: 'http',
          secure: false,
          username: `\${${USER_ENV}}`,
          defaultDatabase: CLICKHOUSE_SERVICE.database,
        },
        secureJsonData: { password: `\${${PASSWORD_ENV}}` },
      },
    ],
  };
}

/** Dashboards folder inside the Grafana container (compose mounts dashboards/grafana/dashboards there). */
export const DASHBOARDS_MOUNT = '/var/lib/grafana/dashboards/otel-audit';

export function dashboardProviderProvisioning(): unknown {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'otel-audit',
        orgId: 1,
        folder: 'otel-audit',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: DASHBOARDS_MOUNT, foldersFromFilesStructure: false },
      },
    ],
  };
}
