/**
 * The flow the editor test starts with: one node of each of our types, copied from the
 * example flows (with the config nodes they refer to), unwired, on one tab, with fresh ids.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface FlowNode { id: string; type: string; z?: string; [k: string]: unknown }

function allExampleFlows(dir: string): FlowNode[][] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return allExampleFlows(p);
    return e.name.endsWith('.json') ? [JSON.parse(fs.readFileSync(p, 'utf8')) as FlowNode[]] : [];
  });
}

/** A node drawn on a flow (config nodes have no position). Examples may omit z. */
function onCanvas(n: FlowNode): boolean {
  return typeof n.x === 'number' && typeof n.y === 'number';
}

/**
 * A flow with one node of each of our types, copied from the examples (with the config nodes
 * they refer to), on one tab in a grid, unwired and with fresh ids.
 */
export function oneOfEachFlow(types: string[], examplesDir: string): FlowNode[] {
  const examples = allExampleFlows(examplesDir);
  const picked: FlowNode[] = [];
  for (const type of types) {
    for (const flow of examples) {
      const node = flow.find((n) => n.type === type);
      if (!node) continue;
      const ids = new Set(Object.values(node).filter((v): v is string => typeof v === 'string'));
      const configs = flow.filter((n) => n !== node && ids.has(n.id) && !onCanvas(n) && n.type !== 'tab');
      for (const n of [node, ...configs]) if (!picked.some((p) => p.id === n.id)) picked.push(structuredClone(n));
      break;
    }
  }
  const rename = new Map(picked.map((n, i) => [n.id, `e2e0000000000${String(i).padStart(3, '0')}`]));
  let slot = 0;
  const nodes = picked.map((n) => {
    const copy: FlowNode = { ...n };
    for (const [k, v] of Object.entries(copy)) if (typeof v === 'string' && rename.has(v)) copy[k] = rename.get(v);
    copy.id = rename.get(n.id) as string;
    if (onCanvas(n)) {
      copy.z = 'e2etab';
      copy.x = 200 + (slot % 2) * 320;
      copy.y = 80 + Math.floor(slot / 2) * 80;
      copy.wires = [];
      if ('startOnDeploy' in copy) copy.startOnDeploy = false; // sources stay quiet
      slot++;
    }
    return copy;
  });
  return [{ id: 'e2etab', type: 'tab', label: 'one of each' }, ...nodes];
}

