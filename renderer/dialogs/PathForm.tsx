/**
 * A modal with one path field (the engine machine's), Cancel / confirm buttons and an error block:
 * the shared frame of the checkpoint dialogs. Enter in the field submits.
 */
import type { ReactNode } from 'react';
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

/** `<project name>.safetensors`, slugged ("model" when the name has nothing usable). */
export function defaultCheckpointPath(projectName: string): string {
  const slug = projectName.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'model';
  return `${slug}.safetensors`;
}

export interface PathFormProps {
  title: string;
  testId: string;
  /** the line above the field */
  label: string;
  path: string;
  onPathChange: (path: string) => void;
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
}

export function PathForm({ title, testId, label, path, onPathChange, onSubmit, onClose, busy, confirmLabel, error, children, canSubmit = true, wide, placeholder }: PathFormProps) {
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
          <button className="primary" data-testid="dialog-confirm" disabled={busy || !path.trim() || !canSubmit} onClick={onSubmit}>
            {confirmLabel}
          </button>
        </>
      }
    >
      <div className="file-dialog">
        <label className="path-field">
          <span className="muted small">{label}</span>
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
        </label>
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
