/**
 * Runtime messages (status texts, warnings, errors) from a node set's message catalogue,
 * nodes/locales/en-US/<node set>.json, which Node-RED registers under the node set's
 * namespace: RED._('streamevmon.status.connected') in the node set's module reads it.
 *
 * When RED._ has no message for the key (node-red-node-test-helper's RED._ returns the key
 * itself, and a catalogue that failed to load gives the key back too), the text comes from
 * the en-US catalogue beside this file, with the same __name__ interpolation, so a node
 * never shows a bare key.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NodeAPI } from 'node-red';

export type Params = Record<string, string | number | boolean | undefined>;
export type Translate = (key: string, params?: Params) => string;

/** dist/nodes/common → dist/nodes/locales/en-US. */
const EN_US = path.join(__dirname, '..', 'locales', 'en-US');
const catalogues = new Map<string, unknown>();

function catalogue(nodeSet: string): unknown {
  let cat = catalogues.get(nodeSet);
  if (cat === undefined) {
    try {
      cat = JSON.parse(fs.readFileSync(path.join(EN_US, `${nodeSet}.json`), 'utf8')) as unknown;
    } catch {
      cat = {};
    }
    catalogues.set(nodeSet, cat);
  }
  return cat;
}

/** The message at a dotted key of an en-US catalogue, or undefined. */
export function lookup(nodeSet: string, key: string): string | undefined {
  let at: unknown = catalogue(nodeSet);
  for (const part of key.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return typeof at === 'string' ? at : undefined;
}

const pluralRules = new Intl.PluralRules('en-US');

/** The plural form i18next (v21+) would pick for a count: `key_one` for 1, `key_other`, …, if the catalogue has it. */
function lookupPlural(nodeSet: string, key: string, count: unknown): string | undefined {
  if (typeof count !== 'number') return undefined;
  return lookup(nodeSet, `${key}_${pluralRules.select(count)}`);
}

/** Node-RED's interpolation: __name__ is replaced by params.name. */
export function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/__([\w.]+)__/g, (whole, name: string) => (params[name] === undefined ? whole : String(params[name])));
}

/** A translate function for the node set nodeSet (its file name without .json). */
export function translator(RED: NodeAPI, nodeSet: string): Translate {
  return (key, params) => {
    let text: unknown;
    try {
      text = (RED._ as (k: string, p?: Params) => unknown)(key, params);
    } catch {
      text = undefined;
    }
    if (typeof text === 'string' && text !== key && !text.endsWith(`:${key}`)) return text;
    const local = lookupPlural(nodeSet, key, params?.count) ?? lookup(nodeSet, key);
    return local === undefined ? key : interpolate(local, params);
  };
}
