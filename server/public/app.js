// The resdet web page: send an image to /v1/detect (and /v1/classify when a classifier is
// loaded), draw the boxes over it, and filter them by score on the client as the slider moves.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const canvas = $('canvas');
  const ctx = canvas.getContext('2d');
  const slider = $('threshold');
  const state = { models: null, image: null, detections: [], classes: [] };

  // The server is asked for everything above this; the slider filters the rest locally.
  const FETCH_THRESHOLD = 0.01;

  function setState(name, message) {
    document.body.dataset.state = name;
    if (message !== undefined) $('status').textContent = message;
  }

  function colour(index) {
    const hue = (index * 137.508) % 360; // golden angle: neighbours get distant hues
    return `hsl(${hue.toFixed(0)}, 85%, 45%)`;
  }

  async function errorMessage(res) {
    try {
      const body = await res.json();
      if (body && body.error) return body.error.message + (body.error.hint ? ` (${body.error.hint})` : '');
    } catch {
      /* not JSON */
    }
    return `HTTP ${res.status}`;
  }

  async function loadModels() {
    try {
      const res = await fetch('/v1/models');
      if (!res.ok) throw new Error(await errorMessage(res));
      state.models = await res.json();
      const d = state.models.detector;
      const parts = [`detector ${d.name} (${d.arch}, ${d.classes.length} classes)`];
      if (state.models.classifier) {
        const c = state.models.classifier;
        parts.push(`classifier ${c.name} (${c.arch}, ${c.classes.length} classes)`);
      }
      if (state.models.backend) parts.push(`backend ${state.models.backend}`);
      $('models').textContent = parts.join(' · ');
      $('classes-panel').hidden = !state.models.classifier;
      setState('ready');
    } catch (err) {
      $('models').textContent = `Models unavailable: ${err.message}`;
      setState('error', 'The server is not ready; reload the page in a moment.');
    }
  }

  function threshold() {
    return Number(slider.value);
  }

  function draw() {
    const img = state.image;
    $('threshold-value').textContent = threshold().toFixed(2);
    if (!img) return;
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    ctx.drawImage(img, 0, 0);
    const visible = state.detections.filter((d) => d.score >= threshold());
    // Line width and font follow the image size so boxes look the same once the canvas is scaled.
    const scale = Math.max(img.naturalWidth, img.naturalHeight) / 640;
    const lw = Math.max(2, 2.5 * scale);
    const font = Math.max(12, Math.round(14 * scale));
    ctx.font = `600 ${font}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    // Boxes lowest score first so the best end up on top; labels best first, each moved down
    // until it no longer covers a label already placed (boxes sharing a corner stay readable).
    for (const d of [...visible].reverse()) {
      const [x1, y1, x2, y2] = d.box;
      ctx.strokeStyle = colour(d.labelIndex);
      ctx.lineWidth = lw;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    }
    const placed = [];
    const overlaps = (r) => placed.some((p) => r.x < p.x + p.w && p.x < r.x + r.w && r.y < p.y + p.h && p.y < r.y + r.h);
    for (const d of visible) {
      const [x1, y1] = d.box;
      const text = `${d.label} ${d.score.toFixed(2)}`;
      const r = { x: Math.max(0, x1 - lw / 2), y: 0, w: ctx.measureText(text).width + 8, h: font + 6 };
      r.y = y1 - r.h >= 0 ? y1 - r.h : Math.max(0, y1);
      for (let tries = 0; tries < 8 && overlaps(r); tries++) r.y += r.h;
      placed.push(r);
      ctx.fillStyle = colour(d.labelIndex);
      ctx.fillRect(r.x, r.y, r.w, r.h);
      ctx.fillStyle = '#fff';
      ctx.fillText(text, r.x + 4, r.y + 3);
    }
    const count = $('count');
    count.dataset.visible = String(visible.length);
    count.dataset.total = String(state.detections.length);
    count.textContent = `${visible.length} of ${state.detections.length} ≥ ${threshold().toFixed(2)}`;
    const list = $('detections');
    list.replaceChildren(
      ...visible.map((d) => {
        const li = document.createElement('li');
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = colour(d.labelIndex);
        li.append(sw, `${d.label} ${d.score.toFixed(3)} [${d.box.map((v) => Math.round(v)).join(', ')}]`);
        return li;
      }),
    );
  }

  function drawClasses() {
    $('classes').replaceChildren(
      ...state.classes.map((p) => {
        const li = document.createElement('li');
        li.textContent = `${p.label} ${(100 * p.prob).toFixed(1)}%`;
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${Math.max(1, 100 * p.prob).toFixed(1)}%`;
        li.append(bar);
        return li;
      }),
    );
  }

  let objectUrl = null;

  function loadImage(file) {
    return new Promise((resolve, reject) => {
      // One picture at a time: release the previous one's object URL.
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      const url = URL.createObjectURL(file);
      objectUrl = url;
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('the browser cannot display this file as an image'));
      img.src = url;
    });
  }

  async function post(path, file) {
    const form = new FormData();
    form.append('image', file, file.name || 'image');
    const res = await fetch(path, { method: 'POST', body: form });
    if (!res.ok) throw new Error(await errorMessage(res));
    return res.json();
  }

  let latest = 0;

  async function handleFile(file) {
    if (!file) return;
    // A newer upload wins: answers for an older one that arrive late are dropped.
    const seq = ++latest;
    setState('busy', `Detecting objects in ${file.name || 'the image'}…`);
    state.detections = [];
    state.classes = [];
    drawClasses();
    try {
      const withClassifier = Boolean(state.models && state.models.classifier);
      const started = performance.now();
      const [img, det, cls] = await Promise.all([
        loadImage(file),
        post(`/v1/detect?score_threshold=${FETCH_THRESHOLD}&max_detections=100`, file),
        withClassifier
          ? post(`/v1/classify?topk=${Math.min(5, state.models.classifier.classes.length)}`, file)
          : Promise.resolve(null),
      ]);
      if (seq !== latest) return;
      state.image = img;
      state.detections = det.detections;
      state.classes = cls ? cls.predictions : [];
      draw();
      drawClasses();
      const ms = performance.now() - started;
      setState(
        'done',
        `${det.detections.length} detections in ${det.image.width} × ${det.image.height} px ` +
          `(model ${det.timings.inferenceMs.toFixed(0)} ms, round trip ${ms.toFixed(0)} ms).`,
      );
    } catch (err) {
      if (seq === latest) setState('error', `Failed: ${err.message}`);
    }
  }

  $('file').addEventListener('change', (e) => handleFile(e.target.files[0]));
  slider.addEventListener('input', draw);
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    handleFile(e.dataTransfer.files[0]);
  });

  draw();
  loadModels();
})();
