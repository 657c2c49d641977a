/**
 * Open / Save as in a browser tab (the desktop app uses the operating system's dialogs instead:
 * actions/hostDialogs.ts): a folder browser over api.listDir plus a path field (type or paste a path
 * and press Enter). Open also lists recent projects. Paths are the engine machine's paths. It starts
 * in the project's folder, or the user's home for an unsaved project (never the engine's folder).
 * Saving onto an existing file asks first: the engine refuses it (NL_EXISTS), the dialog says so and
 * its Save button becomes Replace for that path; a second press replaces the file.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { EngineCallError } from '../../engine/contract/api';
import { dialogStart } from '../actions/hostDialogs';
import { actionContext } from '../actions/registry';
import { isExistsError, openPath, saveTo } from '../actions/projectOps';
import { baseName, isAbsolutePath, joinPath as join, projectFileName as fileNameFor } from '../state/paths';
import { useStore } from '../state/store';
import { Modal } from './Modal';

export type Listing = { path: string; parent: string | null; entries: { name: string; path: string; kind: 'dir' | 'file' }[] };
export type DirEntry = Listing['entries'][number];
type DialogProblem = { message: string; hint?: string };

// '~' is expanded by the engine for project files (openProject, saveProject): not joined to the folder shown
const isAbsolute = (p: string) => isAbsolutePath(p) || p.startsWith('~');

export function FileDialog() {
  const kind = useStore((s) => (s.dialog?.kind === 'open' || s.dialog?.kind === 'save' ? s.dialog.kind : null));
  if (!kind) return null;
  return <FileDialogBody key={kind} mode={kind} />;
}

function FileDialogBody({ mode }: { mode: 'open' | 'save' }) {
  const api = useStore((s) => s.api)!;
  const recent = useStore((s) => s.recent);
  const projectPath = useStore((s) => s.project.path);
  const projectName = useStore((s) => s.project.name);
  const [listing, setListing] = useState<Listing | null>(null);
  const [path, setPath] = useState(mode === 'save' ? (projectPath ?? fileNameFor(projectName)) : '');
  const [error, setError] = useState<DialogProblem | null>(null);
  const [busy, setBusy] = useState(false);
  /** the path the engine said exists: pressing Replace replaces it; editing the path asks anew */
  const [replace, setReplace] = useState<string | null>(null);
  /** the user edited the path field: browsing must not rewrite it (until they click a folder) */
  const touched = useRef(false);
  const close = () => useStore.getState().setDialog(null);

  const browse = useCallback(
    async (dir?: string) => {
      try {
        const r = await api.listDir(dir === undefined ? {} : { path: dir });
        setListing(r);
        setError(null);
        if (mode === 'save' && !touched.current) setPath((p) => join(r.path, p ? baseName(p) : fileNameFor(projectName)));
        return true;
      } catch (e) {
        setError(e instanceof EngineCallError ? { message: e.message, hint: e.hint } : { message: String(e) });
        return false;
      }
    },
    [api, mode, projectName],
  );

  useEffect(() => {
    // the project's folder, else the user's home (listDir's own default is the home too, else the engine's folder)
    void browse(dialogStart() ?? undefined);
    api.recentProjects({}).then((r) => useStore.setState({ recent: r }), () => {});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  /** a typed name is in the folder shown; an absolute path (or ~) is itself */
  const fullPath = (target: string) => (listing && !isAbsolute(target) ? join(listing.path, target) : target);
  const replacing = mode === 'save' && replace !== null && path.trim() !== '' && fullPath(path.trim()) === replace;

  const confirm = async (target = path.trim()) => {
    if (!target) {
      setError({ message: mode === 'open' ? 'Choose a project file, or type its path.' : 'Type a file name or path to save to.' });
      return;
    }
    // a folder typed into the path field: go there instead
    const dirEntry = listing?.entries.find((e) => e.kind === 'dir' && (e.path === target || e.name === target));
    if (dirEntry || /[\\/]$/.test(target)) {
      touched.current = false;
      void browse(dirEntry?.path ?? target);
      return;
    }
    const ctx = actionContext();
    if (!ctx) return;
    setBusy(true);
    const full = fullPath(target);
    try {
      if (mode === 'open') await openPath(ctx, full);
      else await saveTo(ctx, full, { overwrite: replace === full });
      close();
    } catch (e) {
      if (mode === 'save' && isExistsError(e)) {
        setPath(full);
        setReplace(full);
        setError({ message: e.message, hint: 'Press Replace to overwrite it, or choose another name.' });
      } else setError(e instanceof EngineCallError ? { message: e.message, hint: e.hint } : { message: String(e) });
    } finally {
      setBusy(false);
    }
  };

  const pick = (e: DirEntry) => {
    touched.current = false;
    setReplace(null);
    if (e.kind === 'dir') void browse(e.path);
    else setPath(e.path);
  };

  return (
    <Modal
      title={mode === 'open' ? 'Open project' : 'Save project as'}
      onClose={close}
      testId={mode === 'open' ? 'dialog-open' : 'dialog-save'}
      wide
      footer={
        <>
          <button data-testid="dialog-cancel" onClick={close}>
            Cancel
          </button>
          <button className={replacing ? 'primary danger' : 'primary'} data-testid="dialog-confirm" disabled={busy} onClick={() => void confirm()}>
            {mode === 'open' ? 'Open' : replacing ? 'Replace' : 'Save'}
          </button>
        </>
      }
    >
      <div className="file-dialog">
        <PathField
          mode={mode}
          path={path}
          onEdit={(value) => {
            setPath(value);
            touched.current = true;
            setError(null);
            setReplace(null); // a changed path asks again, even when it comes back to the same file
          }}
          onEnter={() => void confirm()}
        />
        {error && <DialogError error={error} />}
        <div className="file-columns">
          <FolderBrowser listing={listing} picked={path} onUp={(parent) => void browse(parent)} onPick={pick} onOpen={(file) => void confirm(file)} />
          {mode === 'open' && <RecentList recent={recent} picked={path} onPick={setPath} onOpen={(file) => void confirm(file)} />}
        </div>
      </div>
    </Modal>
  );
}

/** The path field: a name in the folder shown, or a whole path; Enter confirms. */
function PathField({ mode, path, onEdit, onEnter }: { mode: 'open' | 'save'; path: string; onEdit: (value: string) => void; onEnter: () => void }) {
  return (
    <label className="path-field">
      <span className="muted small">{mode === 'open' ? 'Project file' : 'Save to'}</span>
      <input
        type="text"
        spellCheck={false}
        data-testid="dialog-path"
        value={path}
        placeholder={mode === 'open' ? '/path/to/project.netloom.json' : '/path/to/name.netloom.json'}
        onChange={(e) => onEdit(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            onEnter();
          }
        }}
      />
    </label>
  );
}

function DialogError({ error }: { error: DialogProblem }) {
  return (
    <div className="dialog-error" data-testid="dialog-error" role="alert">
      <div>{error.message}</div>
      {error.hint && <div className="muted small">{error.hint}</div>}
    </div>
  );
}

export interface FolderBrowserProps {
  listing: Listing | null;
  /** the path in the field: its entry shows as picked */
  picked: string;
  onUp: (parent: string) => void;
  onPick: (e: DirEntry) => void;
  /** a file double-clicked */
  onOpen: (file: string) => void;
  /** what an empty folder says (default: no folders or project files) */
  emptyText?: string;
}

/** The folder shown (with a button up one level) and its folders and project files (the checkpoint dialogs list theirs: PathForm). */
export function FolderBrowser({ listing, picked, onUp, onPick, onOpen, emptyText = 'No folders or project files here.' }: FolderBrowserProps) {
  return (
    <div className="file-browser">
      <div className="file-crumb">
        <button className="tool small" disabled={!listing?.parent} onClick={() => listing?.parent && onUp(listing.parent)} title="up one folder" data-testid="dialog-up">
          ↑
        </button>
        <span className="mono small" title={listing?.path}>
          {listing?.path ?? '…'}
        </span>
      </div>
      <ul className="file-list" data-testid="dialog-listing">
        {listing?.entries.length === 0 && <li className="muted small pad">{emptyText}</li>}
        {listing?.entries.map((e) => (
          <li
            key={e.path}
            className={`file-entry ${e.kind}${picked === e.path ? ' picked' : ''}`}
            data-testid={`dialog-entry-${e.name}`}
            onClick={() => onPick(e)}
            onDoubleClick={() => (e.kind === 'file' ? onOpen(e.path) : undefined)}
          >
            <span className="file-icon">{e.kind === 'dir' ? '▸' : '◆'}</span>
            {e.name}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Open's recent projects: a click puts one in the path field, a double click opens it. */
function RecentList({ recent, picked, onPick, onOpen }: { recent: string[]; picked: string; onPick: (file: string) => void; onOpen: (file: string) => void }) {
  return (
    <div className="recent">
      <div className="muted small">Recent</div>
      {recent.length === 0 && <div className="muted small">No recent projects.</div>}
      <ul className="file-list">
        {recent.map((r) => (
          <li key={r} className={`file-entry file${picked === r ? ' picked' : ''}`} title={r} data-testid="dialog-recent" onClick={() => onPick(r)} onDoubleClick={() => onOpen(r)}>
            <span className="file-icon">◆</span>
            <span className="recent-name">{baseName(r)}</span>
            <span className="recent-dir muted small">{r.slice(0, r.length - baseName(r).length)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
