/**
 * Whether settings.js configures a context store. Without one, Node-RED deletes a node's
 * context whenever the node closes (redeploy included), so nothing kept there survives.
 */
export function contextStoresConfigured(settings: unknown): boolean {
  const stores = (settings as { contextStorage?: unknown } | undefined)?.contextStorage;
  return typeof stores === 'object' && stores !== null && Object.keys(stores).length > 0;
}
