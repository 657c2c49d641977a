/**
 * EngineApi: THE contract between the renderer (canvas, panels) and the engine host.
 *
 * Both hosts implement it over one EngineService: Electron over IPC (electron/ipc.ts +
 * preload.ts) and `netloom serve` over a WebSocket (engine/host/serve.ts). The renderer imports
 * nothing from engine/ but this file. It is "common" code: no Node imports, only zod, so it
 * bundles into the browser.
 *
 * Wire format (both transports):
 *   request   { id: number, method: keyof EngineApi, params: <that method's params> }
 *   response  { id, result } | { id, error: ApiError }
 *   event     { event: EngineEvent }                         (server -> client, unsolicited)
 * Every message is validated on arrival with the schemas below: a bad request gets an error
 * response (code NL_BAD_REQUEST) and the connection keeps serving.
 */
import { z } from 'zod';

export const API_VERSION = 1;

// ---- shared documents ----------------------------------------------------------------------------

/** A project as stored on disk (engine/graph/document.ts validates it fully on the engine side). */
export const NodeDto = z.object({
  id: z.string(),
  type: z.string(),
  name: z.string(),
  params: z.record(z.string(), z.unknown()),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
});
export const EdgeDto = z.object({
  id: z.string().optional(),
  source: z.string(),
  target: z.string(),
  targetHandle: z.string().optional(),
});
export const GraphDto = z.object({ nodes: z.array(NodeDto), edges: z.array(EdgeDto) });
/** The project's JSON; its `training` section and version are checked by the engine. */
export const ProjectDto = z
  .object({
    format: z.literal('netloom-project'),
    version: z.number().int(),
    name: z.string(),
    graph: GraphDto,
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

export type NodeDto = z.infer<typeof NodeDto>;
export type EdgeDto = z.infer<typeof EdgeDto>;
export type GraphDto = z.infer<typeof GraphDto>;
export type ProjectDto = z.infer<typeof ProjectDto>;

// ---- results -------------------------------------------------------------------------------------

/** One catalog layer, for the palette and the inspector's generated form. */
export const LayerDto = z.object({
  type: z.string(),
  group: z.string(),
  doc: z.string(),
  /** parameter name -> one-line doc */
  paramDocs: z.record(z.string(), z.string()),
  /** JSON Schema (draft 2020-12) of the parameters, defaults included: the inspector builds its form from it */
  paramsSchema: z.record(z.string(), z.unknown()),
  /** parameters a new node starts with (PyTorch defaults; required ones get a sensible value) */
  defaults: z.record(z.string(), z.unknown()),
  arity: z.object({ min: z.number(), max: z.number() }),
  ports: z.array(z.string()),
  isLoss: z.boolean(),
});
export type LayerDto = z.infer<typeof LayerDto>;

export const IssueDto = z.object({
  code: z.string(),
  nodeId: z.string().optional(),
  edgeId: z.string().optional(),
  message: z.string(),
  hint: z.string(),
  /** one-click fix: set params[param] = value on nodeId */
  fix: z.object({ param: z.string(), value: z.unknown() }).optional(),
});
export type IssueDto = z.infer<typeof IssueDto>;

export const SummaryRowDto = z.object({
  nodeId: z.string(),
  name: z.string(),
  type: z.string(),
  /** output shape with the batch in front, e.g. [64, 512] */
  outShape: z.array(z.number()).nullable(),
  params: z.number(),
  /** multiply-adds x 2 of one forward pass over the batch */
  flops: z.number(),
});

export const AnalysisDto = z.object({
  batchSize: z.number(),
  nodes: z.array(
    z.object({
      id: z.string(),
      /** output shape with the batch in front; null when it cannot be inferred (an upstream problem) */
      outShape: z.array(z.number()).nullable(),
      paramCount: z.number(),
      /** parameters after defaults and "auto" resolution (e.g. in_features: 784) */
      resolved: z.record(z.string(), z.unknown()),
    }),
  ),
  /** the shape each edge carries (its source's output), e.g. [64, 784] */
  edges: z.array(z.object({ id: z.string(), shape: z.array(z.number()).nullable() })),
  issues: z.array(IssueDto),
  summary: z.object({
    rows: z.array(SummaryRowDto),
    totalParams: z.number(),
    trainableParams: z.number(),
    totalFlops: z.number(),
    /** bytes of activations kept for backward at this batch size (float32) */
    activationBytes: z.number(),
    /** bytes of parameters (float32) */
    paramBytes: z.number(),
  }),
});
export type AnalysisDto = z.infer<typeof AnalysisDto>;

export const TemplateDto = z.object({ id: z.string(), name: z.string(), dataset: z.string(), description: z.string() });
export type TemplateDto = z.infer<typeof TemplateDto>;

export const DirEntryDto = z.object({ name: z.string(), path: z.string(), kind: z.enum(['dir', 'file']) });

export const RecoveryDto = z.object({ project: ProjectDto, path: z.string().nullable(), savedAt: z.string() });

// ---- the methods ---------------------------------------------------------------------------------

/** Each method: params schema and result schema. The transports validate both. */
export const METHODS = {
  /** handshake: the engine's API version and build */
  hello: { params: z.object({}), result: z.object({ apiVersion: z.number(), version: z.string() }) },
  getCatalog: { params: z.object({}), result: z.array(LayerDto) },
  /** shapes, parameter counts, problems and the model summary for a graph at a batch size */
  analyze: { params: z.object({ graph: GraphDto, batchSize: z.number().int().positive() }), result: AnalysisDto },
  listTemplates: { params: z.object({}), result: z.array(TemplateDto) },
  getTemplate: { params: z.object({ id: z.string() }), result: ProjectDto },
  /** reads and validates (and migrates) a project file; nothing on disk changes */
  openProject: { params: z.object({ path: z.string().min(1) }), result: z.object({ path: z.string(), project: ProjectDto }) },
  /** validates, then writes atomically (temp file + rename); adds to the recent list */
  saveProject: { params: z.object({ path: z.string().min(1), project: ProjectDto }), result: z.object({ path: z.string() }) },
  recentProjects: { params: z.object({}), result: z.array(z.string()) },
  /** a folder listing for the open/save dialogs (project files and folders only) */
  listDir: { params: z.object({ path: z.string().optional() }), result: z.object({ path: z.string(), parent: z.string().nullable(), entries: z.array(DirEntryDto) }) },
  /** autosave: the unsaved state, written every few seconds; read back after a crash */
  writeRecovery: { params: z.object({ project: ProjectDto, path: z.string().nullable() }), result: z.object({}) },
  readRecovery: { params: z.object({}), result: RecoveryDto.nullable() },
  clearRecovery: { params: z.object({}), result: z.object({}) },
} as const;

export type MethodName = keyof typeof METHODS;
export type Params<M extends MethodName> = z.input<(typeof METHODS)[M]['params']>;
export type Result<M extends MethodName> = z.output<(typeof METHODS)[M]['result']>;

/** The API as the renderer sees it: one async function per method, plus events. */
export type EngineApi = {
  [M in MethodName]: (params: Params<M>) => Promise<Result<M>>;
} & {
  /** subscribe to engine events; returns the unsubscribe function */
  onEvent(listener: (e: EngineEvent) => void): () => void;
};

// ---- events --------------------------------------------------------------------------------------

export const EngineEvent = z.discriminatedUnion('type', [
  /** the engine's recent-files list changed */
  z.object({ type: z.literal('recent.changed'), recent: z.array(z.string()) }),
]);
export type EngineEvent = z.infer<typeof EngineEvent>;

// ---- errors --------------------------------------------------------------------------------------

/** What crosses the boundary when a call fails: a stable code, the message, the fix. No stacks. */
export const ApiError = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });
export type ApiError = z.infer<typeof ApiError>;

/** The renderer-side error class: thrown by the client when a call's response is an error. */
export class EngineCallError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(e: ApiError) {
    super(e.message);
    this.name = 'EngineCallError';
    this.code = e.code;
    this.hint = e.hint;
  }
}

// ---- wire messages -------------------------------------------------------------------------------

export const Request = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export const Response = z.union([
  z.object({ id: z.number().int(), result: z.unknown() }),
  z.object({ id: z.number().int(), error: ApiError }),
]);
export const EventMessage = z.object({ event: EngineEvent });
export type Request = z.infer<typeof Request>;

/** Validates a request's method and params; returns the parsed params or an ApiError. */
export function checkRequest(method: string, params: unknown): { ok: true; method: MethodName; params: unknown } | { ok: false; error: ApiError } {
  if (!Object.hasOwn(METHODS, method))
    return { ok: false, error: { code: 'NL_BAD_REQUEST', message: `unknown method "${method}"`, hint: `Known methods: ${Object.keys(METHODS).join(', ')}.` } };
  const r = METHODS[method as MethodName].params.safeParse(params ?? {});
  if (!r.success)
    return {
      ok: false,
      error: { code: 'NL_BAD_REQUEST', message: `invalid parameters for ${method}: ${r.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}` },
    };
  return { ok: true, method: method as MethodName, params: r.data };
}
