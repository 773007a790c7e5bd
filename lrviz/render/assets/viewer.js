// lrviz's chart: draws the JSON in #lrviz-data as SVG, reads out the row under the pointer
// at full precision (as Python's repr writes floats), and zooms on a dragged x range.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("lrviz-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const W = 960, LEFT = 84, RIGHT = 24, TOP = 10, BOTTOM = 46, GAP = 22;
  const LR_H = 330, MOM_H = 150;
  const plotW = W - LEFT - RIGHT;

  // --- values --------------------------------------------------------------------------
  const num = (v) => (typeof v === "number" ? v : v === null ? null
    : v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN);

  // Python's repr of a float: the shortest digits that read back to the same double (the
  // same digits as JavaScript's String), laid out as Python lays them out.
  function pyRepr(v) {
    if (v === null || v === undefined) return "None";
    if (Number.isNaN(v)) return "nan";
    if (v === Infinity) return "inf";
    if (v === -Infinity) return "-inf";
    if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
    const sign = v < 0 ? "-" : "";
    const [mant, expText] = String(Math.abs(v)).split("e");
    const [whole, frac = ""] = mant.split(".");
    let digits = whole + frac;
    let point = whole.length + (expText ? Number(expText) : 0); // digits before the point
    const lead = digits.length - digits.replace(/^0+/, "").length;
    digits = digits.slice(lead).replace(/0+$/, "");
    point -= lead;
    if (point > -4 && point <= 16) {
      if (point <= 0) return sign + "0." + "0".repeat(-point) + digits;
      if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length) + ".0";
      return sign + digits.slice(0, point) + "." + digits.slice(point);
    }
    const exp = point - 1;
    const mantissa = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    const e = Math.abs(exp);
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
  }

  // --- the runs: x of every kept row, exactly as lrviz computes it ----------------------------
  const runs = data.traces.map((t) => {
    const pos = t.kept.map((row) => {
      if (!t.per_batch) return { step: row, epoch: row, iter: 0, x: row };
      const epoch = Math.floor(row / t.iters_per_epoch), iter = row % t.iters_per_epoch;
      return { step: row, epoch, iter, x: epoch + iter / t.iters_per_epoch };
    });
    const xs = pos.map((p) => (data.x === "step" ? p.step : p.x));
    const series = t.series.map((s) => ({
      ...s, lr: s.lr.map(num), momentum: s.momentum === null ? null : s.momentum.map(num),
    }));
    return { ...t, pos, xs, series };
  });
  let right = 0;
  for (const t of runs) right = Math.max(right, t.end);
  if (right <= 0) right = 1;
  else if (runs.some((t) => t.failure !== null)) right *= 1.02; // the failure line off the frame
  const full = [0, right];
  let domain = full.slice();

  const panels = [{ key: "lr", label: "learning rate", top: TOP, height: LR_H, log: data.log }];
  const anyMomentum = runs.some((t) => t.series.some((s) => s.momentum !== null));
  if (data.momentum_panel) {
    panels.push({ key: "momentum", label: data.momentum_label,
      top: TOP + LR_H + GAP, height: MOM_H, log: false, empty: !anyMomentum });
  }
  const H = panels[panels.length - 1].top + panels[panels.length - 1].height + BOTTOM;

  // --- SVG helpers -----------------------------------------------------------------------
  const el = (name, attrs = {}, parent = null) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": document.title });
  document.getElementById("chart").appendChild(svg);
  const defs = el("defs", {}, svg);
  for (const p of panels) {
    const clip = el("clipPath", { id: `clip-${p.key}` }, defs);
    el("rect", { x: LEFT, y: p.top - 1, width: plotW, height: p.height + 2 }, clip);
    p.root = el("g", { class: `panel panel-${p.key}` }, svg);
  }
  const overlay = el("g", { class: "overlay" }, svg);
  const brush = el("rect", { class: "brush", x: 0, y: TOP, width: 0,
    height: H - TOP - BOTTOM, visibility: "hidden" }, overlay);
  const cursor = el("line", { class: "cursor", y1: TOP, y2: H - BOTTOM,
    visibility: "hidden" }, overlay);
  const dots = el("g", { class: "dots" }, overlay);

  const sx = (x) => LEFT + ((x - domain[0]) / (domain[1] - domain[0])) * plotW;
  const invX = (px) => domain[0] + ((px - LEFT) / plotW) * (domain[1] - domain[0]);

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
    }
    return out;
  }
  const tickText = (v) => {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(6)));
    return v.toExponential().replace(/\.?0+e/, "e").replace("e+", "e");
  };

  // y range of the rows in view (finite; positive on a log axis), as matplotlib pads it
  function yRange(p) {
    let lo = Infinity, hi = -Infinity;
    for (const t of runs) {
      const a = lowerBound(t.xs, domain[0]) - 1, b = lowerBound(t.xs, domain[1]) + 1;
      for (const s of t.series) {
        const values = p.key === "lr" ? s.lr : s.momentum;
        if (values === null) continue;
        for (let i = Math.max(0, a); i < Math.min(values.length, b); i++) {
          const v = values[i];
          if (!Number.isFinite(v) || (p.log && v <= 0)) continue;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
    if (lo === Infinity) return p.log ? [0.1, 1] : [0, 1];
    if (p.log) return [lo / 1.25, hi * 1.25];
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    return [lo - pad, hi + pad];
  }

  function lowerBound(xs, x) {
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function draw() {
    svg.setAttribute("data-domain", `${domain[0]} ${domain[1]}`);
    for (const p of panels) drawPanel(p, p === panels[panels.length - 1]);
    const zoomed = domain[0] !== full[0] || domain[1] !== full[1];
    document.getElementById("range").textContent = zoomed
      ? `showing ${data.x} ${tickText(domain[0])} to ${tickText(domain[1])}` : "";
  }

  function drawPanel(p, bottom) {
    while (p.root.firstChild) p.root.removeChild(p.root.firstChild);
    const [lo, hi] = yRange(p);
    const ly = (v) => (p.log ? Math.log10(v) : v);
    const y0 = ly(lo), y1 = ly(hi);
    p.sy = (v) => p.top + p.height - ((ly(v) - y0) / (y1 - y0)) * p.height;
    const grid = el("g", { class: "grid" }, p.root);
    const axis = el("g", { class: "axis" }, p.root);
    let yTicks;
    if (p.log) {
      yTicks = [];
      for (let e = Math.ceil(y0); e <= Math.floor(y1); e++) yTicks.push(Math.pow(10, e));
      if (yTicks.length < 2) yTicks = niceTicks(lo, hi, 4).filter((v) => v > 0);
    } else {
      yTicks = niceTicks(lo, hi, p.height > 200 ? 6 : 3);
    }
    for (const v of yTicks) {
      const y = p.sy(v);
      if (y < p.top - 0.5 || y > p.top + p.height + 0.5) continue;
      el("line", { x1: LEFT, x2: LEFT + plotW, y1: y, y2: y }, grid);
      el("line", { x1: LEFT - 4, x2: LEFT, y1: y, y2: y }, axis);
      el("text", { x: LEFT - 7, y: y + 4, "text-anchor": "end" }, axis).textContent = tickText(v);
    }
    el("line", { x1: LEFT, x2: LEFT, y1: p.top, y2: p.top + p.height }, axis);
    el("line", { x1: LEFT, x2: LEFT + plotW, y1: p.top + p.height, y2: p.top + p.height }, axis);
    for (const v of niceTicks(domain[0], domain[1], 8)) {
      const x = sx(v);
      el("line", { x1: x, x2: x, y1: p.top + p.height, y2: p.top + p.height + 4 }, axis);
      if (bottom) {
        el("text", { x, y: p.top + p.height + 17, "text-anchor": "middle" }, axis)
          .textContent = tickText(v);
      }
    }
    const ylabel = el("text", { class: "label", "text-anchor": "middle",
      transform: `translate(16 ${p.top + p.height / 2}) rotate(-90)` }, p.root);
    ylabel.textContent = p.label;
    if (bottom) {
      el("text", { class: "label", x: LEFT + plotW / 2, y: H - 8, "text-anchor": "middle" },
        p.root).textContent = data.x === "epoch" ? "epoch" : "step (optimizer steps)";
    }
    const body = el("g", { "clip-path": `url(#clip-${p.key})` }, p.root);
    for (const t of runs) {
      for (const m of t.markers) {
        for (const x of m.x) {
          if (x < domain[0] || x > domain[1]) continue;
          el("line", { x1: sx(x), x2: sx(x), y1: p.top, y2: p.top + p.height,
            stroke: m.color, "stroke-width": m.width, "stroke-opacity": m.opacity,
            "stroke-dasharray": m.dash || "none", class: `marker marker-${m.kind}` }, body);
        }
      }
    }
    for (const t of runs) {
      for (const s of t.series) {
        const values = p.key === "lr" ? s.lr : s.momentum;
        if (values === null) continue;
        el("path", { d: stepPath(t.xs, values, t.end, p), fill: "none", stroke: s.color,
          "stroke-width": 1.6, "stroke-dasharray": s.dash || "none",
          "stroke-linejoin": "round", class: "curve", "data-label": s.label }, body);
      }
    }
    if (p.key === "lr") {
      for (const t of runs) {
        for (const x of t.non_finite) {
          if (x < domain[0] || x > domain[1]) continue;
          el("text", { class: "cross", x: sx(x), y: p.top + 9, "text-anchor": "middle" },
            p.root).textContent = "×";
        }
      }
    }
    if (p.empty) {
      el("text", { class: "label", x: LEFT + plotW / 2, y: p.top + p.height / 2,
        "text-anchor": "middle" }, p.root).textContent = "no momentum";
    }
  }

  // A row's value holds for its whole optimizer step: steps, never slopes (as the PNG).
  function stepPath(xs, values, end, p) {
    const a = Math.max(0, lowerBound(xs, domain[0]) - 1);
    const b = Math.min(xs.length, lowerBound(xs, domain[1]) + 2);
    const ok = (v) => Number.isFinite(v) && !(p.log && v <= 0);
    const parts = [];
    let pen = false;
    for (let i = a; i < b; i++) {
      const v = values[i];
      const x = sx(xs[i]).toFixed(2);
      if (!ok(v)) { pen = false; continue; }
      const y = p.sy(v).toFixed(2);
      parts.push(pen ? `V${y}` : `M${x} ${y}`);
      parts.push(`H${sx(i + 1 < xs.length ? xs[i + 1] : end).toFixed(2)}`);
      pen = true;
    }
    return parts.join("") || "M0 0";
  }

  // --- read-out --------------------------------------------------------------------------
  const readout = document.getElementById("readout");
  function nearest(t, x) {
    if (t.xs.length === 0) return -1;
    const i = lowerBound(t.xs, x);
    if (i === 0) return 0;
    if (i >= t.xs.length) return t.xs.length - 1;
    return x - t.xs[i - 1] <= t.xs[i] - x ? i - 1 : i;
  }
  function show(px) {
    const x = invX(px);
    const lines = [];
    while (dots.firstChild) dots.removeChild(dots.firstChild);
    let snapped = null;
    for (const t of runs) {
      const i = nearest(t, x);
      if (i < 0) continue;
      const pos = t.pos[i];
      if (snapped === null) snapped = t.xs[i];
      const who = runs.length > 1 ? `${t.name}: ` : "";
      lines.push(`${who}step ${pos.step} · epoch ${pos.epoch} · iter ${pos.iter} · x ${pyRepr(pos.x)}`);
      for (const s of t.series) {
        let text = `  ${s.group}: lr ${pyRepr(s.lr[i])}`;
        if (s.momentum !== null) {
          text += ` · ${s.momentum_kind === "betas" ? "β1" : "momentum"} ${pyRepr(s.momentum[i])}`;
        }
        lines.push(text);
        for (const p of panels) {
          const v = p.key === "lr" ? s.lr[i] : s.momentum === null ? NaN : s.momentum[i];
          if (!Number.isFinite(v) || (p.log && v <= 0)) continue;
          el("circle", { cx: sx(t.xs[i]), cy: p.sy(v), r: 3, fill: s.color }, dots);
        }
      }
    }
    readout.textContent = lines.join("\n");
    if (snapped !== null) {
      cursor.setAttribute("x1", sx(snapped));
      cursor.setAttribute("x2", sx(snapped));
      cursor.setAttribute("visibility", "visible");
    }
  }

  // --- pointer: hover reads out, a drag zooms, a double-click zooms out --------------------
  const toSvgX = (event) => {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse()).x;
  };
  const clamp = (px) => Math.min(LEFT + plotW, Math.max(LEFT, px));
  let dragFrom = null;
  svg.addEventListener("mousedown", (event) => {
    if (event.button !== 0) return;
    dragFrom = clamp(toSvgX(event));
    event.preventDefault();
  });
  svg.addEventListener("mousemove", (event) => {
    const px = clamp(toSvgX(event));
    if (dragFrom !== null) {
      brush.setAttribute("x", Math.min(dragFrom, px));
      brush.setAttribute("width", Math.abs(px - dragFrom));
      brush.setAttribute("visibility", "visible");
    }
    show(px);
  });
  window.addEventListener("mouseup", (event) => {
    if (dragFrom === null) return;
    const px = clamp(toSvgX(event));
    const from = dragFrom;
    dragFrom = null;
    brush.setAttribute("visibility", "hidden");
    if (Math.abs(px - from) < 4) return; // a click, not a drag
    const a = invX(Math.min(from, px)), b = invX(Math.max(from, px));
    zoom(a, b);
  });
  svg.addEventListener("mouseleave", () => {
    cursor.setAttribute("visibility", "hidden");
    while (dots.firstChild) dots.removeChild(dots.firstChild);
  });
  svg.addEventListener("dblclick", () => zoom(full[0], full[1]));
  document.getElementById("reset").addEventListener("click", () => zoom(full[0], full[1]));

  function zoom(a, b) {
    domain = b > a ? [a, b] : full.slice();
    cursor.setAttribute("visibility", "hidden");
    while (dots.firstChild) dots.removeChild(dots.firstChild);
    draw();
  }

  // For scripts and tests: where a given x is on screen, the x range shown, and the repr.
  window.lrviz = {
    clientPoint(x, panel = 0) {
      const p = panels[panel];
      const m = svg.getScreenCTM();
      const point = svg.createSVGPoint();
      point.x = sx(x);
      point.y = p.top + p.height / 2;
      const c = point.matrixTransform(m);
      return { x: c.x, y: c.y };
    },
    domain: () => domain.slice(),
    zoom,
    pyRepr,
  };
  draw();
})();
