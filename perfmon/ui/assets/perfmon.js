/* perfmon dashboard, browser side. No requests of its own: it spreads what a tick returned
   over the page (render), times the next tick as the server says (schedule), ages the
   "updated N s ago" line (age) and passes on a chart's zoom (zoom). */
(function () {
  "use strict";
  const NS = "dash_html_components";
  // age: [age in seconds when received, Date.now() then]; last: the number of the last view
  // rendered; lost: a view went missing (Dash keeps only the newest value of a store, so two
  // views that land while the page is busy reach render() as one) until a full view comes.
  const state = {age: null, view: null, last: null, lost: false};
  // Per chart, what its figure said and where its traces end, for the points appended to it:
  // the IEC unit its rates are divided by (layout.meta.scale), which traces mark a point that
  // stands alone (trace.meta.alone: the marker's size), and each trace's last value.
  const charts = {};
  // The poll's own timer: the server says with each view when to tick next (just after the API's
  // next sample is due); the next tick is asked for only when a view came, so ticks never
  // overlap. If none comes (a failed callback), the age clock ticks again after a while.
  const TICK = "tick";
  const WATCHDOG_MS = 4000;  // beyond the poll interval: longer than any tick's budget (3 s)
  const timer = {next: null, ticks: 0, active: Date.now()};

  function fire() {
    clearTimeout(timer.next);
    timer.next = null;
    timer.ticks += 1;
    timer.active = Date.now();
    window.dash_clientside.set_props(TICK, {n_intervals: timer.ticks});
  }

  function schedule(view, settings) {
    const poll = 1000 * ((settings && settings.poll_seconds) || 5);
    const delay = typeof view.next === "number" ? view.next : poll;
    clearTimeout(timer.next);
    timer.active = Date.now();
    timer.next = setTimeout(fire, Math.max(0, Math.min(delay, poll + WATCHDOG_MS)));
  }

  function watchdog(settings) {
    const poll = 1000 * ((settings && settings.poll_seconds) || 5);
    if (timer.next === null && Date.now() - timer.active > poll + WATCHDOG_MS) fire();
  }

  function el(type, props) {
    return {type: type, namespace: NS, props: props};
  }

  // A table cell: plain text, or a usage bar {bar: percent, level, text}.
  function cell(value, columns) {
    if (value !== null && typeof value === "object") {
      const width = Math.max(0, Math.min(100, value.bar || 0));
      return el("Td", {className: "bar-cell", children: [
        el("Div", {className: "bar " + value.level, children:
          el("Div", {className: "bar-fill", style: {width: width + "%"}})}),
        el("Span", {className: "bar-text", children: value.text}),
      ]});
    }
    const props = {children: value === null ? "n/a" : String(value)};
    if (columns) props.colSpan = columns;
    return el("Td", props);
  }

  function rows(list) {
    return list.map(function (row) {
      const span = row.length === 1 ? 6 : 0;  // a one-cell row is a message across the table
      return el("Tr", {children: row.map(function (value) { return cell(value, span); })});
    });
  }

  function scaled(values, scale) {
    if (scale === 1) return values;
    return values.map(function (v) { return v === null ? null : v / scale; });
  }

  // Marker sizes: a point with data and none on either side (a line needs two) gets one;
  // before the first point is the chart's last, after the last nothing yet.
  function alone(values, size, before) {
    return values.map(function (v, i) {
      const prev = i === 0 ? before : values[i - 1];
      const next = i === values.length - 1 ? null : values[i + 1];
      return v !== null && prev === null && next === null ? size : 0;
    });
  }

  // The alerts' band travels as runs of firing points, [[first, last], ...]: 1 there, null elsewhere.
  function band(runs, n) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(null);
    runs.forEach(function (run) { for (let i = run[0]; i <= run[1] && i < n; i++) out[i] = 1; });
    return out;
  }

  function lastOf(values) {
    return values.length ? values[values.length - 1] : null;
  }

  // A whole figure: the tick's x in every trace, rates in the figure's unit, lone points marked.
  function figure(id, value, x) {
    const meta = (value.layout && value.layout.meta) || {};
    const chart = {scale: meta.scale || 1, sizes: [], last: []};
    charts[id] = chart;
    return Object.assign({}, value, {data: value.data.map(function (trace, i) {
      const out = Object.assign("x" in trace ? {} : {x: x.slice()}, trace);
      if (trace.type !== "scatter") return out;  // the heatmap's y are its CPUs
      if (trace.meta && trace.meta.span) {  // the heatmap's time axis: nulls over its times
        chart.holder = i;
        return Object.assign(out, {y: x.map(function () { return null; }), z: []});
      }
      if (trace.meta && trace.meta.firing) {  // the alerts' band, 0 to 1 on its own axis: not a rate
        chart.firing = i;
        out.y = band(trace.y, out.x.length);
        out.marker = {size: out.y.map(function () { return 0; })};  // extended with the others' sizes
        return out;
      }
      out.y = scaled(trace.y, chart.scale);
      chart.sizes[i] = (trace.meta && trace.meta.alone) || 0;
      chart.last[i] = lastOf(out.y);
      out.marker = Object.assign({}, trace.marker, {size: alone(out.y, chart.sizes[i], null)});
      return out;
    })});
  }

  // Points appended to a chart: the same unit and markers as its figure (extendTraces extends
  // marker.size alongside y, and trims both to the same length).
  function appended(id, value, x) {
    const data = Object.assign({}, value[0]);
    const chart = charts[id];
    // without its own times, a chart takes the view's last ones: as many as it appends (all, for
    // the fixed charts; a row chart may append only the newest point)
    if (!("x" in data)) {
      const first = Array.isArray(data.y) ? data.y[0] : Array.isArray(data.z) ? data.z[0] : null;
      const n = Array.isArray(first) ? first.length : x.length;
      const times = x.slice(Math.max(0, x.length - n));
      data.x = value[1].map(function () { return times; });
    }
    // one list of times for every trace (a row chart's own: perfmon/ui/screen/row_charts.py)
    else if (data.x.length === 1 && value[1].length > 1) data.x = value[1].map(function () { return data.x[0]; });
    if (chart && chart.holder !== undefined && Array.isArray(data.z)) {
      // the holder of the heatmap's time axis moves with it: extendTraces takes every key for
      // every trace, so each gets an empty list of what the other has
      const times = data.x[0];
      return [{x: [times, times], z: [data.z[0], []], y: [[], times.map(function () { return null; })]},
              [value[1][0], chart.holder], value[2]];
    }
    if (chart && chart.firing !== undefined && Array.isArray(data.y)) {
      const points = data.y.length && Array.isArray(data.y[0]) ? data.y[0].length : 0;
      data.y = data.y.map(function (values, n) {
        return value[1][n] === chart.firing ? band(values, points) : values;
      });
    }
    if (chart && Array.isArray(data.y)) {
      data.y = data.y.map(function (values, n) {
        return value[1][n] === chart.firing ? values : scaled(values, chart.scale);
      });
      data["marker.size"] = data.y.map(function (values, n) {
        const i = value[1][n];
        const sizes = alone(values, chart.sizes[i] || 0, chart.last[i] === undefined ? null : chart.last[i]);
        if (values.length) chart.last[i] = lastOf(values);
        return sizes;
      });
    }
    return [data, value[1], value[2]];
  }

  // One update: figures and extendData get the tick's shared x values; {rows} becomes table rows.
  function expand(key, value, x) {
    const id = key.slice(0, key.lastIndexOf("."));
    if (key.endsWith(".extendData")) return appended(id, value, x);
    if (key.endsWith(".figure")) return figure(id, value, x);
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "rows" in value) {
      return rows(value.rows);
    }
    return value;
  }

  // Values on the cards that come and go with rows (perfmon/ui/screen/row_cards.py), [row, level,
  // [text, ...]]: set by their ids, as no fixed output can name them.
  // Each set_props is a render of its own: only what changed is set, after the view's own
  // outputs are on screen (the fixed cards and charts first), so a sample shows as soon as before.
  const shownValues = {};
  function setOnce(id, props) {
    const key = JSON.stringify(id), text = JSON.stringify(props);
    if (shownValues[key] === text) return;
    shownValues[key] = text;
    window.dash_clientside.set_props(id, props);
  }
  function rowValues(row) {
    if (row[1] !== null) setOnce({type: "row-card", row: row[0]}, {className: "card row-card " + row[1]});
    row[2].forEach(function (text, i) { setOnce({type: "row-value", row: row[0], i: i}, {children: text}); });
  }

  // Note the data's age once per view, whichever callback sees the view first.
  function remember(view) {
    if (!view || view === state.view) return;
    state.view = view;
    if (view.age !== undefined) state.age = [view.age, Date.now()];
  }

  function ago(seconds) {
    if (seconds < 60) return Math.floor(seconds) + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    perfmon: {
      // Every update of a view, in the order of keys; then what became of the view, for the
      // next tick: {n}, or {lost: true} to have the screen sent whole again.
      render: function (view, keys, settings) {
        const skip = window.dash_clientside.no_update;
        const out = keys.map(function () { return skip; });
        if (!view) return out.concat([skip]);
        if (view !== state.view) schedule(view, settings);
        remember(view);
        const gap = !view.full && (state.last === null || view.n !== state.last + 1);
        state.lost = view.full ? false : state.lost || gap;
        state.last = view.n;
        if (state.lost) return out.concat([{lost: true}]);  // deltas on a screen that missed some
        const later = [];  // the rows' points and values: after the fixed cards and charts are drawn
        Object.keys(view.o || {}).forEach(function (index) {
          const key = keys[Number(index)];
          const value = expand(key, view.o[index], view.x || []);
          if (key.startsWith("graph-rows-") && key.endsWith(".extendData")) {
            later.push([key.slice(0, key.lastIndexOf(".")), value]);
          } else {
            out[Number(index)] = value;
          }
        });
        const rowsOf = view.r || [];
        if (rowsOf.length || later.length) setTimeout(function () {
          later.forEach(function (pair) { window.dash_clientside.set_props(pair[0], {extendData: pair[1]}); });
          rowsOf.forEach(rowValues);
        }, 0);
        return out.concat([{n: view.n}]);
      },
      // A chart's relayoutData, passed on only for a zoom, a pan or a double-click (not a resize),
      // stamped so the same double-click twice is two events.
      zoom: function () {
        const triggered = window.dash_clientside.callback_context.triggered || [];
        for (let i = 0; i < triggered.length; i++) {
          const r = triggered[i].value;
          if (r && (r["xaxis.autorange"] === true || "xaxis.range[0]" in r || "xaxis.range" in r)) {
            return Object.assign({at: Date.now()}, r);
          }
        }
        return window.dash_clientside.no_update;
      },
      age: function (_ticks, view, settings) {
        watchdog(settings);
        if (view && view !== state.view) schedule(view, settings);
        remember(view);
        if (!state.age) return ["waiting for the first sample", "age"];
        const age = state.age[0] + (Date.now() - state.age[1]) / 1000;
        const stale = age > 2 * settings.poll_seconds + 2;
        return ["updated " + ago(age) + " ago", stale ? "age stale" : "age"];
      },
    },
  });
})();
