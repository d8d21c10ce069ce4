import * as tf from "./tf.js";
import { h, fmt, emptyState } from "./dom.js";
import { hasZeroShot, loadBackbone, predictViews, zeroShotViews } from "./backbone.js";
import { FEEDBACK_FORM, feedbackFormData } from "./feedback-form.js";
import { prepareRgb, prepareWholeView, rgbaToRgb, scaleToUnit, modelRescalesItself, modelImageSize } from "./preprocess.js";
import { chooseBackend } from "./tf-backend.js";
import { refineOcclusion, Cancelled } from "./occlusion.js";

/**
 * Load the promoted model from the attached files (names are content-hashed, so weights come from memory); a
 * model on a pretrained backbone needs the backbone's weights too.
 */
export async function loadModel(bundle, weights, backboneWeights = null) {
  if (bundle.backbone) await loadBackbone(bundle.backbone, await backboneWeights);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: bundle.modelTopology, weightSpecs: bundle.weightSpecs, weightData: weights }));
}

/** P(cat) for each input (Float32Array of size*size*3). Works for one sigmoid unit or a two-class softmax. */
export function predictor(model, size) {
  return async (inputs) => {
    const flat = new Float32Array(inputs.length * size * size * 3);
    inputs.forEach((x, i) => flat.set(x, i * size * size * 3));
    const out = tf.tidy(() => {
      const y = model.predict(tf.tensor4d(flat, [inputs.length, size, size, 3]));
      return y.shape[1] === 2 ? y.slice([0, 1], [-1, 1]) : y;
    });
    const values = Array.from(await out.data());
    out.dispose();
    return values;
  };
}

/** Decode a photo (EXIF orientation applied) into RGB bytes. */
async function decode(blob) {
  const bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  return { bitmap, rgb: rgbaToRgb(data, bitmap.width, bitmap.height), width: bitmap.width, height: bitmap.height };
}

/**
 * The part of the photo the model sees (the square, or a backbone model's whole view), with the occlusion map over
 * it when there is one: red = supports "cat", blue = argues against.
 */
function drawHeatmap(canvas, bitmap, crop, map = null) {
  const longer = 320;
  const k = longer / Math.max(crop.width, crop.height);
  canvas.width = Math.round(crop.width * k);
  canvas.height = Math.round(crop.height * k);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, crop.x, crop.y, crop.width, crop.height, 0, 0, canvas.width, canvas.height);
  if (!map) return;
  const max = Math.max(1e-6, ...map.drops.map(Math.abs));
  const cw = canvas.width / map.grid, ch = canvas.height / map.grid;
  map.drops.forEach((d, i) => {
    const gx = i % map.grid, gy = Math.floor(i / map.grid);
    const a = Math.min(0.65, (Math.abs(d) / max) * 0.65);
    ctx.fillStyle = d >= 0 ? `rgba(230, 30, 30, ${a})` : `rgba(30, 90, 230, ${a})`;
    ctx.fillRect(gx * cw, gy * ch, cw, ch);
  });
  canvas.dataset.heatmap = "drawn";
  canvas.dataset.grid = String(map.grid);
}

/**
 * Is the page served by the project's server? Its /api/health answers JSON (503 while no model is loaded): the
 * health body, or null when there is no such server.
 */
let serverCheck = null;
function serverHealth() {
  serverCheck ??= askServer();
  return serverCheck;
}

async function askServer() {
  try {
    const res = await fetch("/api/health", { headers: { accept: "application/json" } });
    if (!res.ok && res.status !== 503) return null;
    const body = await res.json();
    return typeof body?.status === "string" ? body : null;
  } catch {
    return null;
  }
}

/** The server's reason for refusing a request, from its JSON error ({error: {message}} or {error: "..."}). */
async function refusalReason(res) {
  const body = await res.json().catch(() => null);
  const message = typeof body?.error === "string" ? body.error : body?.error?.message;
  return typeof message === "string" && message ? message : null;
}

/** The photo as JPEG, at most maxSide pixels on its longer side (the server re-encodes it without metadata). */
function photoBlob(bitmap, maxSide = 1024) {
  const k = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const c = document.createElement("canvas");
  c.width = Math.round(bitmap.width * k);
  c.height = Math.round(bitmap.height * k);
  c.getContext("2d").drawImage(bitmap, 0, 0, c.width, c.height);
  return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error("could not encode the photo"))), "image/jpeg", 0.92));
}

/**
 * The feedback form. `offer` is what the served model can take ({stores, default, note}: the server's /api/health
 * says it for the model it serves; the site's model file for the one it was built with): a model without a
 * pretrained backbone cannot keep numbers instead of the photo, and that choice is then not offered.
 */
function feedbackForm(result, offer) {
  const status = h("p", { class: "muted feedback-status", "aria-live": "polite" });
  const consent = h("input", { type: "checkbox", id: "feedback-consent" });
  // What may be kept: "features" (numbers only, no photo) or "photo".
  const [keepPhoto, keepFeatures] = FEEDBACK_FORM.stores;
  const offered = offer?.stores?.length ? offer.stores : [keepFeatures, keepPhoto];
  const preferred = offered.includes(offer?.default) ? offer.default : offered[0];
  const choice = (value, checked, label, what) => {
    const input = h("input", { type: "radio", name: "feedback-store", value, id: `feedback-store-${value}` });
    input.checked = checked;
    return h("div", { class: "feedback-choice" }, h("label", {}, input, " ", h("strong", {}, label)), h("p", { class: "muted" }, what));
  };
  const choices = h("fieldset", { class: "feedback-store", "data-stores": offered.join(" ") },
    h("legend", {}, "What may the server keep?"),
    offered.includes(keepFeatures) ? choice(keepFeatures, preferred === keepFeatures, "Use my answer, do not keep my photo",
      "The server works out the numbers the model sees in your photo (for the photo and its mirror image), keeps only those numbers, your answer, the model version and the time, and forgets the photo. Nobody can see your photo later, and the numbers cannot be turned back into it.") : null,
    offered.includes(keepPhoto) ? choice(keepPhoto, preferred === keepPhoto, "Keep my photo to improve the model",
      "The server keeps a copy of your photo (re-encoded, without its camera and location data) and your answer, so that a later training can learn from the photo itself. It is deleted after the retention period (90 days unless the server is set otherwise).") : null,
    offer?.note ? h("p", { class: "muted feedback-store-note" }, offer.note) : null);
  const send = async (correct) => {
    if (!consent.checked) return;
    status.textContent = "Sending…";
    const [cat, notCat] = FEEDBACK_FORM.answers;
    const prediction = result.probability >= result.threshold ? cat : notCat;
    const answer = correct ? prediction : prediction === cat ? notCat : cat;
    const store = choices.querySelector("input[name=feedback-store]:checked")?.value ?? preferred;
    try {
      const form = feedbackFormData({ photo: await photoBlob(result.bitmap), prediction, answer, probability: result.probability, version: result.version, store });
      const res = await fetch(FEEDBACK_FORM.route, { method: "POST", body: form });
      status.dataset.status = String(res.status);
      if (res.ok) {
        status.textContent = store === keepPhoto ? "Thank you: your answer and your photo were recorded." : "Thank you: your answer was recorded; your photo was not kept.";
      } else {
        const reason = await refusalReason(res);
        status.textContent = reason ? `The server did not take the feedback: ${reason}.` : `The server did not take the feedback (HTTP ${res.status}).`;
      }
    } catch (err) {
      status.textContent = `Could not send the feedback: ${err.message}`;
    }
  };
  const yes = h("button", { type: "button", disabled: true, onclick: () => send(true) }, "Yes, that is right");
  const no = h("button", { type: "button", disabled: true, onclick: () => send(false) }, "No, that is wrong");
  consent.addEventListener("change", () => { yes.disabled = no.disabled = !consent.checked; });
  return h("div", { class: "feedback card" },
    h("h3", {}, "Was this right?"),
    choices,
    h("label", {}, consent, " I agree to send my answer (and, for the choice above, what is kept of my photo) to this server, to check and improve the model."),
    h("p", {}, yes, " ", no), status);
}

/** The server's answer for the same photo (POST /api/predict), next to the browser's. */
function serverCompare(blob) {
  const out = h("p", { class: "muted server-answer", "aria-live": "polite" });
  const ask = h("button", { type: "button", class: "ask-server" }, "Ask the server too");
  ask.addEventListener("click", async () => {
    ask.disabled = true;
    out.textContent = "Asking the server…";
    try {
      const form = new FormData();
      form.append("photo", blob, "photo");
      const res = await fetch("/api/predict", { method: "POST", body: form });
      const body = await res.json().catch(() => null);
      if (!res.ok || typeof body?.probability !== "number") throw new Error(body?.error?.message ?? body?.message ?? `HTTP ${res.status}`);
      out.dataset.serverProbability = String(body.probability);
      out.replaceChildren(h("strong", {}, "Server: "),
        `P(cat) = ${body.probability.toFixed(3)}, ${body.isCat ? "a cat" : "not a cat"} (model version ${body.modelVersion}, threshold ${fmt(body.threshold)}, ${Math.round(body.latencyMs)} ms on the server)`);
    } catch (err) {
      out.textContent = `The server could not answer: ${err.message}`;
    } finally {
      ask.disabled = false;
    }
  });
  return h("div", { class: "server-compare card" },
    h("h3", {}, "Compare with the server"),
    h("p", {}, "Send this photo to the server's model (", h("code", {}, "/api/predict"), ") and see its answer next to your browser's. ", ask),
    out);
}

/** What the model was trained on and, for the synthetic set, that it is a demonstration and how to train on photos. */
function trainedOnNote(trainedOn) {
  if (!trainedOn) return null;
  return h("div", { class: `card trained-on${trainedOn.synthetic ? " demonstration" : ""}`, "data-synthetic": String(trainedOn.synthetic),
    style: trainedOn.synthetic ? { borderLeft: "6px solid #e67700", padding: "0.5em 1em" } : {} },
    trainedOn.synthetic ? h("p", {}, h("strong", {}, "A demonstration model. ")) : null,
    h("p", {}, trainedOn.text),
    trainedOn.demonstration ? h("p", {}, trainedOn.demonstration, " ", h("code", {}, trainedOn.command)) : null);
}

const BACKEND_NAMES = { webgl: "WebGL", wasm: "WebAssembly", cpu: "CPU (plain JavaScript)" };

/** Refinement steps of the explanation: a coarse grid at once, a finer one after. */
const GRIDS = [4, 8];

/**
 * The predict page. `options.wasm` is the wasm backend's script and binaries on this site (see chooseBackend);
 * `options.samples` are photos of the test split to try with one click ({group, path, photo: data URI}).
 */
export function renderPredict(bundle, weightsPromise, backboneWeightsPromise = null, options = {}) {
  if (!bundle) return emptyState("no model has been promoted, so there is nothing to run in the browser.");
  const { wasm = null, samples = [] } = options;
  const size = modelImageSize(bundle.modelTopology) ?? bundle.card.imageSize;
  const threshold = bundle.card.threshold;
  const rescales = modelRescalesItself(bundle.modelTopology);
  // A pretrained-backbone model sees the whole photo at its own aspect (and answers the mean over its mirror image).
  const wholeView = Boolean(bundle.backbone);
  const predictorFor = (model, shape) => (wholeView ? (inputs) => predictViews(model, inputs, shape.height, shape.width) : predictor(model, size));
  const fill = rescales ? 127.5 : 0.5;
  const status = h("p", { class: "muted predict-status" }, "Loading the model…");
  const backendNote = h("p", { class: "muted predict-backend" });
  const t0 = performance.now();
  const backendPromise = chooseBackend(wasm).then((b) => {
    backendNote.dataset.backend = b.name;
    backendNote.textContent = `Runs on TensorFlow.js's ${BACKEND_NAMES[b.name] ?? b.name} backend (${b.reason}).`;
    return b;
  });
  const modelPromise = backendPromise
    .then(() => weightsPromise)
    .then((w) => loadModel(bundle, w, backboneWeightsPromise))
    .then(async (model) => {
      // One pass on a blank photo: the backend compiles and allocates now, not on the visitor's first photo.
      await predictorFor(model, { width: size, height: size })([new Float32Array(size * size * 3).fill(fill)]);
      return model;
    });
  modelPromise.then(() => {
    status.dataset.readyMs = String(Math.round(performance.now() - t0));
    status.textContent = `Model version ${bundle.card.version} ready (${size}×${size} input, threshold ${fmt(threshold)}).`;
  }, (err) => { status.textContent = `The model could not be loaded: ${err.message}`; console.error(err); });

  // The answer is announced to screen readers; the explanation below it is refined quietly.
  const answer = h("div", { class: "predict-answer", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  const output = h("div", { class: "predict-output" }, answer);
  let generation = 0;

  /** Answer for a photo (a Blob, or a promise of one): the previous photo's answer and explanation go at once. */
  async function run(photo, what = "your photo") {
    const token = ++generation;
    const current = () => token === generation;
    const started = performance.now();
    delete answer.dataset.answerMs;
    answer.replaceChildren(h("p", { class: "muted" }, `Looking at ${what}…`));
    output.replaceChildren(answer);
    try {
      const blob = await photo;
      const model = await modelPromise;
      const { bitmap, rgb, width, height } = await decode(blob);
      if (!current()) return;
      const prepared = wholeView ? prepareWholeView(rgb, width, height, size) : { ...prepareRgb(rgb, width, height, size), width: size, height: size };
      const { pixels, crop } = prepared;
      const shape = { width: prepared.width, height: prepared.height };
      const input = rescales ? Float32Array.from(pixels) : scaleToUnit(pixels);
      const predict = predictorFor(model, shape);
      const [probability] = await predict([input]);
      if (!current()) return;
      const answerMs = Math.round(performance.now() - started);
      const isCat = probability >= threshold;
      answer.dataset.answerMs = String(answerMs);
      answer.replaceChildren(h("p", {},
        h("span", { class: "prob", "data-probability": probability }, `P(cat) = ${probability.toFixed(3)}`),
        " ", h("strong", { class: "verdict" }, isCat ? "a cat" : "not a cat"), ` (threshold ${fmt(threshold)})`,
        h("span", { class: "muted" }, ` · answered in ${answerMs} ms`)));
      if (hasZeroShot()) {
        // The untrained baseline beside the served model: what the ImageNet classifier says on its own.
        zeroShotViews([input], shape.height, shape.width).then(([z]) => {
          if (current()) answer.append(h("p", { class: "muted zero-shot", "data-probability": z }, `Zero-shot baseline (the ImageNet classifier alone, no training): P(cat) = ${z.toFixed(3)}`));
        }, (err) => console.error(err));
      }

      const canvas = h("canvas", { class: "heatmap", role: "img", "aria-label": `the ${wholeView ? "photo" : "square"} the model sees, with the explanation heatmap over it`, "data-view": `${shape.width}x${shape.height}` });
      drawHeatmap(canvas, bitmap, crop);
      const total = GRIDS.reduce((s, g) => s + g * g, 0);
      const progress = h("progress", { max: total, value: 0, "aria-label": "explanation progress" });
      const progressText = h("span", { class: "muted" }, " Explaining: hiding each part of the photo in turn…");
      const explain = h("div", { class: "predict-explain", "data-state": "refining" },
        h("div", { class: "predict-stage" }, canvas),
        h("p", { class: "predict-progress" }, progress, progressText),
        h("p", { class: "muted" }, `What the model looked at: the ${wholeView ? "whole photo" : "square"} it sees, with each cell greyed out in turn, first in ${GRIDS[0]}×${GRIDS[0]} cells, then ${GRIDS.slice(1).map((g) => `${g}×${g} cells`).join(", ")}. Red cells lowered P(cat) when hidden (they support “cat”), blue ones raised it.`));
      const result = { probability, threshold, version: bundle.card.version, bitmap };
      const extras = h("div", { class: "feedback-slot" });
      output.append(explain, extras);
      serverHealth().then((health) => {
        if (health && current()) extras.append(feedbackForm(result, health.model?.feedback ?? bundle.feedback), serverCompare(blob));
      });

      try {
        await refineOcclusion(input, shape, probability, predict, {
          // Smaller batches for the heavier backbone models: the page stays responsive between them.
          grids: GRIDS, fill, batch: bundle.backbone ? 4 : 8, cancelled: () => !current(),
          onProgress: (done) => { progress.value = done; },
          onMap: (map) => {
            drawHeatmap(canvas, bitmap, crop, map);
            progressText.textContent = map.grid === GRIDS[GRIDS.length - 1] ? ` Explanation done: ${map.grid}×${map.grid} cells.` : ` Shown: ${map.grid}×${map.grid} cells; refining…`;
          },
        });
        explain.dataset.state = "done";
        explain.dataset.doneMs = String(Math.round(performance.now() - started));
        progress.hidden = true;
      } catch (err) {
        if (!(err instanceof Cancelled)) throw err;
        explain.dataset.state = "cancelled";
      }
    } catch (err) {
      if (!current()) return;
      answer.replaceChildren(h("p", {}, `Could not read this photo: ${err.message}`));
      console.error(err);
    }
  }

  const firstImage = (files) => Array.from(files ?? []).find((f) => f.type.startsWith("image/"));

  const fileInput = h("input", { type: "file", accept: "image/*", id: "photo-input" });
  fileInput.addEventListener("change", () => fileInput.files?.[0] && run(fileInput.files[0], fileInput.files[0].name));
  const cameraInput = h("input", { type: "file", accept: "image/*", capture: "environment", id: "camera-input" });
  cameraInput.addEventListener("change", () => cameraInput.files?.[0] && run(cameraInput.files[0], "the camera's photo"));

  const drop = h("div", { class: "dropzone", tabindex: 0, role: "button", "aria-label": "Drop a photo here, or press Enter to choose one" },
    "Drop a photo here, paste one (Ctrl+V), or press Enter to choose a file.");
  drop.addEventListener("click", () => fileInput.click());
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fileInput.click(); } });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("dragging"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("dragging");
    const file = firstImage(e.dataTransfer?.files);
    if (file) run(file, file.name || "the dropped photo");
  });
  const root = h("div", { class: "predict" });
  const onPaste = (e) => {
    if (!root.isConnected) return document.removeEventListener("paste", onPaste);
    const file = firstImage(e.clipboardData?.files);
    if (file) { e.preventDefault(); run(file, "the pasted photo"); }
  };
  document.addEventListener("paste", onPaste);

  const sampleRow = samples.length
    ? h("div", { class: "predict-samples", role: "group", "aria-label": "Sample photos from the test split" },
      h("p", {}, "Or try a photo of the test split (the model never trained on these):"),
      h("div", { class: "sample-buttons" }, samples.map((s, i) => {
        const b = h("button", { type: "button", class: "sample", "data-group": s.group, "aria-label": `Try sample ${i + 1}: a ${s.group} photo` },
          h("img", { src: s.photo, alt: "" }), h("span", {}, s.group));
        b.addEventListener("click", () => run(fetch(s.photo).then((r) => r.blob()), `the ${s.group} sample`));
        return b;
      })))
    : null;

  const camera = h("div", { class: "camera" });
  if (navigator.mediaDevices?.getUserMedia) {
    const start = h("button", { type: "button" }, "Use the camera");
    start.addEventListener("click", async () => {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        const video = h("video", { autoplay: true, playsinline: true, muted: true, style: { maxWidth: "320px" }, "aria-label": "camera preview" });
        video.srcObject = stream;
        const snap = h("button", { type: "button" }, "Take the photo");
        snap.addEventListener("click", () => {
          const c = document.createElement("canvas");
          c.width = video.videoWidth;
          c.height = video.videoHeight;
          c.getContext("2d").drawImage(video, 0, 0);
          stream.getTracks().forEach((t) => t.stop());
          camera.replaceChildren(start);
          c.toBlob((b) => b && run(b, "the camera's photo"), "image/png");
        });
        camera.replaceChildren(video, h("p", {}, snap));
      } catch (err) {
        camera.append(h("p", { class: "muted" }, `The camera is not available: ${err.message}`));
      }
    });
    camera.append(start);
  }
  root.append(
    trainedOnNote(bundle.trainedOn),
    status,
    backendNote,
    drop,
    h("p", { class: "predict-inputs" },
      h("label", { for: "photo-input" }, "Choose a photo: "), fileInput, " ",
      h("label", { for: "camera-input" }, "or take one: "), cameraInput),
    camera,
    ...(sampleRow ? [sampleRow] : []),
    output);
  return root;
}
