/* Shared editor helpers for node-red-contrib-streamevmon (served at
 * resources/node-red-contrib-streamevmon/streamevmon-editor.js). Validators here mirror the
 * runtime checks in lib/params.ts, so a bad value is marked in the dialog before deploy. */
(function () {
  'use strict';

  function isBlank(v) { return v === undefined || v === null || String(v).trim() === ''; }

  /** Validator for a number in [min, max]; opts: {int, minExclusive, optional}. Blank = default. */
  function range(name, min, max, opts) {
    opts = opts || {};
    return function (v) {
      if (isBlank(v)) return true;
      var n = Number(v);
      var ok = isFinite(n) && (!opts.int || Math.floor(n) === n) &&
        (opts.minExclusive ? n > min : n >= min) && n <= max;
      if (ok) return true;
      var what = opts.int ? 'an integer' : 'a number';
      return name + ' must be ' + what + (opts.minExclusive ? ' greater than ' + min + ' and at most ' + max
        : ' between ' + min + ' and ' + max);
    };
  }

  /** Validator for a cross-field rule: check(value, node) returns true or a message. */
  function rule(check) {
    return function (v) { return check(v, this); };
  }

  function num(v, dflt) { return isBlank(v) ? dflt : Number(v); }

  var COMMON_ROWS =
    '<hr/>' +
    '<div class="form-row"><label for="node-input-property"><i class="fa fa-ellipsis-h"></i> Value</label>' +
    '<input type="text" id="node-input-property" style="width:70%"></div>' +
    '<div class="form-row"><label for="node-input-timeProperty"><i class="fa fa-clock-o"></i> Time</label>' +
    '<input type="text" id="node-input-timeProperty" style="width:70%"></div>' +
    '<div class="form-row"><label>&nbsp;</label><input type="checkbox" id="node-input-filterLossy" style="width:auto;margin:0 4px 0 0">' +
    '<label for="node-input-filterLossy" style="width:auto">Drop lossy measurements before the detector</label></div>' +
    '<div class="form-row"><label>&nbsp;</label><input type="checkbox" id="node-input-useTimeWindow" style="width:auto;margin:0 4px 0 0">' +
    '<label for="node-input-useTimeWindow" style="width:auto" class="streamevmon-window-label">Reorder through time windows</label></div>' +
    '<div class="streamevmon-window-rows">' +
    '<div class="form-row"><label for="node-input-windowDuration">Window (s)</label><input type="text" id="node-input-windowDuration" style="width:80px"></div>' +
    '<div class="form-row"><label for="node-input-maxLateness">Max lateness (s)</label><input type="text" id="node-input-maxLateness" style="width:80px"></div>' +
    '</div>' +
    '<div class="form-row streamevmon-slide-row"><label for="node-input-windowSlide">Window slide</label><input type="text" id="node-input-windowSlide" style="width:80px"></div>' +
    '<div class="form-row"><label>&nbsp;</label><input type="checkbox" id="node-input-passthrough" style="width:auto;margin:0 4px 0 0">' +
    '<label for="node-input-passthrough" style="width:auto">Second output: pass every input msg through</label></div>' +
    '<div class="form-row"><label>&nbsp;</label><input type="checkbox" id="node-input-persist" style="width:auto;margin:0 4px 0 0">' +
    '<label for="node-input-persist" style="width:auto">Keep state across restarts</label></div>' +
    '<div class="form-row streamevmon-store-row"><label for="node-input-store"><i class="fa fa-database"></i> Store</label>' +
    '<select id="node-input-store" style="width:70%"></select></div>' +
    '<div class="form-row"><label for="node-input-instanceTag"><i class="fa fa-tag"></i> Instance tag</label>' +
    '<input type="text" id="node-input-instanceTag" placeholder="optional" style="width:70%"></div>' +
    '<input type="hidden" id="node-input-outputs">';

  /** Builds the rows every detector shares; call from oneditprepare. opts: {windowSlide}. */
  function prepareDetector(node, opts) {
    opts = opts || {};
    var holder = $('#dialog-form .streamevmon-common');
    holder.html(COMMON_ROWS);
    $('#node-input-property').val(node.property || 'payload')
      .typedInput({ default: 'msg', types: ['msg'] });
    $('#node-input-timeProperty').val(node.timeProperty || 'timestamp')
      .typedInput({ default: 'msg', types: ['msg'] });
    $('#node-input-windowDuration').val(node.windowDuration);
    $('#node-input-maxLateness').val(node.maxLateness);
    $('#node-input-windowSlide').val(node.windowSlide);
    $('#node-input-instanceTag').val(node.instanceTag);
    ['filterLossy', 'useTimeWindow', 'passthrough', 'persist'].forEach(function (p) {
      $('#node-input-' + p).prop('checked', node[p] === true || node[p] === 'true');
    });
    // distdiff's windowed variant uses its own count window (2 × recents, sliding): no time window rows.
    var countWindow = !!opts.windowSlide;
    if (countWindow) $('.streamevmon-window-label').text('Windowed variant: count window of 2 × recents, sliding');

    var stores = (RED.settings.context && RED.settings.context.stores) || ['memory'];
    var select = $('#node-input-store');
    select.append($('<option></option>').val('').text('default store'));
    stores.forEach(function (s) { select.append($('<option></option>').val(s).text(s)); });
    select.val(node.store || '');

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
    range: range,
    rule: rule,
    num: num,
    prepareDetector: prepareDetector,
    saveDetector: saveDetector,
    commonValidators: {
      windowDuration: range('window duration', 1, 2147483647, { int: true }),
      maxLateness: range('max lateness', 0, 2147483647, { int: true }),
      windowSlide: range('window slide', 1, 1200, { int: true })
    }
  };
})();
