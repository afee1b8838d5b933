/* perfmon dashboard, browser side. No requests of its own: it only spreads what a tick
   returned over the page (render) and ages the "updated N s ago" line (age). */
(function () {
  "use strict";
  const NS = "dash_html_components";
  const state = {age: null};  // [age in seconds when received, Date.now() then]

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

  // One update: extendData gets the tick's shared x values; {rows} becomes table rows.
  function expand(key, value, x) {
    if (key.endsWith(".extendData")) {
      const data = Object.assign({}, value[0]);
      if (!("x" in data)) data.x = value[1].map(function () { return x; });
      return [data, value[1], value[2]];
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "rows" in value) {
      return rows(value.rows);
    }
    return value;
  }

  function ago(seconds) {
    if (seconds < 60) return Math.floor(seconds) + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    perfmon: {
      render: function (view, keys) {
        const skip = window.dash_clientside.no_update;
        const out = keys.map(function () { return skip; });
        if (!view) return out;
        Object.keys(view.o || {}).forEach(function (index) {
          out[Number(index)] = expand(keys[Number(index)], view.o[index], view.x || []);
        });
        if (view.age !== undefined) state.age = [view.age, Date.now()];
        return out;
      },
      age: function (_ticks, settings) {
        if (!state.age) return ["waiting for the first sample", "age"];
        const age = state.age[0] + (Date.now() - state.age[1]) / 1000;
        const stale = age > 2 * settings.poll_seconds + 2;
        return ["updated " + ago(age) + " ago", stale ? "age stale" : "age"];
      },
    },
  });
})();
