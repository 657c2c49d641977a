/** Module-scope type maps: React Flow re-creates every node if these objects change identity. */
import type { EdgeTypes, NodeTypes } from '@xyflow/react';
import { LayerNode } from './LayerNode';
import { ShapeEdge } from './ShapeEdge';

export const nodeTypes: NodeTypes = { layer: LayerNode };
export const edgeTypes: EdgeTypes = { shape: ShapeEdge };
