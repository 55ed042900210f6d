// Trend charts with uPlot: a zone's sensors over 1 h, 8 h, 24 h or 7 d (server-side downsampled trend), and an
// alert's window around its threshold. Alert levels are dashed horizontal lines; a gap in the data stays a gap.
"use strict";
(function () {
  const MAX_POINTS = 600;
  const SEV_COLOURS = {warning: "#b56b00", critical: "#c0262d", emergency: "#6d0b0f"};
  const charts = new Map();  // figure -> uPlot

  function width(fig) { return Math.max(240, fig.querySelector(".plot").clientWidth || fig.clientWidth || 300); }

  // the alert levels: dashed lines across the whole plot, whatever range the data covers
  function levelLines(levels) {
    return (u) => {
      const ctx = u.ctx, {left, top, width, height} = u.bbox;
      ctx.save();
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      for (const lv of levels) {
        const y = u.valToPos(lv.threshold, "y", true);
        if (y < top || y > top + height) continue;
        ctx.strokeStyle = SEV_COLOURS[lv.severity] || "#555";
        ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
      }
      ctx.restore();
    };
  }

  function draw(fig, xs, ys, levels, unit, range) {
    const old = charts.get(fig);
    if (old) old.destroy();
    const top = Math.max(0, ...levels.map((lv) => lv.threshold));
    const series = [{}, {label: fig.dataset.quantity || "value", stroke: "#1f5fbf", width: 1.5, spanGaps: false,
                         value: (u, v) => v == null ? "-" : v.toFixed(2) + " " + unit}];
    const opts = {width: width(fig), height: 220, series: series, legend: {show: true},
                  scales: {x: range ? {time: true, range: () => range} : {time: true},
                           y: {range: (u, lo, hi) => [Math.min(0, lo ?? 0), Math.max(hi ?? 1, top * 1.1) || 1]}},
                  axes: [{}, {size: 50}], hooks: {draw: [levelLines(levels)]}};
    const plot = new uPlot(opts, [xs, ys], fig.querySelector(".plot"));
    charts.set(fig, plot);
    fig.dataset.drawn = String(xs.length);
  }

  async function trend(fig, since, until) {
    const q = new URLSearchParams({sensor: fig.dataset.sensor, quantity: fig.dataset.quantity,
                                   since: String(since), until: String(until), max_points: String(MAX_POINTS)});
    return window.hazmon.api("/trend?" + q);
  }

  // gaps: a bucket missing between two points becomes a null, so uPlot breaks the line there
  function withGaps(points, bucket) {
    const xs = [], ys = [];
    let prev = null;
    for (const p of points) {
      if (prev !== null && p.minute_ms - prev > bucket * 1.5) { xs.push((prev + bucket) / 1000); ys.push(null); }
      xs.push(p.minute_ms / 1000); ys.push(p.mean); prev = p.minute_ms;
    }
    return [xs, ys];
  }

  async function drawZone(fig, range) {
    const until = Date.now(), since = until - range;
    const note = fig.querySelector(".chart-note");
    try {
      const t = await trend(fig, since, until);
      const [xs, ys] = withGaps(t.points, t.bucket_ms);
      draw(fig, xs, ys, JSON.parse(fig.dataset.levels || "[]"), fig.dataset.unit || "", [since / 1000, until / 1000]);
      note.textContent = t.points.length ? `${t.points.length} points, ${t.bucket_ms / 60000}-min means (${t.source})`
        : "No readings in this range.";
    } catch (e) { note.textContent = "Could not load the trend: " + e.message; }
  }

  function zoneCharts(range) {
    document.querySelectorAll("#zone figure.chart").forEach((fig) => drawZone(fig, range));
  }

  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (e.target.id === "zone") zoneCharts(3_600_000);
  });
  document.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-range]");
    if (!b) return;
    document.querySelectorAll("button[data-range]").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    zoneCharts(Number(b.dataset.range));
  });

  // -- the alert's window: raw readings around a short alert, the trend around a long one
  async function drawAlert(fig) {
    const note = fig.querySelector(".chart-note");
    try {
      const a = await window.hazmon.api("/alerts/" + fig.dataset.alertId);
      if (a.sensor.startsWith("agent:")) { fig.hidden = true; return; }
      const end = a.resolved_ts || Math.max(a.last_ts, Date.now());
      const since = a.opened_ts - 15 * 60_000, until = end + 5 * 60_000;
      fig.dataset.sensor = a.sensor; fig.dataset.quantity = a.quantity;
      const levels = [{severity: a.severity, threshold: a.threshold}];
      let xs, ys;
      if (until - since <= 2 * 3_600_000) {
        const q = new URLSearchParams({sensor: a.sensor, quantity: a.quantity, since: String(since),
                                       until: String(until), limit: "5000"});
        const r = await window.hazmon.api("/readings?" + q);
        xs = r.readings.map((x) => x.ts / 1000); ys = r.readings.map((x) => x.value);
        note.textContent = `${xs.length} readings from ${new Date(since).toLocaleTimeString()}`;
      } else {
        const t = await trend(fig, since, until);
        [xs, ys] = withGaps(t.points, t.bucket_ms);
        note.textContent = `${t.points.length} points, ${t.bucket_ms / 60000}-min means`;
      }
      draw(fig, xs, ys, levels, a.unit, [since / 1000, until / 1000]);
    } catch (e) { note.textContent = "Could not load the chart: " + e.message; }
  }
  document.addEventListener("hazmon:signed-in", () => {
    const fig = document.getElementById("alert-chart");
    if (fig) drawAlert(fig);
  });
  window.addEventListener("resize", () => {
    for (const [fig, plot] of charts) plot.setSize({width: width(fig), height: 220});
  });
})();
