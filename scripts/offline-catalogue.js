'use strict';
/*
 * Preloaded into node-red-dev (NODE_OPTIONS=--require) by scripts/validate.js: answers its
 * lookups of the flow-library catalogue (catalogue.nodered.org, unreachable from our machines)
 * with an empty catalogue, so every other check can run. Registry requests still go out.
 * P08 and N01 then pass without comparing anything: validate.js checks type names itself.
 */
const Module = require('module');

const CATALOGUE = 'https://catalogue.nodered.org/';
const originalLoad = Module._load;
const stubbed = new WeakSet();

Module._load = function load(request, ...rest) {
  const exported = originalLoad.call(this, request, ...rest);
  if (request === 'axios' && exported && typeof exported.get === 'function' && !stubbed.has(exported)) {
    const networkGet = exported.get.bind(exported);
    exported.get = (url, ...args) => {
      if (typeof url === 'string' && url.startsWith(CATALOGUE)) {
        process.stderr.write(`offline-catalogue: answered ${url} with an empty catalogue\n`);
        return Promise.resolve({ data: { modules: [] } });
      }
      return networkGet(url, ...args);
    };
    stubbed.add(exported);
  }
  return exported;
};
