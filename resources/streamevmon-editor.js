/* Shared editor helpers for node-red-contrib-streamevmon (served at
 * resources/node-red-contrib-streamevmon/streamevmon-editor.js). Validators here mirror the
 * runtime checks in lib/params.ts, so a bad value is marked in the dialog before deploy. */
(function () {
  'use strict';

  function isBlank(v) { return v === undefined || v === null || String(v).trim() === ''; }

  /**
   * Translate key (in the node set's catalogue, nodes/locales/en-US/<type>.json) for node:
   * node._ adds the node set's namespace; without a node, the type names the namespace.
   * Returns fallback (or the key) when the catalogue has no such message.
   */
  function t(node, key, params, fallback) {
    var r;
    if (node && typeof node._ === 'function') r = node._(key, params);
    else if (node && node.type && window.RED) r = RED._('node-red-contrib-streamevmon/' + node.type + ':' + key, params);
    if (typeof r !== 'string' || r === key || r.slice(-key.length - 1) === ':' + key) return fallback === undefined ? key : fallback;
    return r;
  }

  /**
   * Validator for a number in [min, max]; opts: {int, minExclusive}. Blank = default. Call it
   * with the node as this (validate: function (v, opt) { return range(...).call(this, v); }):
   * the parameter's name is streamevmon.param.<param> in the node's catalogue and the message
   * streamevmon.validation.{integer,number}{Between,Above}.
   */
  function range(param, min, max, opts) {
    opts = opts || {};
    return function (v) {
      if (isBlank(v)) return true;
      var n = Number(v);
      var ok = isFinite(n) && (!opts.int || Math.floor(n) === n) &&
        (opts.minExclusive ? n > min : n >= min) && n <= max;
      if (ok) return true;
      var name = t(this, 'streamevmon.param.' + param, null, param);
      var kind = (opts.int ? 'integer' : 'number') + (opts.minExclusive ? 'Above' : 'Between');
      return t(this, 'streamevmon.validation.' + kind, { name: name, min: min, max: max },
        name + ' must be ' + (opts.int ? 'an integer' : 'a number') +
        (opts.minExclusive ? ' greater than ' + min + ' and at most ' + max : ' between ' + min + ' and ' + max));
    };
  }

  function num(v, dflt) { return isBlank(v) ? dflt : Number(v); }

  /** The HTML of the rows every detector shares, labelled from the node's catalogue (streamevmon.common.*). */
  function commonRows(node) {
    function l(k) { return RED.utils.sanitize(t(node, 'streamevmon.common.label.' + k)); }
    function check(id, cls) {
      return '<div class="form-row"><label>&nbsp;</label><input type="checkbox" id="node-input-' + id + '" style="width:auto;margin:0 4px 0 0">' +
        '<label for="node-input-' + id + '" style="width:auto"' + (cls ? ' class="' + cls + '"' : '') + '>' + l(id) + '</label></div>';
    }
    return '<hr/>' +
      '<div class="form-row"><label for="node-input-property"><i class="fa fa-ellipsis-h"></i> ' + l('property') + '</label>' +
      '<input type="text" id="node-input-property" style="width:70%"></div>' +
      '<div class="form-row"><label for="node-input-timeProperty"><i class="fa fa-clock-o"></i> ' + l('timeProperty') + '</label>' +
      '<input type="text" id="node-input-timeProperty" style="width:70%"></div>' +
      '<div class="form-row"><label for="node-input-valueScale">' + l('valueScale') + '</label>' +
      '<input type="text" id="node-input-valueScale" style="width:80px"> ' +
      RED.utils.sanitize(t(node, 'streamevmon.common.hint.valueScale')) + '</div>' +
      check('filterLossy') +
      check('useTimeWindow', 'streamevmon-window-label') +
      '<div class="streamevmon-window-rows">' +
      '<div class="form-row"><label for="node-input-windowDuration">' + l('windowDuration') + '</label><input type="text" id="node-input-windowDuration" style="width:80px"></div>' +
      '<div class="form-row"><label for="node-input-maxLateness">' + l('maxLateness') + '</label><input type="text" id="node-input-maxLateness" style="width:80px"></div>' +
      '</div>' +
      '<div class="form-row streamevmon-slide-row"><label for="node-input-windowSlide">' + l('windowSlide') + '</label><input type="text" id="node-input-windowSlide" style="width:80px"></div>' +
      check('passthrough') +
      check('persist') +
      '<div class="form-row streamevmon-store-row"><label for="node-input-store"><i class="fa fa-database"></i> ' + l('store') + '</label>' +
      '<select id="node-input-store" style="width:70%"></select></div>' +
      '<div class="form-row"><label for="node-input-instanceTag"><i class="fa fa-tag"></i> ' + l('instanceTag') + '</label>' +
      '<input type="text" id="node-input-instanceTag" style="width:70%"></div>' +
      '<input type="hidden" id="node-input-outputs">';
  }

  /** Fills the context-store select: the default store (streamevmon.label.defaultStore), then every configured store. */
  function fillStores(node, select, labelKey) {
    var stores = (RED.settings.context && RED.settings.context.stores) || ['memory'];
    select.append($('<option></option>').val('').text(t(node, labelKey)));
    stores.forEach(function (s) { select.append($('<option></option>').val(s).text(s)); });
    select.val(node.store || '');
  }

  /** Builds the rows every detector shares; call from oneditprepare. opts: {windowSlide}. */
  function prepareDetector(node, opts) {
    opts = opts || {};
    var holder = $('#dialog-form .streamevmon-common');
    holder.html(commonRows(node));
    $('#node-input-instanceTag').attr('placeholder', t(node, 'streamevmon.common.placeholder.instanceTag'));
    $('#node-input-property').val(node.property || 'payload')
      .typedInput({ default: 'msg', types: ['msg'] });
    $('#node-input-timeProperty').val(node.timeProperty || 'timestamp')
      .typedInput({ default: 'msg', types: ['msg'] });
    $('#node-input-windowDuration').val(node.windowDuration);
    $('#node-input-maxLateness').val(node.maxLateness);
    $('#node-input-windowSlide').val(node.windowSlide);
    $('#node-input-valueScale').val(node.valueScale === undefined ? 1 : node.valueScale);
    $('#node-input-instanceTag').val(node.instanceTag);
    ['filterLossy', 'useTimeWindow', 'passthrough', 'persist'].forEach(function (p) {
      $('#node-input-' + p).prop('checked', node[p] === true || node[p] === 'true');
    });
    // distdiff's windowed variant uses its own count window (2 × recents, sliding): no time window rows.
    var countWindow = !!opts.windowSlide;
    if (countWindow) $('.streamevmon-window-label').text(t(node, 'streamevmon.common.label.countWindow'));
    fillStores(node, $('#node-input-store'), 'streamevmon.common.label.defaultStore');

    function toggle() {
      var windowed = $('#node-input-useTimeWindow').prop('checked');
      $('.streamevmon-window-rows').toggle(windowed && !countWindow);
      $('.streamevmon-slide-row').toggle(windowed && countWindow);
      $('.streamevmon-store-row').toggle($('#node-input-persist').prop('checked'));
    }
    $('#node-input-useTimeWindow, #node-input-persist').on('change', toggle);
    toggle();
  }

  /** Call from oneditsave: the passthrough option decides the number of outputs. */
  function saveDetector(node) {
    $('#node-input-outputs').val($('#node-input-passthrough').prop('checked') ? 2 : 1);
  }

  window.StreamevmonEditor = {
    t: t,
    range: range,
    fillStores: fillStores,
    num: num,
    prepareDetector: prepareDetector,
    saveDetector: saveDetector,
    /** Call with the node as this: commonValidators.windowDuration.call(this, v). */
    commonValidators: {
      windowDuration: range('windowDuration', 1, 2147483647, { int: true }),
      maxLateness: range('maxLateness', 0, 2147483647, { int: true }),
      windowSlide: range('windowSlide', 1, 1200, { int: true }),
      valueScale: range('valueScale', 0, 1e9, { minExclusive: true })
    }
  };
})();
