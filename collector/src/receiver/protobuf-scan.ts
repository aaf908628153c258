// A pass over a protobuf request before it is decoded: counts its log records (a body of millions of empty
// records, a few KB gzipped, decoded to gigabytes of objects) and its messages (as many empty attributes of one
// record: 8M from a 16 KB gzip body took 3.9 s and 1.1 GB to decode) and checks that each known field comes with the
// wire type of its schema (protobufjs would read a mismatched one as nothing, pdata refuses it). Walks tags and
// lengths only: nothing is allocated per record.
import protobuf from 'protobufjs';
import { OtlpDecodeError, TooManyProtobufMessagesError, TooManyRecordsError } from './errors.js';

interface FieldShape {
  name: string;
  wireType: number;
  /** Wire type 2 also allowed: a repeated scalar may come packed. */
  packable: boolean;
  /** The field's message type, to walk into. */
  message?: MessageShape;
}
interface MessageShape {
  name: string;
  fields: Map<number, FieldShape>;
  /** Field id holding the log records (ScopeLogs.log_records): each occurrence is one record. */
  countsField?: number;
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32'];
/** protobufjs' (and protoc's) nesting limit: deeper messages are left to the decoder, which refuses them. */
const MAX_DEPTH = 100;
const BASIC_WIRE: Readonly<Record<string, number>> = protobuf.types.basic;
const PACKED_WIRE: Readonly<Record<string, number>> = protobuf.types.packed;

function shapeOf(type: protobuf.Type, records: protobuf.Field, seen: Map<protobuf.Type, MessageShape>) {
  const known = seen.get(type);
  if (known) return known;
  const shape: MessageShape = { name: type.name, fields: new Map() };
  seen.set(type, shape);
  for (const field of type.fieldsArray) {
    field.resolve();
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    const basic = sub || field.resolvedType instanceof protobuf.Enum ? undefined : field.type;
    shape.fields.set(field.id, {
      name: field.name,
      wireType: basic === undefined ? (sub ? 2 : 0) : (BASIC_WIRE[basic] ?? 2),
      packable: field.repeated && basic !== undefined && PACKED_WIRE[basic] !== undefined,
      ...(sub && { message: shapeOf(sub, records, seen) }),
    });
    if (field === records) shape.countsField = field.id;
  }
  return shape;
}

export interface ProtobufScanner {
  /**
   * Log records in `body`; throws TooManyRecordsError past `maxRecords`, TooManyProtobufMessagesError past
   * `maxMessages` messages at any depth, OtlpDecodeError on a bad wire type.
   */
  scan(body: Uint8Array, maxRecords: number, maxMessages?: number): number;
}

/** A scanner for `request` (ExportLogsServiceRequest) whose records are the occurrences of `records`. */
export function protobufScanner(request: protobuf.Type, records: protobuf.Field): ProtobufScanner {
  const root = shapeOf(request, records, new Map());
  return {
    scan(body, maxRecords, maxMessages = Number.POSITIVE_INFINITY) {
      const reader = protobuf.Reader.create(body);
      const count = { n: 0, max: maxRecords, messages: 0, maxMessages };
      try {
        walk(reader, reader.len, root, 0, count);
      } catch (error) {
        if (
          error instanceof TooManyRecordsError ||
          error instanceof TooManyProtobufMessagesError ||
          error instanceof OtlpDecodeError
        )
          throw error;
        throw new OtlpDecodeError(
          '',
          `not a valid protobuf ExportLogsServiceRequest: ${(error as Error).message}`,
        );
      }
      return count.n;
    },
  };
}

function walk(
  reader: protobuf.Reader,
  end: number,
  shape: MessageShape,
  depth: number,
  count: { n: number; max: number; messages: number; maxMessages: number },
): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    if (id === 0) throw new Error(`field number 0 at offset ${reader.pos}`);
    const field = shape.fields.get(id);
    if (field && wireType !== field.wireType && !(field.packable && wireType === 2))
      throw new OtlpDecodeError(
        shape.name,
        `field ${field.name} (${id}) has wire type ${WIRE_NAMES[wireType] ?? wireType}, its schema says ` +
          `${WIRE_NAMES[field.wireType]}`,
      );
    if (id === shape.countsField && ++count.n > count.max) throw new TooManyRecordsError(count.max);
    if (field?.message && depth < MAX_DEPTH) {
      if (++count.messages > count.maxMessages) throw new TooManyProtobufMessagesError(count.maxMessages);
      const length = reader.uint32();
      const fieldEnd = reader.pos + length;
      if (fieldEnd > end)
        throw new Error(`length ${length} past the end of its message at offset ${reader.pos}`);
      walk(reader, fieldEnd, field.message, depth + 1, count);
    } else reader.skipType(wireType);
  }
  if (reader.pos !== end) throw new Error(`a field runs past the end of its message (offset ${reader.pos})`);
}
