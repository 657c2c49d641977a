/** Module-scope type maps: React Flow re-creates every node if these objects change identity. */
import type { EdgeTypes, NodeTypes } from '@xyflow/react';
import { GroupFrame } from './GroupFrame';
import { GroupNode } from './GroupNode';
import { LayerNode } from './LayerNode';
import { ShapeEdge } from './ShapeEdge';

export const nodeTypes: NodeTypes = { layer: LayerNode, groupFrame: GroupFrame, groupCollapsed: GroupNode };
export const edgeTypes: EdgeTypes = { shape: ShapeEdge };
