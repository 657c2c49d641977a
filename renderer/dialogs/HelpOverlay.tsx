/** The shortcut list (? key), generated from the registered actions plus the canvas gestures. */
import { listActions } from '../actions/registry';
import { useStore } from '../state/store';
import { Modal } from './Modal';

const GESTURES: [string, string][] = [
  ['Drag from the palette', 'Add a layer where you drop it'],
  ['Drag output → input', 'Connect two layers: shapes that do not fit are kept and flagged red with the reason and a fix; only a cycle or an input already in use is refused'],
  ['Drag output → empty canvas', 'Quick-add a layer there, already connected'],
  ['Shift+click', 'Add to / remove from the selection'],
  ['Shift+drag on the canvas', 'Box select'],
  ['Arrow keys', 'Nudge the selected layers'],
  ['Scroll / pinch', 'Zoom; drag the canvas to pan'],
  ['Drag a pane separator', 'Resize the palette, inspector or results dock; drag to the edge to fold it; double-click for its default size'],
  ['Tab to a separator, arrow keys', 'Resize that pane from the keyboard (Home / End: smallest / largest)'],
  ['Click a group’s header', 'Select the group (a PyTorch submodule): its layers, its name and Repeat in the inspector; drag one of its layers to move it, Delete removes it with its layers, Ctrl+Shift+G ungroups it'],
  ['▾ / ▸ on a group', 'Collapse it to one node (shapes in and out, parameters) / expand it'],
];

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const keyText = (k: string) => (isMac ? k.replace(/Ctrl\+/g, '⌘').replace(/Shift\+/g, '⇧') : k);

export function HelpOverlay() {
  const open = useStore((s) => s.helpOpen);
  if (!open) return null;
  const close = () => useStore.getState().setHelp(false);
  const actions = listActions().filter((a) => a.keys?.length);
  const categories = [...new Set(actions.map((a) => a.category))];
  return (
    <Modal title="Keyboard shortcuts" onClose={close} testId="help-overlay" wide>
      <div className="help-grid">
        {categories.map((c) => (
          <section key={c}>
            <h3>{c}</h3>
            <dl>
              {actions
                .filter((a) => a.category === c)
                .map((a) => (
                  <div className="help-row" key={a.name}>
                    <dt>
                      {a.keys!.map((k) => (
                        <kbd key={k}>{keyText(k)}</kbd>
                      ))}
                    </dt>
                    <dd>{a.label}</dd>
                  </div>
                ))}
            </dl>
          </section>
        ))}
        <section>
          <h3>Mouse</h3>
          <dl>
            {GESTURES.map(([k, v]) => (
              <div className="help-row" key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        </section>
      </div>
    </Modal>
  );
}
