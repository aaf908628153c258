// `otel-audit serve` as a child process (the real bin, from source), and audit records to send it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { encodeProtobufRequest, healthChallengeAnswer } from '@otel-audit/collector';
import { AUDIT_ATTRIBUTES as A, AUDIT_SCOPE_NAME, CONVENTIONS_VERSION } from '@otel-audit/sdk/conventions';
import { type CommandContext, main } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));

export interface ServeChild {
  child: ChildProcess;
  url: string;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `otel-audit serve <args>`; resolves once it logged "listening" (rejects if it exits first). */
export async function startServeChild(args: string[], env: Record<string, string> = {}): Promise<ServeChild> {
  const child = spawn(
    process.execPath,
    ['--conditions=@otel-audit/source', '--import', 'tsx', BIN, 'serve', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const listening = /"msg":"listening","url":"([^"]+)"/.exec(err);
      if (listening) resolve(listening[1] as string);
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`serve exited (${code ?? signal}) before listening:\n${err}`)),
    );
  });
  return { child, url, stderr: () => err, exited };
}

/** Runs a CLI command in this process. */
export async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const ctx: CommandContext = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env,
  };
  const code = await main(argv, ctx);
  return { code, out, err };
}

export interface SentEvent {
  id: string;
  tenant: string;
  action: string;
  actor: string;
  target: string;
  /** Default `invoice`. */
  targetType?: string;
}

/** An audit log record as OTLP/JSON-shaped object, attributes per the conventions. */
export function auditRecord(e: SentEvent, occurredMs: number): Record<string, unknown> {
  const s = (key: string, value: string) => ({ key, value: { stringValue: value } });
  return {
    timeUnixNano: `${BigInt(occurredMs) * 1_000_000n}`,
    observedTimeUnixNano: `${BigInt(Date.now()) * 1_000_000n}`,
    severityNumber: 9,
    severityText: 'INFO',
    eventName: e.action,
    body: { stringValue: JSON.stringify({ note: `event ${e.id}` }) },
    attributes: [
      s(A.eventId, e.id),
      s(A.action, e.action),
      s(A.tenant, e.tenant),
      s(A.actorId, e.actor),
      s(A.actorType, 'user'),
      s(A.targets, JSON.stringify([{ type: e.targetType ?? 'invoice', id: e.target }])),
      s(A.crud, 'update'),
      s(A.outcome, 'success'),
      { key: A.version, value: { intValue: 1 } },
    ],
  };
}

/** A protobuf ExportLogsServiceRequest carrying `events`. */
export function auditRequest(
  events: readonly SentEvent[],
  baseMs = Date.parse('2026-11-22T10:00:00Z'),
): Buffer {
  return Buffer.from(
    encodeProtobufRequest({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cli-test' } }] },
          scopeLogs: [
            {
              scope: { name: AUDIT_SCOPE_NAME, version: CONVENTIONS_VERSION },
              logRecords: events.map((e, i) => auditRecord(e, baseMs + i)),
            },
          ],
        },
      ],
    }),
  );
}

export async function postLogs(url: string, token: string, body: Buffer): Promise<number> {
  const res = await fetch(`${url}/v1/logs`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf' },
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Whether a held chDB directory is found in /proc/locks before chDB opens it (Linux), so chDB's own exception
 * never reaches stderr; elsewhere chDB prints it before the friendly error, which the tests then allow.
 */
export const LOCKS_VISIBLE = process.platform === 'linux' && existsSync('/proc/locks');

/**
 * For a stand-in of serve (an http server a test starts): answers `/health` as serve does when it knows `token`
 * (HMAC-SHA256 of the challenge); returns false for other paths.
 */
export function answerHealth(req: IncomingMessage, res: ServerResponse, token: string): boolean {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== '/health') return false;
  const challenge = url.searchParams.get('challenge');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      status: 'ok',
      // As serve answers for the pid and port in serve.json: the stand-ins run in this process, on this port.
      ...(challenge !== null && {
        challenge: healthChallengeAnswer(token, challenge, process.pid, req.socket.localPort ?? 0),
      }),
    }),
  );
  return true;
}
