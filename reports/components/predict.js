import * as tf from "@tensorflow/tfjs";
import { h, fmt, emptyState } from "./dom.js";
import { loadBackbone } from "./backbone.js";
import { FEEDBACK_FORM, feedbackFormData } from "./feedback-form.js";
import { prepareRgb, rgbaToRgb, scaleToUnit, modelRescalesItself, modelImageSize, occlusionMap } from "./preprocess.js";

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

/** The photo's model crop with the occlusion map over it: red = supports "cat", blue = argues against. */
function drawHeatmap(canvas, bitmap, crop, map) {
  const side = 320;
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, crop.x, crop.y, crop.side, crop.side, 0, 0, side, side);
  const max = Math.max(1e-6, ...map.drops.map(Math.abs));
  const cell = side / map.grid;
  map.drops.forEach((d, i) => {
    const gx = i % map.grid, gy = Math.floor(i / map.grid);
    const a = Math.min(0.65, (Math.abs(d) / max) * 0.65);
    ctx.fillStyle = d >= 0 ? `rgba(230, 30, 30, ${a})` : `rgba(30, 90, 230, ${a})`;
    ctx.fillRect(gx * cell, gy * cell, cell, cell);
  });
  canvas.dataset.heatmap = "drawn";
}

/** Is the page served by the project's server? Its /api/health answers JSON (503 while no model is loaded). */
async function serverAvailable() {
  try {
    const res = await fetch("/api/health", { headers: { accept: "application/json" } });
    if (!res.ok && res.status !== 503) return false;
    const body = await res.json();
    return typeof body?.status === "string";
  } catch {
    return false;
  }
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

function feedbackForm(result) {
  const status = h("p", { class: "muted feedback-status" });
  const consent = h("input", { type: "checkbox", id: "feedback-consent" });
  const send = async (correct) => {
    if (!consent.checked) return;
    status.textContent = "Sending…";
    const [cat, notCat] = FEEDBACK_FORM.answers;
    const prediction = result.probability >= result.threshold ? cat : notCat;
    const answer = correct ? prediction : prediction === cat ? notCat : cat;
    try {
      const form = feedbackFormData({ photo: await photoBlob(result.bitmap), prediction, answer, probability: result.probability, version: result.version });
      const res = await fetch(FEEDBACK_FORM.route, { method: "POST", body: form });
      status.textContent = res.ok ? "Thank you: your answer was recorded." : `The server refused the feedback (${res.status}).`;
    } catch (err) {
      status.textContent = `Could not send the feedback: ${err.message}`;
    }
  };
  const yes = h("button", { type: "button", disabled: true, onclick: () => send(true) }, "Yes, that is right");
  const no = h("button", { type: "button", disabled: true, onclick: () => send(false) }, "No, that is wrong");
  consent.addEventListener("change", () => { yes.disabled = no.disabled = !consent.checked; });
  return h("div", { class: "feedback card" },
    h("h3", {}, "Was this right?"),
    h("label", {}, consent, " I agree to send this photo and my answer to this server, where they are stored to check and improve the model."),
    h("p", {}, yes, " ", no), status);
}

export function renderPredict(bundle, weightsPromise, backboneWeightsPromise = null) {
  if (!bundle) return emptyState("no model has been promoted, so there is nothing to run in the browser.");
  const size = modelImageSize(bundle.modelTopology) ?? bundle.card.imageSize;
  const threshold = bundle.card.threshold;
  const rescales = modelRescalesItself(bundle.modelTopology);
  const modelPromise = Promise.resolve(weightsPromise).then((w) => loadModel(bundle, w, backboneWeightsPromise));
  // Each occlusion cell is one more pass of the model: fewer, larger cells for the heavier backbone models.
  const grid = bundle.backbone ? 4 : 8;
  const output = h("div", { class: "predict-output" });
  const status = h("p", { class: "muted predict-status" }, "Loading the model…");
  modelPromise.then(() => { status.textContent = `Model version ${bundle.card.version} ready (${size}×${size} input, threshold ${fmt(threshold)}).`; },
    (err) => { status.textContent = `The model could not be loaded: ${err.message}`; console.error(err); });

  async function run(blob) {
    output.replaceChildren(h("p", { class: "muted" }, "Thinking…"));
    try {
      const model = await modelPromise;
      const { bitmap, rgb, width, height } = await decode(blob);
      const { pixels, crop } = prepareRgb(rgb, width, height, size);
      const input = rescales ? Float32Array.from(pixels) : scaleToUnit(pixels);
      const predict = predictor(model, size);
      const map = await occlusionMap(input, size, predict, { grid, fill: rescales ? 127.5 : 0.5 });
      const probability = map.base;
      const isCat = probability >= threshold;
      const canvas = h("canvas", { class: "heatmap", "aria-label": "explanation heatmap" });
      drawHeatmap(canvas, bitmap, crop, map);
      const result = { probability, threshold, version: bundle.card.version, bitmap };
      output.replaceChildren(
        h("p", {}, h("span", { class: "prob", "data-probability": probability }, `P(cat) = ${probability.toFixed(3)}`),
          " ", h("strong", { class: "verdict" }, isCat ? "a cat" : "not a cat"), ` (threshold ${fmt(threshold)})`),
        h("div", { class: "predict-stage" }, canvas),
        h("p", { class: "muted" }, `What the model looked at: the square it sees, with each of ${grid}×${grid} cells greyed out in turn. Red cells lowered P(cat) when hidden (they support “cat”), blue ones raised it.`),
        h("div", { class: "feedback-slot" }));
      if (await serverAvailable()) output.querySelector(".feedback-slot").append(feedbackForm(result));
    } catch (err) {
      output.replaceChildren(h("p", {}, `Could not read this photo: ${err.message}`));
      console.error(err);
    }
  }

  const fileInput = h("input", { type: "file", accept: "image/*", capture: "environment", id: "photo-input" });
  fileInput.addEventListener("change", () => fileInput.files?.[0] && run(fileInput.files[0]));
  const camera = h("div", { class: "camera" });
  if (navigator.mediaDevices?.getUserMedia) {
    const start = h("button", { type: "button" }, "Use the camera");
    start.addEventListener("click", async () => {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        const video = h("video", { autoplay: true, playsinline: true, muted: true, style: { maxWidth: "320px" } });
        video.srcObject = stream;
        const snap = h("button", { type: "button" }, "Take the photo");
        snap.addEventListener("click", () => {
          const c = document.createElement("canvas");
          c.width = video.videoWidth;
          c.height = video.videoHeight;
          c.getContext("2d").drawImage(video, 0, 0);
          stream.getTracks().forEach((t) => t.stop());
          camera.replaceChildren(start);
          c.toBlob((b) => b && run(b), "image/png");
        });
        camera.replaceChildren(video, h("p", {}, snap));
      } catch (err) {
        camera.append(h("p", { class: "muted" }, `The camera is not available: ${err.message}`));
      }
    });
    camera.append(start);
  }
  return h("div", {},
    status,
    h("p", {}, h("label", { for: "photo-input" }, "Choose a photo: "), fileInput),
    camera,
    output);
}
