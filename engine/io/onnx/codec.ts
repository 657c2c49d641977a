/**
 * ModelProto bytes <-> plain objects, through the schema in schema.ts. Decoding is bounded and strict:
 * protobufjs's own checks (a length past the end, a varint too long, nesting deeper than 100) become
 * NL_BAD_CHECKPOINT naming the file, and so does a declared field sent with another wire type, which
 * protobufjs would silently keep as an unknown field (a damaged or hand-made file, not a newer one).
 */
import protobuf from 'protobufjs';
import { NetloomError } from '../../errors.js';
import { ModelProtoType, type ModelProto } from './schema.js';

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start group', 'end group', '32-bit', 'type 6', 'type 7'];

export const REEXPORT_HINT = 'Export the model again (torch.onnx.export(model, x, "model.onnx", opset_version=17)), or check that the file was copied whole.';

function damaged(source: string, what: string): NetloomError {
  return new NetloomError('NL_BAD_CHECKPOINT', `${source}: not a valid ONNX model: ${what}`, REEXPORT_HINT);
}

/** The field number and wire type of an unknown field's raw bytes (they start with its tag varint). */
function tagOf(raw: Uint8Array): { field: number; wire: number } {
  let tag = 0;
  for (let i = 0, shift = 0; i < raw.length && i < 5; i++, shift += 7) {
    tag += (raw[i] & 0x7f) * 2 ** shift;
    if (!(raw[i] & 0x80)) break;
  }
  return { field: Math.floor(tag / 8), wire: tag % 8 };
}

/** Throws for a declared field that came with a wire type its declaration does not allow, anywhere in the tree. */
function checkWireTypes(type: protobuf.Type, message: protobuf.Message, path: string, source: string): void {
  const unknowns = (message as unknown as { $unknowns?: Uint8Array[] }).$unknowns ?? [];
  for (const raw of unknowns) {
    const { field, wire } = tagOf(raw);
    const declared = type.fieldsById[field];
    if (declared) throw damaged(source, `${path}.${declared.name} (field ${field}) has the wire type ${WIRE_NAMES[wire]}, which its type ${declared.type} cannot have`);
  }
  for (const f of type.fieldsArray) {
    if (!(f.resolve().resolvedType instanceof protobuf.Type)) continue;
    const value = (message as unknown as Record<string, unknown>)[f.name];
    const items = f.repeated ? ((value as protobuf.Message[] | undefined) ?? []) : value ? [value as protobuf.Message] : [];
    items.forEach((m, i) => checkWireTypes(f.resolvedType as protobuf.Type, m, f.repeated ? `${path}.${f.name}[${i}]` : `${path}.${f.name}`, source));
  }
}

/** Decodes ModelProto bytes; `source` names the file in messages. */
export function decodeModel(bytes: Uint8Array, source: string): ModelProto {
  if (bytes.length === 0) throw damaged(source, 'the file is empty');
  let message: protobuf.Message;
  try {
    const reader = protobuf.Reader.create(bytes);
    reader.discardUnknown = false; // kept, so that a declared field with the wrong wire type is seen
    message = ModelProtoType.decode(reader);
  } catch (e) {
    const why = (e as Error).message;
    throw damaged(source, /index out of range/.test(why) ? `the protobuf is truncated or damaged (${why})` : `the protobuf cannot be decoded (${why})`);
  }
  checkWireTypes(ModelProtoType, message, 'ModelProto', source);
  return ModelProtoType.toObject(message, { longs: Number, arrays: false, defaults: false }) as ModelProto;
}

/** Encodes a ModelProto given as a plain object (field names as in onnx.proto). */
export function encodeModel(model: ModelProto): Uint8Array {
  const problem = ModelProtoType.verify(model);
  if (problem) throw new NetloomError('NL_INTERNAL', `the ONNX model built for export is malformed: ${problem}`, 'This is a bug in Netloom: please report it with the project file.');
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}
