// @otel-audit/collector: the local OTLP receiver (`otel-audit serve`) and the helpers around the real collector.
export * from './otelcol/index.js';
export * from './receiver/index.js';
