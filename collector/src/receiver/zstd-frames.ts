// The frames of a zstd body, located by reading their headers and block headers (RFC 8878): Node's zstd decoder
// stops after the first frame and takes a truncated one without an error, so where each frame ends, and whether
// it is whole, is read here.

/** More frames than this in one body is refused: each costs a decoder call (empty ones add nothing to the limit). */
export const MAX_ZSTD_FRAMES = 1024;

const FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F, a 4-byte size, then that many bytes of user data. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

export class ZstdFrameError extends Error {
  override name = 'ZstdFrameError';
}

/** The data frames of `body` (skippable frames left out); throws ZstdFrameError when one is cut or malformed. */
export function zstdFrames(body: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let offset = 0;
  let count = 0;
  const need = (bytes: number, what: string) => {
    if (offset + bytes > body.length) throw new ZstdFrameError(`frame ${count} is cut short (${what})`);
  };
  while (offset < body.length) {
    if (++count > MAX_ZSTD_FRAMES) throw new ZstdFrameError(`more than ${MAX_ZSTD_FRAMES} frames`);
    need(4, 'magic number');
    const magic = body.readUInt32LE(offset);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(8, 'skippable frame size');
      const size = body.readUInt32LE(offset + 4);
      offset += 8;
      need(size, 'skippable frame data');
      offset += size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new ZstdFrameError(`frame ${count} has no zstd magic number`);
    const start = offset;
    offset += 4;
    need(1, 'frame header');
    const descriptor = body.readUInt8(offset);
    offset += 1;
    if (descriptor & 0x08) throw new ZstdFrameError(`frame ${count} sets the reserved header bit`);
    const singleSegment = (descriptor & 0x20) !== 0;
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6] as number;
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 0x03] as number;
    const headerBytes = (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes;
    need(headerBytes, 'frame header');
    offset += headerBytes;
    for (let last = false; !last; ) {
      need(3, 'block header');
      const header = body.readUIntLE(offset, 3);
      offset += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new ZstdFrameError(`frame ${count} has a block of the reserved type`);
      const bytes = type === 1 ? 1 : size; // an RLE block holds one byte, repeated `size` times
      need(bytes, 'block');
      offset += bytes;
    }
    if (descriptor & 0x04) {
      need(4, 'checksum');
      offset += 4;
    }
    frames.push(body.subarray(start, offset));
  }
  return frames;
}
