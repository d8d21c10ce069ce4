import * as tf from "./tf.js";

// The browser twin of src/model/backbone-layer.ts and src/model/photo-features.ts: a promoted model built on a
// frozen pretrained backbone names this layer class in its model.json. The backbone's graph, its feature recipe
// (which nodes to run, how to reduce each over height and width) and where its three upsampling targets sit in
// the weights come with the model bundle, from src/model/backbone.ts. A photo's whole view may have any allowed
// shape: the graph is patched for that shape (input placeholder and upsampling targets) and loaded once per shape.
let spec = null; // the bundle's backbone description
let weightsBuffer = null;
const graphs = new Map(); // "HxW" -> Promise<tf.GraphModel>

class PretrainedBackbone extends tf.layers.Layer {
  static className = "AreyouacatPretrainedBackbone";

  constructor(config) {
    super({ name: config.name ?? "backbone", trainable: false });
    this.backbone = config.backbone;
    this.imageSize = config.imageSize;
    this.view = config.view;
    if (spec && this.view !== spec.view) {
      throw new Error(`this model was trained on backbone features of ${this.view ? `the "${this.view}" view` : "the centre square"}, not the "${spec.view}" view: train it again`);
    }
  }

  computeOutputShape(inputShape) {
    return [inputShape[0], spec?.features ?? 0];
  }

  call() {
    throw new Error("a backbone model predicts through predictViews (the backbone for the view's shape, then the head)");
  }

  getConfig() {
    return { ...super.getConfig(), backbone: this.backbone, imageSize: this.imageSize, view: this.view };
  }
}
tf.serialization.registerClass(PretrainedBackbone);

/** Keep the backbone shipped with a model bundle (`bundle.backbone` and its weights file) before loading the model. */
export async function loadBackbone(backbone, weights) {
  spec = backbone;
  weightsBuffer = weights;
  graphs.clear();
  layersNet = null;
  if (spec.kind === "layers") await layersNetwork();
  else await graphFor(backbone.imageSize, backbone.imageSize);
}

// The ImageNet backbone (kind "layers"): one Keras model with a free input height and width, two outputs (the
// recipe's feature map, pooled to the features; the class probabilities, for the zero-shot answer).
let layersNet = null;
function layersNetwork() {
  layersNet ??= tf
    .loadLayersModel(tf.io.fromMemory({ modelTopology: spec.modelTopology, weightSpecs: spec.weightSpecs, weightData: weightsBuffer }))
    .then((full) => tf.model({ inputs: full.inputs, outputs: [full.getLayer(spec.recipe.layer).output, full.getLayer(spec.recipe.probsLayer).output] }));
  return layersNet;
}

/** The backbone's features of RGB 0..255 images, [n, features], for either kind of backbone. */
async function featuresFn(height, width) {
  if (spec.kind === "layers") {
    const net = await layersNetwork();
    // The recipe: the pooled map, then the classifier's cat and dog log-odds (src/model/imagenet-mobilenet.ts).
    const logOdds = (p) => {
      const c = tf.clipByValue(p, 1e-6, 1 - 1e-6);
      return tf.sub(tf.log(c), tf.log(tf.sub(1, c)));
    };
    return (images) => {
      const [maps, out] = net.predict(tf.sub(tf.div(images, 127.5), 1));
      const probs = out.reshape([images.shape[0], -1]);
      const cat = logOdds(tf.sum(tf.gather(probs, spec.recipe.catClasses, 1), 1));
      const dog = logOdds(tf.sum(tf.gather(probs, spec.recipe.dogClasses, 1), 1));
      return tf.concat([maps.mean([1, 2]), tf.stack([cat, dog], 1)], 1);
    };
  }
  const graph = await graphFor(height, width);
  return (images) => {
    const maps = graph.execute(images, spec.recipe.nodes);
    return tf.concat(maps.map((m, i) => (spec.recipe.reducers[i] === "max" ? m.max([1, 2]) : m.mean([1, 2]))), 1);
  };
}

/** Whether the backbone also answers "cat" on its own (the ImageNet classifier's cat classes). */
export function hasZeroShot() {
  return spec?.kind === "layers";
}

/** The ImageNet classifier's own P(cat) of whole views (no trained head): its cat classes, mean over the mirror. */
export async function zeroShotViews(inputs, height, width) {
  const net = await layersNetwork();
  const flat = new Float32Array(inputs.length * height * width * 3);
  inputs.forEach((x, i) => flat.set(x, i * height * width * 3));
  const out = tf.tidy(() => {
    const x = tf.mul(tf.tensor4d(flat, [inputs.length, height, width, 3]), 255);
    const p = (images) => tf.sum(tf.gather(net.predict(tf.sub(tf.div(images, 127.5), 1))[1].reshape([inputs.length, -1]), spec.recipe.catClasses, 1), 1);
    return tf.div(tf.add(p(x), p(tf.reverse(x, 2))), 2);
  });
  const values = Array.from(await out.data());
  out.dispose();
  return values;
}

/** The backbone graph for height x width inputs: the upsampling targets ([height, width], native scale) scaled. */
function graphFor(height, width) {
  const key = `${height}x${width}`;
  let g = graphs.get(key);
  if (!g) {
    const topology = structuredClone(spec.modelTopology);
    const input = topology.node.find((n) => n.op === "Placeholder");
    input.attr.shape = { shape: { dim: [{ size: "-1" }, { size: String(height) }, { size: String(width) }, { size: "3" }] } };
    const data = new Uint8Array(weightsBuffer.byteLength);
    data.set(new Uint8Array(weightsBuffer));
    const view = new DataView(data.buffer);
    for (const u of spec.upsampling) {
      view.setInt32(u.offset, (u.native[0] * height) / spec.nativeSize, true);
      view.setInt32(u.offset + 4, (u.native[1] * width) / spec.nativeSize, true);
    }
    g = tf.loadGraphModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: spec.weightSpecs, weightData: data.buffer }));
    graphs.set(key, g);
  }
  return g;
}

/** The layers after the backbone as a model over feature vectors (shares the weights). */
const heads = new WeakMap();
export function headOf(model) {
  let head = heads.get(model);
  if (!head) {
    const at = model.layers.findIndex((l) => l instanceof PretrainedBackbone);
    if (at < 0) throw new Error("the model has no pretrained backbone");
    const input = tf.input({ shape: [spec.features] });
    let h = input;
    for (const layer of model.layers.slice(at + 1)) h = layer.apply(h);
    head = tf.model({ inputs: input, outputs: h });
    heads.set(model, head);
  }
  return head;
}

/**
 * P(cat) of whole views of one shape (Float32Array of height*width*3 values in [0, 1] each): the mean of the head
 * on the backbone features of each view and of its mirror image, as serving and evaluation compute it.
 */
export async function predictViews(model, inputs, height, width) {
  const features = await featuresFn(height, width);
  const head = headOf(model);
  const flat = new Float32Array(inputs.length * height * width * 3);
  inputs.forEach((x, i) => flat.set(x, i * height * width * 3));
  const out = tf.tidy(() => {
    const x = tf.mul(tf.tensor4d(flat, [inputs.length, height, width, 3]), 255);
    const p = (images) => head.predict(features(images)).reshape([inputs.length]);
    return tf.div(tf.add(p(x), p(tf.reverse(x, 2))), 2);
  });
  const values = Array.from(await out.data());
  out.dispose();
  return values;
}
