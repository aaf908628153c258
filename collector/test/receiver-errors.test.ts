// serve's answers outside the happy path: an unexpected error on /v1/logs in the OTLP error shape (a sender
// reads a google.rpc.Status) and logged with its stack, a malformed request target a 400, 403's gRPC code,
// `Connection: close` on what is answered while draining.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobufStatus, jsonLogger } from '../src/index.js';
import {
  type JsonObject,
  logsRequest,
  logsRequestHead,
  protobufBody,
  rawConnection,
  startTestServe,
  type TestServe,
} from './receiver-support.js';

const lines: JsonObject[] = [];
/** serve's JSON-lines log, whose sink fails on one line as a write to a closed stderr does (EPIPE). */
let failOn: string | undefined;
const log = jsonLogger((line) => {
  const entry = JSON.parse(line) as JsonObject;
  if (entry.msg === failOn) throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
  lines.push(entry);
}, 'debug');

const body = () => protobufBody(logsRequest([{ body: { stringValue: 'x' } }]));

/** A request with a Host header and target of our choosing (fetch sets neither). */
function raw(port: number, text: string): Promise<string> {
  return rawConnection(port).then(async (c) => {
    c.socket.write(text);
    const answer = await c.waitFor(/\r\n\r\n[\s\S]*\}/);
    c.socket.destroy();
    return answer;
  });
}

describe('serve errors', () => {
  let t: TestServe;
  beforeAll(async () => {
    t = await startTestServe({ ingestAuth: 'none', log });
  }, 60_000);
  afterAll(async () => t?.close());

  it('answers an unexpected error on /v1/logs with a google.rpc.Status in the request encoding, and logs its stack', async () => {
    // Let the debug line after the commit fail: an error no handler expects.
    failOn = 'logs request committed';
    try {
      const pb = await fetch(`${t.serve.url}/v1/logs`, {
        method: 'POST',
        body: body(),
        headers: { 'content-type': 'application/x-protobuf' },
      });
      expect(pb.status).toBe(500);
      expect(pb.headers.get('content-type')).toBe('application/x-protobuf');
      expect(decodeProtobufStatus(Buffer.from(await pb.arrayBuffer()))).toEqual({
        code: 13,
        message: 'internal error (see the serve log)',
      });
      const json = await fetch(`${t.serve.url}/v1/logs`, {
        method: 'POST',
        body: JSON.stringify(logsRequest([{ body: { stringValue: 'x' } }])),
        headers: { 'content-type': 'application/json' },
      });
      expect(json.status).toBe(500);
      expect(await json.json()).toEqual({ code: 13, message: 'internal error (see the serve log)' });
    } finally {
      failOn = undefined;
    }
    const failed = lines.filter((l) => l.msg === 'request failed');
    expect(failed).toHaveLength(2);
    expect(String((failed[0]?.error as JsonObject | undefined)?.stack)).toMatch(/write EPIPE\n\s+at /);
  });

  it('answers 400 to a malformed request target, and logs no error', async () => {
    for (const target of ['//[', 'http://[']) {
      const answer = await raw(t.serve.port, `GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/malformed request target/);
    }
    expect(lines.filter((l) => l.level === 'error' && l.msg !== 'request failed')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'request failed')).toHaveLength(2);
  });

  it('answers 403 with gRPC code 7 (PERMISSION_DENIED)', async () => {
    const status = await new Promise<{ code: number; http: number }>((resolve, reject) => {
      const req = httpRequest(`${t.serve.url}/v1/logs`, {
        method: 'POST',
        headers: { host: 'evil.example:4318', 'content-type': 'application/x-protobuf' },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ http: res.statusCode ?? 0, code: decodeProtobufStatus(Buffer.concat(chunks)).code }),
        );
      });
      req.on('error', reject);
      req.end(body());
    });
    expect(status).toEqual({ http: 403, code: 7 });
  });

  it('answers what is in progress when draining starts with Connection: close', async () => {
    const held = body();
    const connection = await rawConnection(t.serve.port);
    connection.socket.write(
      logsRequestHead(t.serve.token, held.length).replace('Host: x', 'Host: localhost'),
    );
    const deadline = Date.now() + 10_000;
    while (t.serve.server.stats().inFlight < 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    const closed = t.serve.server.close();
    connection.socket.write(held);
    const answer = await connection.waitFor(/\r\n\r\n/);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    connection.socket.destroy();
    await closed;
  });
});
