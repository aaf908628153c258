// zstd request bodies (the collector's otlp_http exporter `compression: zstd`): every frame read, a frame cut short
// refused (Node's decoder returned what it had, so a cut body was acknowledged with records lost), skippable
// frames skipped, the frame count bounded; real zstd data from Node's encoder.
import { randomBytes } from 'node:crypto';
import { constants, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeContent } from '../src/receiver/request-body.js';
import { MAX_ZSTD_FRAMES } from '../src/receiver/zstd-frames.js';

const LIMIT = 1 << 20;
const decode = (body: Buffer, limit = LIMIT) => decodeContent(body, 'zstd', limit);
const skippable = (data: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a53, 0);
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data]);
};

describe('zstd bodies', () => {
  // Compressed (text), raw (random bytes) and RLE (one repeated byte) blocks; with and without a checksum.
  const texts = [Buffer.from('hello audit '.repeat(200)), randomBytes(3000), Buffer.alloc(5000, 7)];
  const frames = texts.map((t, i) =>
    zstdCompressSync(t, { params: { [constants.ZSTD_c_checksumFlag]: i % 2 } }),
  );
  const whole = Buffer.concat(texts);

  it('reads every frame, skipping skippable ones', async () => {
    const body = Buffer.concat([
      skippable(Buffer.from('x')),
      frames[0],
      frames[1],
      skippable(Buffer.alloc(0)),
      frames[2],
    ] as Buffer[]);
    expect((await decode(body)).equals(whole)).toBe(true);
    expect((await decode(frames[0] as Buffer)).equals(texts[0] as Buffer)).toBe(true);
    expect((await decode(skippable(Buffer.from('only')))).length).toBe(0);
  });

  it('refuses a body cut anywhere inside a frame (never a part of it as if whole)', async () => {
    const body = Buffer.concat(frames);
    const ends = new Set<number>();
    let end = 0;
    for (const f of frames) {
      end += f.length;
      ends.add(end);
    }
    for (let cut = 1; cut < body.length; cut++) {
      if (ends.has(cut)) continue;
      await expect(decode(body.subarray(0, cut)), `cut at ${cut}`).rejects.toThrow(
        /body is not valid zstd data/,
      );
    }
  });

  it('refuses more than MAX_ZSTD_FRAMES frames, and counts the limit over all frames, exactly', async () => {
    const empty = zstdCompressSync(Buffer.alloc(0));
    const many = Buffer.concat(Array.from({ length: MAX_ZSTD_FRAMES + 1 }, () => empty));
    // Refused from the headers, before any frame is decoded (each empty frame cost a decoder call).
    await expect(decode(many)).rejects.toThrow(`more than ${MAX_ZSTD_FRAMES} frames`);
    const six = Buffer.concat([zstdCompressSync(Buffer.from('abc')), zstdCompressSync(Buffer.from('def'))]);
    expect((await decode(Buffer.concat([six, skippable(Buffer.from('z')), empty]), 6)).toString()).toBe(
      'abcdef',
    );
    await expect(decode(six, 5)).rejects.toThrow(/decompressed body is larger than the limit/);
  });
});
