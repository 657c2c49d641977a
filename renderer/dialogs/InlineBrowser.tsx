/**
 * The browser's in-page file chooser for the path dialogs of Import and Export (a browser tab cannot open the
 * engine machine's file dialogs): the folder of the path in the field, listed by the engine (listDir: folders and
 * the files of one kind only), under the field; it follows the folder typed there. A file click puts it in the field;
 * a folder click goes into it and, when saving, moves the file name there too. The desktop app shows its native
 * dialog (Browse…) instead.
 */
import { useEffect, useState } from 'react';
import type { ListKindDto } from '../../engine/contract/api';
import { baseName, dirName, isAbsolutePath, joinPath } from '../state/paths';
import { useStore } from '../state/store';
import { FolderBrowser, type DirEntry, type Listing } from './FileDialog';

export interface InlineBrowserProps {
  /** which files to list beside the folders */
  kind: ListKindDto;
  /** 'open' keeps the field's path while browsing; 'save' (a file or a folder to create) moves its name along */
  mode: 'open' | 'save';
  /** the field's path, absolute (the dialog resolves what was typed) or empty */
  path: string;
  /** the folder to start in when the path names none */
  start: string | null;
  onPath: (path: string) => void;
}

export function InlineBrowser({ kind, mode, path, start, onPath }: InlineBrowserProps) {
  const api = useStore((s) => s.api);
  const [listing, setListing] = useState<Listing | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  /** lists `dir` (the engine's default, the home folder, when undefined); whether it could. Quiet: a folder being typed */
  const browse = async (dir: string | undefined, quiet = false): Promise<boolean> => {
    if (!api) return false;
    try {
      setListing(await api.listDir({ kind, ...(dir ? { path: dir } : {}) }));
      setProblem(null);
      return true;
    } catch (e) {
      if (!quiet) setProblem((e as Error).message);
      return false;
    }
  };
  useEffect(() => {
    // the folder of the proposed path; one that does not exist (yet) falls back to the start folder
    const folder = isAbsolutePath(path) ? dirName(path) : start;
    void browse(folder ?? undefined).then((ok) => (!ok && start && folder !== start ? browse(start) : ok));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  // the listing follows the folder typed into the field (a moment after the typing stops; a folder that does not
  // exist, as while its name is half typed, leaves the listing as it is)
  const typedFolder = isAbsolutePath(path) ? dirName(path) : null;
  useEffect(() => {
    if (!typedFolder || !listing || typedFolder === listing.path) return;
    const timer = setTimeout(() => void browse(typedFolder, true), 250);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typedFolder]);
  const pick = (e: DirEntry) => {
    if (e.kind === 'file') {
      onPath(e.path);
      return;
    }
    void browse(e.path);
    if (mode === 'save' && path) onPath(joinPath(e.path, baseName(path)));
  };
  const up = (parent: string) => {
    void browse(parent);
    if (mode === 'save' && path) onPath(joinPath(parent, baseName(path)));
  };
  return (
    <div className="inline-browser" data-testid="dialog-inline-browser">
      <FolderBrowser listing={listing} picked={path} onUp={up} onPick={pick} onOpen={onPath} emptyText={kind === 'folders' ? 'No folders here.' : 'No folders or files of this kind here.'} />
      {problem && <div className="muted small">{problem}</div>}
    </div>
  );
}
