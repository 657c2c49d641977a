/**
 * A modal with one path field (the engine machine's), Cancel / confirm buttons and an error block:
 * the shared frame of the checkpoint and dataset dialogs. Enter in the field submits. In the desktop
 * app (HostInfo.nativeDialogs) a "Browse…" button beside the field opens the operating system's
 * dialog (pickPath) and fills the field; a browser tab has none and keeps the typed path, and the
 * Import/Export dialogs (`list`) show the engine's folder listing under the field instead.
 */
import { useState, type ReactNode } from 'react';
import type { ListKindDto, PathPurposeDto } from '../../engine/contract/api';
import { dialogStart, pickPath } from '../actions/hostDialogs';
import { actionContext, reportError } from '../actions/registry';
import { isAbsolutePath, resolveUserPath } from '../state/paths';
import { useStore } from '../state/store';
import { InlineBrowser } from './InlineBrowser';
import { Modal } from './Modal';

export interface PathFormError {
  message: string;
  hint?: string;
}

/** An engine error (message and optional hint) as the form shows it. */
export function pathFormError(e: unknown): PathFormError {
  const err = e as { message?: string; hint?: string };
  return { message: err.message ?? String(e), hint: err.hint };
}

/** What the Browse… button asks the operating system for. */
export interface BrowseSpec {
  mode: 'open' | 'save' | 'folder';
  purpose: PathPurposeDto;
}

export interface PathFormProps {
  title: string;
  testId: string;
  /** the line above the field */
  label: string;
  path: string;
  onPathChange: (path: string) => void;
  /** after onPathChange, for a path chosen in the operating system's dialog (a save dialog there has asked before replacing it) */
  onPicked?: (path: string) => void;
  onSubmit: () => void;
  onClose: () => void;
  busy: boolean;
  confirmLabel: ReactNode;
  error: PathFormError | null;
  /** extra fields between the path and the error */
  children?: ReactNode;
  /** false disables the confirm button (default: enabled once a path is typed) */
  canSubmit?: boolean;
  /** a wider dialog (tables) */
  wide?: boolean;
  /** shown in the empty path field */
  placeholder?: string;
  /** the native dialog behind Browse… (desktop app only) */
  browse?: BrowseSpec;
  /** a browser tab's stand-in for it: the engine's listing of folders and these files under the field (InlineBrowser) */
  list?: { kind: ListKindDto; mode: 'open' | 'save' };
}

export function PathForm({ title, testId, label, path, onPathChange, onPicked, onSubmit, onClose, busy, confirmLabel, error, children, canSubmit = true, wide, placeholder, browse, list }: PathFormProps) {
  const native = useStore((s) => s.host?.nativeDialogs === true);
  const home = useStore((s) => s.host?.home);
  // once the host has said it is a browser tab (a desktop window gets Browse… instead, never both)
  const browserTab = useStore((s) => s.host?.kind === 'browser');
  const [listStart] = useState(() => dialogStart());
  const [picking, setPicking] = useState(false);
  const onBrowse = async () => {
    const ctx = actionContext();
    if (!ctx || !browse) return;
    const start = dialogStart();
    const typed = resolveUserPath(path, start, useStore.getState().host?.home);
    setPicking(true);
    try {
      const chosen = await pickPath(ctx, browse.mode, browse.purpose, typed && isAbsolutePath(typed) ? typed : start);
      if (chosen) {
        onPathChange(chosen);
        onPicked?.(chosen);
      }
    } catch (e) {
      reportError(e, 'Browse');
    } finally {
      setPicking(false);
    }
  };
  return (
    <Modal
      title={title}
      onClose={onClose}
      testId={testId}
      wide={wide}
      footer={
        <>
          <button data-testid="dialog-cancel" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" data-testid="dialog-confirm" disabled={busy || picking || !path.trim() || !canSubmit} onClick={onSubmit}>
            {confirmLabel}
          </button>
        </>
      }
    >
      <div className="file-dialog">
        <label className="path-field">
          <span className="muted small">{label}</span>
          <span className="path-row">
            <input
              autoFocus
              type="text"
              spellCheck={false}
              data-testid="dialog-path"
              value={path}
              placeholder={placeholder}
              onChange={(e) => onPathChange(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') onSubmit();
              }}
            />
            {native && browse && (
              <button type="button" data-testid="dialog-browse" disabled={picking} onClick={() => void onBrowse()}>
                Browse…
              </button>
            )}
          </span>
        </label>
        {browserTab && list && <InlineBrowser key={list.kind} kind={list.kind} mode={list.mode} path={resolveUserPath(path, listStart, home)} start={listStart} onPath={onPathChange} />}
        {children}
        {error && (
          <div className="dialog-error" data-testid="dialog-error">
            <div>{error.message}</div>
            {error.hint && <div className="muted small">{error.hint}</div>}
          </div>
        )}
      </div>
    </Modal>
  );
}
