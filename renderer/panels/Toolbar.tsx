/**
 * The toolbar: File, Edit and View actions as buttons (each runs the registered action), and File's Import and
 * Export as menus (the desktop menu's File ▸ Import / Export submenus, which a browser tab has no other place for).
 */
import type { ReactNode } from 'react';
import { actionAutoLayout, actionFlipLayout } from '../actions/actionAutoLayout';
import { actionFitView } from '../actions/actionFitView';
import { actionGroup } from '../actions/actionGroup';
import { actionHelp } from '../actions/actionHelp';
import { actionNew } from '../actions/actionNew';
import { actionOpen } from '../actions/actionOpen';
import { actionRedo } from '../actions/actionRedo';
import { actionSave } from '../actions/actionSave';
import { actionSaveAs } from '../actions/actionSaveAs';
import { actionToggleTheme } from '../actions/actionToggleTheme';
import { actionUndo } from '../actions/actionUndo';
import { actionExportOnnx, actionExportPt, actionExportPytorch, actionImportOnnx } from '../actions/actionExport';
import { actionLoadCheckpoint, actionSaveCheckpoint } from '../actions/actionTrain';
import { actionCompareCheckpoint, actionCompareProject, actionCompareSaved } from '../actions/actionCompare';
import { MenuButton, type MenuItemSpec } from './MenuButton';
import { run } from '../actions/registry';
import type { Action } from '../actions/types';
import { useLayoutPrefs } from '../state/layoutPrefs';
import { selectCanRedo, selectCanUndo, selectDirty, useStore } from '../state/store';
import { IconCompare, IconDown, IconExport, IconFit, IconHelp, IconImport, IconLayout, IconMoon, IconNew, IconOpen, IconRedo, IconRight, IconSave, IconSaveAs, IconSun, IconUndo } from './icons';

/** The desktop menu's labels (electron/menu.ts), so both hosts name the formats alike. */
const IMPORT_ITEMS: readonly MenuItemSpec[] = [
  { action: actionLoadCheckpoint, label: 'Weights…', testId: 'menu-import-weights' },
  { action: actionImportOnnx, label: 'ONNX Model…', testId: 'menu-import-onnx' },
];
const EXPORT_ITEMS: readonly MenuItemSpec[] = [
  { action: actionSaveCheckpoint, label: 'Checkpoint (safetensors)…', testId: 'menu-export-safetensors' },
  { action: actionExportPt, label: 'PyTorch State Dict (.pt)…', testId: 'menu-export-pt' },
  { action: actionExportOnnx, label: 'ONNX Model…', testId: 'menu-export-onnx' },
  { action: actionExportPytorch, label: 'PyTorch Code (folder)…', testId: 'menu-export-pytorch' },
];
/** The desktop menu's File ▸ Compare submenu: the graph diff against a saved version or a checkpoint. */
const COMPARE_ITEMS: readonly MenuItemSpec[] = [
  { action: actionCompareSaved, label: 'With the Saved File', testId: 'menu-compare-saved' },
  { action: actionCompareProject, label: 'With a Project File…', testId: 'menu-compare-project' },
  { action: actionCompareCheckpoint, label: 'With a Checkpoint…', testId: 'menu-compare-checkpoint' },
];

function ToolButton({ action, testId, icon, disabled, text }: { action: Action; testId: string; icon: ReactNode; disabled?: boolean; text?: string }) {
  const tip = `${action.label}${action.keys ? `  (${action.keys.join(' / ')})` : ''}`;
  return (
    <button className="tool" data-testid={testId} title={tip} aria-label={action.label} disabled={disabled} onClick={() => run(action, undefined)}>
      {icon}
      {text && <span>{text}</span>}
    </button>
  );
}

/** Shows which way Layout runs (↓ or →); a click switches it and lays the graph out that way. */
function LayoutDirectionButton({ disabled }: { disabled: boolean }) {
  const direction = useLayoutPrefs((s) => s.direction);
  const other = direction === 'down' ? 'left to right' : 'top to bottom';
  return (
    <button
      className="tool"
      data-testid="btn-layout-direction"
      data-direction={direction}
      title={`Layout runs ${direction === 'down' ? 'top to bottom' : 'left to right'}; click to lay out ${other}  (Shift+L)`}
      aria-label={`Layout ${other}`}
      disabled={disabled}
      onClick={() => run(actionFlipLayout, undefined)}
    >
      {direction === 'down' ? <IconDown /> : <IconRight />}
    </button>
  );
}

/** A dashed frame around two boxes: Group. */
function IconGroup() {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden="true">
      <rect x="2.5" y="2.5" width="19" height="19" rx="3" strokeDasharray="3 2.5" />
      <rect x="7" y="7" width="10" height="4" rx="1" />
      <rect x="7" y="13.5" width="10" height="4" rx="1" />
    </svg>
  );
}

export function Toolbar() {
  const name = useStore((s) => s.project.name);
  const path = useStore((s) => s.project.path);
  const dirty = useStore(selectDirty);
  const canUndo = useStore(selectCanUndo);
  const canRedo = useStore(selectCanRedo);
  const theme = useStore((s) => s.theme);
  const empty = useStore((s) => s.nodes.length === 0);
  const connected = useStore((s) => s.connection.status === 'open');
  const anySelected = useStore((s) => s.nodes.some((n) => n.selected));
  return (
    <header className="toolbar" data-testid="toolbar">
      <div className="brand">
        <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true">
          <circle cx="5" cy="6" r="2.6" fill="var(--accent)" />
          <circle cx="5" cy="18" r="2.6" fill="var(--accent)" />
          <circle cx="19" cy="12" r="2.6" fill="var(--accent)" />
          <path d="M7.3 7.2 16.7 11M7.3 16.8l9.4-3.8" stroke="var(--accent)" strokeWidth="1.8" />
        </svg>
        <span>Netloom</span>
      </div>
      <div className="tool-group">
        <ToolButton action={actionNew} testId="btn-new" icon={<IconNew />} text="New" disabled={!connected} />
        <ToolButton action={actionOpen} testId="btn-open" icon={<IconOpen />} text="Open" disabled={!connected} />
        <ToolButton action={actionSave} testId="btn-save" icon={<IconSave />} text="Save" disabled={!connected} />
        <ToolButton action={actionSaveAs} testId="btn-save-as" icon={<IconSaveAs />} disabled={!connected} />
      </div>
      <div className="tool-group">
        <MenuButton label="Import" icon={<IconImport />} testId="btn-import" items={IMPORT_ITEMS} />
        <MenuButton label="Export" icon={<IconExport />} testId="btn-export" items={EXPORT_ITEMS} />
        <MenuButton label="Compare" icon={<IconCompare />} testId="btn-compare" items={COMPARE_ITEMS} />
      </div>
      <div className="tool-group">
        <ToolButton action={actionUndo} testId="btn-undo" icon={<IconUndo />} disabled={!canUndo} />
        <ToolButton action={actionRedo} testId="btn-redo" icon={<IconRedo />} disabled={!canRedo} />
      </div>
      <div className="tool-group">
        <ToolButton action={actionAutoLayout} testId="btn-layout" icon={<IconLayout />} text="Layout" disabled={empty} />
        <LayoutDirectionButton disabled={empty} />
        <ToolButton action={actionFitView} testId="btn-fit" icon={<IconFit />} />
        <ToolButton action={actionGroup} testId="btn-group" icon={<IconGroup />} text="Group" disabled={!anySelected} />
      </div>
      <div className="doc-title" title={path ?? 'not saved yet'} data-testid="project-title">
        <span className="doc-name">{name}</span>
        {dirty && <span className="dirty-dot" data-testid="dirty-indicator" title="unsaved changes" />}
        <span className="doc-path">{path ?? 'unsaved'}</span>
      </div>
      <div className="tool-group right">
        <ToolButton action={actionToggleTheme} testId="btn-theme" icon={theme === 'dark' ? <IconSun /> : <IconMoon />} />
        <ToolButton action={actionHelp} testId="btn-help" icon={<IconHelp />} />
      </div>
    </header>
  );
}
