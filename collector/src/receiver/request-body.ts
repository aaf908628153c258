// Reads an HTTP request body within a size limit and decompresses it within the same limit (a gzip bomb stops
// at the limit instead of filling memory).
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate, zstdDecompress } from 'node:zlib';
import { BodyStalledError, BodyTooLargeError, OtlpDecodeError, UnsupportedMediaTypeError } from './errors.js';
import { zstdFrames } from './zstd-frames.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const zstdFrame = promisify(zstdDecompress);

/**
 * Node's zstd decoder stops after the first frame and takes a cut one without an error: the frames are located
 * and checked whole first (zstdFrames), then each is decoded, within one limit for them all.
 */
async function zstdAsync(body: Buffer, { maxOutputLength }: { maxOutputLength: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for (const frame of zstdFrames(body)) {
    const buffer = await zstdFrame(frame, { maxOutputLength: Math.max(1, maxOutputLength - size) });
    size += buffer.length;
    if (size > maxOutputLength) throw Object.assign(new Error('too large'), { code: 'ERR_BUFFER_TOO_LARGE' });
    parts.push(buffer);
  }
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}

// The collector's otlp_http exporter sends `compression: zlib` as `Content-Encoding: zlib`, in the zlib format HTTP's
// `deflate` names too; zstd comes with Node (>= 22.15). snappy and lz4 would each need a dependency: a 415.
const DECODERS: Record<string, (body: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>> = {
  gzip: gunzipAsync,
  'x-gzip': gunzipAsync,
  deflate: inflateAsync,
  zlib: inflateAsync,
  zstd: zstdAsync,
};

export type OtlpEncoding = 'json' | 'protobuf';

/** A Content-Type's media type, lower case, without its parameters (`charset=…`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** `application/json` or `application/x-protobuf` (parameters such as charset ignored); anything else is a 415. */
export function requestEncoding(contentType: string | undefined): OtlpEncoding {
  const type = mediaType(contentType);
  if (type === 'application/json') return 'json';
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  throw new UnsupportedMediaTypeError(
    `content-type ${JSON.stringify(contentType ?? '')} is not supported: send application/x-protobuf or application/json`,
  );
}

/** Reads the raw body; stops reading (and throws) as soon as it passes `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number, idleTimeoutMs?: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit, 'body');
  const chunks: Buffer[] = [];
  let size = 0;
  // Only while the body comes in: afterwards the client waits for the insert, which may take longer.
  if (idleTimeoutMs !== undefined)
    req.setTimeout(idleTimeoutMs, () => req.destroy(new BodyStalledError(idleTimeoutMs)));
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new BodyTooLargeError(limit, 'body');
      chunks.push(chunk);
    }
  } finally {
    // Leaving the loop early (too large) destroys the request and detaches its socket: req.setTimeout would throw
    // and hide the error that ended the loop.
    if (idleTimeoutMs !== undefined) req.socket?.setTimeout(0);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/** Undoes `Content-Encoding` (gzip, deflate or zlib, zstd, identity) with the decompressed size capped at `limit`. */
export async function decodeContent(
  body: Buffer,
  encoding: string | undefined,
  limit: number,
): Promise<Buffer> {
  const coding = (encoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  const inflater = Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
  if (!inflater)
    throw new UnsupportedMediaTypeError(
      `content-encoding ${JSON.stringify(encoding)} is not supported: send gzip, zstd, deflate (zlib) or no encoding`,
    );
  try {
    return await inflater(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new BodyTooLargeError(limit, 'decompressed body');
    throw new OtlpDecodeError('', `body is not valid ${coding} data: ${(error as Error).message}`);
  }
}
