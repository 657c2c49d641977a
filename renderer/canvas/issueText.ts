/** How a node shows its problem on its one line. */

/**
 * The message without its "Conv2d at node conv1" prefix (the node already says which it is):
 * "does not lead to the loss loss_fn" fits the node's one line, "ReLU at node relu1 does…" did not.
 */
export function shortMessage(m: string): string {
  return m.replace(/^[A-Za-z0-9]+ at node [^\s:]+:? /, '');
}
