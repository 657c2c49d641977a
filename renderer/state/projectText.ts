/**
 * A project file's text, dropped on a browser tab, as a project to open unsaved. The engine has no
 * method that takes a project's text (openProject reads a path; a browser never learns one), so this
 * checks it against the contract's ProjectDto, the schema every project crosses the boundary with.
 * What the contract leaves to the engine (the training section, layer parameters, the format version)
 * the engine still checks: analysis marks problems on the canvas, Start and Save refuse what it would
 * not open. A file of an older format version would need the engine's migrations: refused here, with
 * File › Open as the way (the engine migrates what it opens by path).
 */
import { ProjectDto } from '../../engine/contract/api';

/** The format version this renderer's ProjectDto describes (engine/graph/document.ts PROJECT_VERSION). */
export const KNOWN_PROJECT_VERSION = 1;

export type ParsedProject = { ok: true; project: ProjectDto } | { ok: false; message: string; hint: string };

const OPEN_HINT = 'Use File › Open (Ctrl+O) and choose the file on the engine’s machine: the engine reads, upgrades and checks it.';

export function parseProjectText(text: string, fileName: string): ParsedProject {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    return { ok: false, message: `${fileName} is not valid JSON: ${(e as Error).message}`, hint: 'Open it in a text editor and fix the syntax, or restore it from a backup.' };
  }
  const fmt = (json as { format?: unknown } | null)?.format;
  if (fmt !== 'netloom-project') return { ok: false, message: `${fileName} is not a Netloom project (its "format" is not "netloom-project").`, hint: 'Drop a project saved by Netloom (.netloom.json or .netloom).' };
  const version = (json as { version?: unknown }).version;
  if (typeof version === 'number' && version !== KNOWN_PROJECT_VERSION)
    return { ok: false, message: `${fileName} is in project format version ${version}; a dropped file is opened as version ${KNOWN_PROJECT_VERSION} only.`, hint: OPEN_HINT };
  const r = ProjectDto.safeParse(json);
  if (!r.success) {
    const where = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    return { ok: false, message: `${fileName} is not a valid Netloom project: ${where}`, hint: OPEN_HINT };
  }
  const ids = new Set(r.data.graph.nodes.map((n) => n.id));
  const dangling = r.data.graph.edges.find((e) => !ids.has(e.source) || !ids.has(e.target));
  if (dangling) return { ok: false, message: `${fileName} has an edge ${dangling.source} -> ${dangling.target} to a node that does not exist.`, hint: 'Delete the edge from the file, or restore the node it points to.' };
  return { ok: true, project: r.data };
}
