// initlab explorer page: controls → the server's API → charts and tables.
// The page computes nothing: every number comes from initlab through /api/*; this file only
// builds controls, sends their values and draws (and formats) what comes back.
"use strict";

const $ = (id) => document.getElementById(id);
const fmt = (v, p = 3) => (v === null || v === undefined || Number.isNaN(v)) ? "—"
  : (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)) ? Number(v).toExponential(2)
  : Number(v).toPrecision(p);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const PLOT = {responsive: true, displaylogo: false};
const LAYOUT = {margin: {l: 60, r: 20, t: 30, b: 45}, font: {size: 12},
  legend: {orientation: "h", y: -0.18}, paper_bgcolor: "#fff", plot_bgcolor: "#fff"};
let META = null;
const views = {};          // name → {controls: {name: element}, params(), update()}
const inflight = {};       // name → AbortController (latest move wins)

function showError(msg) {
  const box = $("error");
  box.textContent = msg;
  box.hidden = false;
  clearTimeout(showError.t);
  showError.t = setTimeout(() => { box.hidden = true; }, 6000);
}

async function api(view, url, opts = {}) {
  if (inflight[view]) inflight[view].abort();
  const ctl = new AbortController();
  inflight[view] = ctl;
  const t0 = performance.now();
  const r = await fetch(url, {...opts, signal: ctl.signal});
  const body = await r.json();
  if (!r.ok) throw new Error(body.detail || r.statusText);
  const server = r.headers.get("Server-Timing");
  const ms = server ? parseFloat(server.split("dur=")[1]) : NaN;
  body.__timing = {server: ms, total: performance.now() - t0};
  return body;
}

function stamp(view, body) {
  const s = $(view + "-status");
  const t = body.__timing || {};
  s.textContent = `computed by initlab in ${fmt(t.server, 3)} ms (round trip ${fmt(t.total, 3)} ms)`;
  const el = $("view-" + view);
  el.dataset.rev = String(Number(el.dataset.rev || 0) + 1);
}

// ------------------------------------------------------------------------ controls ---
function control(view, spec, onChange) {
  const box = $("controls-" + view);
  const label = document.createElement("label");
  label.textContent = spec.label || spec.name;
  label.htmlFor = `${view}-${spec.name}`;
  let el;
  if (spec.type === "select") {
    el = document.createElement("select");
    for (const o of spec.options) {
      const opt = document.createElement("option");
      if (typeof o === "string") { opt.value = o; opt.textContent = o; }
      else { opt.value = o.name; opt.textContent = o.label ? `${o.name} — ${o.label}` : o.name; opt.title = o.description || ""; }
      el.appendChild(opt);
    }
  } else {
    el = document.createElement("input");
    el.type = spec.type || "range";
    for (const k of ["min", "max", "step"]) if (spec[k] !== undefined) el[k] = spec[k];
    const out = document.createElement("output");
    label.appendChild(out);
    const show = () => { out.textContent = el.value; };
    el.addEventListener("input", show);
    el.__show = show;
  }
  el.id = `${view}-${spec.name}`;
  el.name = spec.name;
  el.value = spec.value;
  if (el.__show) el.__show();
  el.addEventListener(spec.type === "select" ? "change" : "input", onChange);
  box.appendChild(label);
  box.appendChild(el);
  return el;
}

function setParams(view, params) {
  const v = views[view];
  for (const [k, val] of Object.entries(params)) {
    const el = v.controls[k];
    if (!el) continue;
    if (el.type === "range") {
      if (Number(val) > Number(el.max)) el.max = val;
      if (Number(val) < Number(el.min)) el.min = val;
    }
    el.value = val;
    if (el.__show) el.__show();
  }
}

function makeView(view, specs, update, {debounce = 0, auto = true} = {}) {
  const v = {controls: {}, update};
  let timer = null;
  const onChange = () => {
    if (!auto) return;  // e.g. training: a run starts on its button, not on every slider move
    clearTimeout(timer);
    timer = setTimeout(() => v.update().catch((e) => { if (e.name !== "AbortError") showError(e.message); }), debounce);
  };
  for (const s of specs) v.controls[s.name] = control(view, s, onChange);
  v.params = () => Object.fromEntries(Object.entries(v.controls).map(([k, el]) => [k, el.value]));
  v.refresh = onChange;
  views[view] = v;
  return v;
}

const qs = (o) => new URLSearchParams(o).toString();

function table(el, head, rows, rowClass = () => "") {
  el.innerHTML = "<thead><tr>" + head.map((h) => `<th>${h}</th>`).join("") + "</tr></thead><tbody>" +
    rows.map((r, i) => `<tr class="${rowClass(i)}">` + r.map((c) => (c && c.html) ? c.html : `<td>${esc(c)}</td>`).join("") + "</tr>").join("") + "</tbody>";
}
const stCell = (s) => ({html: `<td class="st st-${esc(String(s).toLowerCase())}">${esc(s)}</td>`});

// --------------------------------------------------------------- 1. variance view ---
function signalSpecs(depth) {
  return [
    {name: "activation", type: "select", options: META.activations, value: "relu"},
    {name: "start", type: "select", options: META.starts, value: "he"},
    {name: "depth", label: "depth (hidden layers)", min: 1, max: 100, step: 1, value: depth},
    {name: "width", label: "width (units per layer)", min: 16, max: 512, step: 16, value: 128},
    {name: "sigma_b", label: "σ_b (bias std)", min: 0, max: 1, step: 0.05, value: 0},
    {name: "input_scale", label: "input scale (std of x)", min: 0.1, max: 5, step: 0.1, value: 1},
  ];
}

async function updateVariance() {
  const d = await api("variance", "/api/signal?" + qs(views.variance.params()));
  const L = d.layers;
  const traces = [
    {x: L, y: d.pre_rms, name: "activation: rms of h^l (measured)", mode: "lines+markers", line: {color: "#2563eb"}},
    {x: L, y: d.theory_pre_rms, name: "mean-field theory √q^l", mode: "lines", line: {color: "#2563eb", dash: "dash"}},
    {x: L, y: d.grad_rms, name: "gradient: rms of ∂L/∂h^l (measured)", mode: "lines+markers", line: {color: "#dc2626"}},
    {x: L, y: d.theory_grad_rms, name: "theory (backward)", mode: "lines", line: {color: "#dc2626", dash: "dash"}},
  ];
  Plotly.react("variance-chart", traces, {...LAYOUT,
    title: {text: `${d.activation}, start ${d.start_label}: width ${d.width}, depth ${d.depth}`, font: {size: 13}},
    xaxis: {title: "layer"}, yaxis: {title: "rms (log scale)", type: "log", exponentformat: "power"}}, PLOT);
  $("variance-headline").innerHTML = `Variance per layer: <b>×${fmt(d.act_factor)}</b> forward (theory ×${fmt(d.theory_factor)}), ` +
    `<b>×${fmt(d.grad_factor)}</b> backward (theory ×${fmt(d.theory_grad_factor)}) · verdict <b>${esc(d.verdict)}</b>`;
  const every = Math.max(1, Math.ceil(L.length / 12));
  const rows = L.map((l, i) => [l, fmt(d.sigma_w2[i]), fmt(d.pre_rms[i]), fmt(d.theory_pre_rms[i]), fmt(d.act_std[i]), fmt(d.grad_rms[i]), fmt(d.theory_grad_rms[i])])
    .filter((_, i) => i % every === 0 || i === L.length - 1);
  table($("variance-table"), ["layer", "σ_w² (realized)", "rms h (measured)", "√q (theory)", "std φ(h)", "grad rms", "grad (theory)"], rows);
  stamp("variance", d);
}

// ----------------------------------------------------------------- 2. weights view ---
async function updateWeights() {
  const d = await api("weights", "/api/weights?" + qs(views.weights.params()));
  Plotly.react("weights-chart", [
    {x: d.centers, y: d.counts, type: "bar", name: `histogram of ${d.n_drawn.toLocaleString()} drawn weights`, marker: {color: "#93c5fd"}},
    {x: d.curve_x, y: d.curve_y, mode: "lines", name: "theoretical density", line: {color: "#1d4ed8", width: 2}},
  ], {...LAYOUT, bargap: 0.02,
    title: {text: `${d.scheme} (${d.distribution}), fan_in ${d.fan_in}, fan_out ${d.fan_out}: Var = ${d.formula}`, font: {size: 13}},
    xaxis: {title: "weight value"}, yaxis: {title: "density"},
    shapes: Number.isFinite(d.hi) && d.hi !== null ? [-1, 1].map((s) => ({type: "line", x0: s * d.hi, x1: s * d.hi, y0: 0, y1: 1, yref: "paper", line: {color: "#b42318", dash: "dot"}})) : []}, PLOT);
  const support = d.distribution === "normal" ? "unbounded" : `±${fmt(d.hi, 4)}`;
  $("weights-headline").innerHTML = `Var = <b>${fmt(d.variance, 4)}</b>, std = <b>${fmt(d.std, 4)}</b>, uniform bound = <b>±${fmt(d.bound, 4)}</b>, ` +
    `support ${support} · drawn: std ${fmt(d.sample_std, 4)}, range [${fmt(d.sample_min, 4)}, ${fmt(d.sample_max, 4)}]`;
  table($("weights-table"), ["scheme", "Var formula", "Var", "std", "uniform bound", "trunc. σ (±2σ)", "source"],
    d.table.map((r) => [r.scheme, r.formula, fmt(r.variance, 4), fmt(r.std, 4), "±" + fmt(r.uniform_bound, 4), fmt(r.truncated_sigma, 4), r.source]),
    (i) => d.table[i].scheme === d.scheme ? "hl" : "");
  stamp("weights", d);
}

// ------------------------------------------------------------------ 3. signal table ---
async function updateSignal() {
  const d = await api("signal", "/api/signal?" + qs(views.signal.params()));
  table($("signal-table"), ["Layer", "Mean", "Std Dev", "Max Abs", "Status", "Grad rms"],
    d.rows.map((r) => [r.layer, fmt(r.mean), fmt(r.std), fmt(r.max_abs), stCell(r.status), fmt(r.grad_rms)]));
  Plotly.react("signal-chart", [
    {x: d.rows.map((r) => r.layer), y: d.rows.map((r) => r.std), type: "bar", name: "std of activations", marker: {color: "#60a5fa"}},
    {x: d.rows.map((r) => r.layer), y: d.rows.map((r) => r.grad_rms), mode: "lines+markers", name: "gradient rms", line: {color: "#dc2626"}},
  ], {...LAYOUT, yaxis: {type: "log", title: "log scale", exponentformat: "power"}, title: {text: "std per layer", font: {size: 13}}}, PLOT);
  $("signal-headline").innerHTML = `${esc(d.activation)}, start <b>${esc(d.start_label)}</b>, ${d.depth} layers of ${d.width}: verdict <b>${esc(d.verdict)}</b>`;
  $("signal-findings").innerHTML = d.findings.length ? d.findings.map((f) =>
    `<div class="f"><b>${esc(f.kind)}</b>: ${esc(f.summary)}. <i>Cause:</i> ${esc(f.cause)}. <i>Fix:</i> <code>${esc(f.fix)}</code></div>`).join("")
    : "<p class='ok'>The doctor found nothing to fix.</p>";
  stamp("signal", d);
}

// ------------------------------------------------------------------- 4. phase view ---
let phaseMapFor = null;
async function updatePhase() {
  const p = views.phase.params();
  if (phaseMapFor !== p.activation) {
    const m = await api("phase-map", "/api/phase/map?" + qs({activation: p.activation, correlation: false}));
    phaseMapFor = p.activation;
    const chi = m.chi1.map((row) => row.map((v) => (v === null ? null : Math.log10(v))));
    Plotly.react("phase-map", [
      {z: chi, x: m.sigma_w2, y: m.sigma_b2, type: "heatmap", colorscale: "RdBu", zmid: 0,
       colorbar: {title: "log₁₀ χ₁", len: 0.8}, hovertemplate: "σ_w²=%{x:.3f}<br>σ_b²=%{y:.3f}<br>log₁₀χ₁=%{z:.3f}<extra></extra>"},
      {x: m.critical_sigma_w2, y: m.sigma_b2, mode: "lines", name: "critical line χ₁ = 1", line: {color: "#111", dash: "dash"}},
      {x: [Number(p.sigma_w2)], y: [Number(p.sigma_b2)], mode: "markers", name: "chosen point", marker: {size: 12, color: "#f59e0b", line: {color: "#000", width: 1}}},
    ], {...LAYOUT, title: {text: `${m.activation}: ordered (blue) · chaotic (red)<br>${m.phase.some((r) => r.includes(-1)) ? "white: no fixed point · " : ""}click a point`, font: {size: 13}, x: 0.01, xanchor: "left"},
      margin: {...LAYOUT.margin, t: 50},
      xaxis: {title: "σ_w²"}, yaxis: {title: "σ_b²"}, showlegend: false}, PLOT);
    $("phase-map").on("plotly_click", (ev) => {
      const pt = ev.points[0];
      setParams("phase", {sigma_w2: pt.x.toFixed(3), sigma_b2: pt.y.toFixed(3)});
      views.phase.refresh();
    });
  } else {
    Plotly.restyle("phase-map", {x: [[Number(p.sigma_w2)]], y: [[Number(p.sigma_b2)]]}, [2]);
  }
  const d = await api("phase", "/api/phase/point?" + qs(p));
  const L = d.q.map((_, i) => i);
  Plotly.react("phase-chart", [
    {x: L, y: d.q, name: "q^l theory", mode: "lines", line: {color: "#2563eb"}},
    {x: L, y: d.sim_q, name: `q^l measured (width ${d.width})`, mode: "markers", marker: {color: "#2563eb", size: 5}},
    {x: L, y: d.c, name: "c^l theory", mode: "lines", yaxis: "y2", line: {color: "#059669"}},
    {x: L, y: d.sim_c, name: "c^l measured", mode: "markers", yaxis: "y2", marker: {color: "#059669", size: 5}},
  ], {...LAYOUT, title: {text: `depth profile at σ_w² = ${fmt(d.sigma_w2)}, σ_b² = ${fmt(d.sigma_b2)}: ${d.phase}`, font: {size: 13}},
    xaxis: {title: "layer l"}, yaxis: {title: "q^l (variance)", type: "log", exponentformat: "power"},
    yaxis2: {title: "c^l (correlation)", overlaying: "y", side: "right", range: [-0.05, 1.05]}, margin: {...LAYOUT.margin, r: 60}}, PLOT);
  table($("phase-table"), ["phase", "q*", "c*", "χ₁", "ξ_q", "ξ_c", "trainable depth 6ξ_c", "note"],
    [[d.phase, fmt(d.q_star), fmt(d.c_star), fmt(d.chi1, 4), fmt(d.xi_q), d.xi_c === null ? "∞" : fmt(d.xi_c), d.trainable_depth === null ? "∞" : fmt(d.trainable_depth), d.note || ""]]);
  stamp("phase", d);
}

// ------------------------------------------------------------------- 5. train view ---
let trainJob = null, trainSource = null;
function trainControls() {
  const v = makeView("train", [
    {name: "dataset", type: "select", options: META.datasets, value: "digits"},
    {name: "activation", type: "select", options: META.activations, value: "relu"},
    {name: "depth", min: 1, max: 20, step: 1, value: 4},
    {name: "width", min: 8, max: 256, step: 8, value: 64},
    {name: "epochs", min: 1, max: 50, step: 1, value: 10},
    {name: "lr", label: "learning rate", type: "select", options: ["0.001", "0.003", "0.01", "0.03", "0.1"], value: "0.01"},
    {name: "optimizer", type: "select", options: META.optimizers, value: "sgd"},
    {name: "max_seconds", label: "time limit (s)", min: 5, max: 300, step: 5, value: 60},
  ], async () => {}, {auto: false});
  const box = $("controls-train");
  const lab = document.createElement("label");
  lab.textContent = "starts to compare";
  box.appendChild(lab);
  const checks = document.createElement("div");
  checks.className = "checks";
  checks.id = "train-starts";
  for (const s of META.starts) {
    const l = document.createElement("label");
    const c = document.createElement("input");
    c.type = "checkbox"; c.value = s.name; c.checked = ["zeros", "normal", "xavier", "he"].includes(s.name);
    l.appendChild(c); l.appendChild(document.createTextNode(" " + s.name));
    checks.appendChild(l);
  }
  box.appendChild(checks);
  const go = document.createElement("button"); go.id = "train-go"; go.textContent = "Train";
  const stop = document.createElement("button"); stop.id = "train-cancel"; stop.textContent = "Cancel"; stop.disabled = true;
  box.appendChild(go); box.appendChild(stop);
  go.addEventListener("click", () => startTraining().catch((e) => showError(e.message)));
  stop.addEventListener("click", () => { if (trainJob) fetch(`/api/train/${trainJob}/cancel`, {method: "POST"}); });
  v.update = startTraining;
  v.setStarts = (names) => { for (const c of checks.querySelectorAll("input")) c.checked = names.includes(c.value); };
}

async function startTraining() {
  const p = views.train.params();
  const starts = [...document.querySelectorAll("#train-starts input:checked")].map((c) => c.value);
  const body = {...p, starts, depth: +p.depth, width: +p.width, epochs: +p.epochs, lr: +p.lr, max_seconds: +p.max_seconds};
  if (trainSource) trainSource.close();
  const r = await fetch("/api/train", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const j = await r.json();
  if (!r.ok) throw new Error(j.detail || r.statusText);
  trainJob = j.job;
  $("train-go").disabled = true; $("train-cancel").disabled = false;
  const curves = {};
  const final = {};
  let pending = null;
  const draw = () => {
    pending = null;
    Plotly.react("train-chart", Object.entries(curves).map(([name, c]) => ({x: [...c.x], y: [...c.y], name: c.label, mode: "lines"})),
      {...LAYOUT, title: {text: `training loss per mini-batch on ${p.dataset} (live)`, font: {size: 13}},
        xaxis: {title: "epoch"}, yaxis: {title: "train loss (log)", type: "log", exponentformat: "power"}}, PLOT);
    table($("train-table"), ["start", "epochs", "last loss", "final train loss", "test accuracy", "diverged"],
      Object.entries(curves).map(([name, c]) => {
        const f = final[name];
        return [c.label, fmt(c.x.length ? c.x[c.x.length - 1] : 0), fmt(c.y.length ? c.y[c.y.length - 1] : null),
          f ? fmt(f.final_train_loss) : "…", f ? (100 * f.final_test_accuracy).toFixed(1) + " %" : "…", f && f.diverged ? "yes" : ""];
      }));
    const el = $("view-train"); el.dataset.rev = String(Number(el.dataset.rev || 0) + 1);
  };
  const later = () => { if (!pending) pending = setTimeout(draw, 80); };  // at most ~12 redraws/s
  trainSource = new EventSource(`/api/train/${trainJob}/events`);
  trainSource.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (e.type === "begin") {
      e.starts.forEach((s, i) => { curves[s] = {x: [], y: [], label: e.labels[i]}; });
      $("train-headline").textContent = `${e.dataset.name}: ${e.dataset.n_train} training, ${e.dataset.n_test} test examples, ${e.starts.length} starts, ${e.steps_per_epoch} mini-batches per epoch`;
      draw();
    } else if (e.type === "step") {
      curves[e.start].x.push(e.epoch); curves[e.start].y.push(e.loss);
      $("train-status").textContent = `${e.label}: epoch ${fmt(e.epoch)}`;
      later();
    } else if (e.type === "run") {
      final[e.start] = e; later();
    } else if (e.type === "end") {
      clearTimeout(pending); draw();
      $("train-status").textContent = `${e.reason} after ${fmt(e.elapsed)} s`;
    } else if (e.type === "error") {
      showError(e.detail);
    }
  };
  trainSource.addEventListener("close", () => {
    trainSource.close(); trainSource = null; trainJob = null;
    $("train-go").disabled = false; $("train-cancel").disabled = true;
  });
}

// ------------------------------------------------------------------- 6. model view ---
function doctorTable(dx) {
  table($("model-table"), ["layer", "kind", "mean", "std", "max |x|", "grad rms", "status"],
    dx.layers.map((r) => [r.name, r.kind, fmt(r.mean), fmt(r.std), fmt(r.max_abs), fmt(r.grad_rms), stCell(r.status)]));
  $("model-findings").innerHTML = dx.findings.length ? dx.findings.map((f) =>
    `<div class="f"><b>${esc(f.kind)}</b>: ${esc(f.summary)}. <i>Fix:</i> <code>${esc(f.fix)}</code></div>`).join("")
    : "<p class='ok'>The doctor found nothing to fix.</p>";
  const acts = dx.layers;
  Plotly.react("model-chart", [
    {x: acts.map((r) => r.index), y: acts.map((r) => r.std), name: "activation std", mode: "lines+markers"},
    {x: acts.map((r) => r.index), y: acts.map((r) => r.grad_rms), name: "gradient rms", mode: "lines+markers"},
  ], {...LAYOUT, xaxis: {title: "layer (execution order)"}, yaxis: {type: "log", exponentformat: "power"}}, PLOT);
}
function planTable(rows) {
  table($("model-plan"), ["parameter", "shape", "scheme", "fan_in", "fan_out", "std", "reason"],
    rows.map((r) => [r.name, (r.shape || []).join("×"), r.scheme_str || (r.scheme && r.scheme.kind) || "", fmt(r.fan_in), fmt(r.fan_out), fmt(r.std), r.reason || ""]));
}
async function modelControls() {
  const v = makeView("model", [
    {name: "policy", type: "select", options: ["(as built)", ...META.policies], value: "(as built)"},
  ], null);
  v.update = async () => {
    const policy = v.params().policy;
    if (!META.model) {
      $("model-headline").innerHTML = "No model loaded. Start the explorer with one: <code>initlab explore pkg.module:factory --input-shape 8,3,32,32</code>";
      return;
    }
    if (policy === "(as built)") {
      const d = await api("model", "/api/model");
      $("model-headline").innerHTML = `<b>${esc(d.model)}</b> as built: verdict <b>${esc(d.diagnosis.verdict)}</b>`;
      doctorTable(d.diagnosis); planTable(d.plans.auto.rows); stamp("model", d);
    } else {
      const d = await api("model", "/api/model/doctor?" + qs({policy}));
      $("model-headline").innerHTML = `<b>${esc(META.model)}</b> after <code>initlab.init(model, policy="${esc(policy)}")</code>: verdict <b>${esc(d.diagnosis.verdict)}</b>`;
      doctorTable(d.diagnosis); planTable(d.plan); stamp("model", d);
    }
  };
}

// -------------------------------------------------------------------- check page ---
async function updateCheck() {
  const d = await api("check", "/api/check?" + qs(views.check.params()));
  $("check-headline").innerHTML = (d.ok ? "<span class='ok'>CORRECT</span>: " : `<span class='bad'>WRONG (${esc(d.mistake)})</span>: `) + esc(d.explanation) +
    `<br><small>${esc(d.function)} vs ${esc(d.scheme)}: ${esc(d.formula)} (${esc(d.source)}); called as ${esc(d.call)}</small>`;
  Plotly.react("check-chart", [
    {x: d.shapes.map((s) => s.layer), y: d.shapes.map((s) => s.ratio), type: "bar", name: "measured / expected variance",
     error_y: {type: "data", array: d.shapes.map((s) => s.ratio_tol), visible: true}, marker: {color: d.shapes.map((s) => s.var_ok ? "#22c55e" : "#ef4444")}},
  ], {...LAYOUT, yaxis: {type: "log", title: "Var ratio (1 = right)", exponentformat: "power"},
    shapes: [{type: "line", x0: 0, x1: 1, xref: "paper", y0: 1, y1: 1, line: {dash: "dash"}}], showlegend: false}, PLOT);
  const ok = (b) => ({html: `<td class="${b ? "ok" : "bad"}">${b ? "ok" : "FAIL"}</td>`});
  table($("check-table"), ["layer", "shape", "fan_in", "fan_out", "Var expected", "Var measured", "ratio ± tol", "var", "mean", "mean", "KS p", "law", "implied n"],
    d.shapes.map((s) => [s.layer, s.shape.join("×"), s.fan_in, s.fan_out, fmt(s.expected_var, 4), fmt(s.measured_var, 4),
      `${fmt(s.ratio, 4)} ± ${fmt(s.ratio_tol, 2)}`, ok(s.var_ok), fmt(s.mean, 2), ok(s.mean_ok), fmt(s.ks_p, 2), ok(s.ks_ok), fmt(s.implied_fan, 4)]));
  stamp("check", d);
}

// -------------------------------------------------------------------- 7. learn view ---
async function learnView() {
  const d = await api("learn", "/api/learn");
  $("learn-list").innerHTML = d.items.map((it, k) => `
    <div class="card" id="learn-${esc(it.id)}">
      <div class="kind">${it.kind === "question" ? "knowledge check" : "troubleshooting"}</div>
      <h3>${esc(it.question)}</h3>
      ${it.choices ? "<ol type='A'>" + it.choices.map((c, i) => `<li class="${i === it.answer ? "ans" : ""}">${esc(c)}</li>`).join("") + "</ol>" : ""}
      <div class="answer">${it.choices ? `<b>Answer ${"ABC"[it.answer]}.</b> ${esc(it.explanation)}` : esc(it.answer_text)}</div>
      <button data-k="${k}" class="reveal">Show the answer</button><button data-k="${k}" class="demo">Show me live →</button>
    </div>`).join("");
  for (const b of document.querySelectorAll("#learn-list button.reveal"))
    b.addEventListener("click", () => { const c = b.closest(".card"); c.classList.add("open"); c.querySelector("li.ans")?.classList.add("right"); });
  for (const b of document.querySelectorAll("#learn-list button.demo"))
    b.addEventListener("click", () => { const it = d.items[+b.dataset.k]; b.closest(".card").classList.add("open"); openDemo(it.demo); });
}

function openDemo(demo) {
  switchTo(demo.view);
  const p = {...demo.params};
  if (demo.view === "train" && p.starts) { views.train.setStarts(p.starts); delete p.starts; }
  setParams(demo.view, p);
  if (demo.view === "phase") phaseMapFor = null;
  views[demo.view].update().catch((e) => showError(e.message));
}

// ------------------------------------------------------------------------- tabs ---
const loaded = new Set();
function switchTo(view) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.view === view);
  for (const s of document.querySelectorAll(".view")) s.classList.toggle("active", s.id === "view-" + view);
  if (!loaded.has(view)) {
    loaded.add(view);
    if (view === "learn") learnView().catch((e) => showError(e.message));
    else if (view !== "train") views[view].update().catch((e) => { if (e.name !== "AbortError") showError(e.message); });
  }
  window.dispatchEvent(new Event("resize"));
  history.replaceState(null, "", "#" + view);
}

async function main() {
  META = await (await fetch("/api/meta")).json();
  makeView("variance", signalSpecs(20), updateVariance);
  makeView("signal", signalSpecs(8), updateSignal);
  makeView("weights", [
    {name: "scheme", type: "select", options: META.weight_schemes, value: "xavier"},
    {name: "fan_in", label: "fan_in (inputs)", min: 1, max: 4096, step: 1, value: 1024},
    {name: "fan_out", label: "fan_out (outputs)", min: 1, max: 4096, step: 1, value: 512},
    {name: "distribution", type: "select", options: META.distributions, value: "uniform"},
    {name: "activation", type: "select", options: META.activations, value: "relu"},
  ], updateWeights);
  makeView("phase", [
    {name: "activation", type: "select", options: META.activations, value: "tanh"},
    {name: "sigma_w2", label: "σ_w² (weight variance × fan_in)", min: 0.5, max: 4, step: 0.01, value: 1.5},
    {name: "sigma_b2", label: "σ_b² (bias variance)", min: 0, max: 0.3, step: 0.005, value: 0.05},
    {name: "depth", min: 5, max: 200, step: 5, value: 30},
  ], updatePhase, {debounce: 30});
  makeView("check", [
    {name: "example", label: "learner's function", type: "select",
     options: [...(META.check_target ? [{name: "cli", label: META.check_target}] : []),
               ...META.check_examples.map((e) => ({name: e.name, label: e.mistake ? "wrong: " + e.mistake : "correct"}))],
     value: META.check_target ? "cli" : "xavier_normal"},
    {name: "scheme", label: "reference scheme", type: "select", options: META.check_schemes, value: "xavier_normal"},
  ], updateCheck);
  views.check.controls.example.addEventListener("change", () => {
    const ex = META.check_examples.find((e) => e.name === views.check.controls.example.value);
    if (ex) views.check.controls.scheme.value = ex.scheme;
  }, true);
  for (const box of ["check"]) {
    const h = document.createElement("p"); h.className = "hint";
    h.innerHTML = "Your own function: <code>initlab explore --check my_module:my_xavier</code> or <code>initlab check my_module:my_xavier --scheme xavier_normal</code>";
    $("controls-" + box).appendChild(h);
  }
  trainControls();
  await modelControls();
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => switchTo(b.dataset.view));
  const first = location.hash.slice(1);
  switchTo(views[first] || first === "learn" ? first : "variance");
  document.body.dataset.ready = "1";
}
main().catch((e) => showError(e.message));
