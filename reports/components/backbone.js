import * as tf from "@tensorflow/tfjs";

// The browser twin of src/model/backbone-layer.ts: a promoted model built on a frozen pretrained backbone names
// this layer class in its model.json. The backbone's graph and its feature recipe (which nodes to run, how to
// reduce each over height and width) come with the model bundle, from src/model/backbone.ts.
const backbones = new Map(); // input size -> { graph, recipe, features }

class PretrainedBackbone extends tf.layers.Layer {
  static className = "AreyouacatPretrainedBackbone";

  constructor(config) {
    super({ name: config.name ?? "backbone", trainable: false });
    this.backbone = config.backbone;
    this.imageSize = config.imageSize;
  }

  loaded() {
    const b = backbones.get(this.imageSize);
    if (!b) throw new Error(`the ${this.backbone} backbone for ${this.imageSize}px images is not loaded`);
    return b;
  }

  computeOutputShape(inputShape) {
    return [inputShape[0], this.loaded().features];
  }

  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const { graph, recipe } = this.loaded();
    return tf.tidy(() => {
      const maps = graph.execute(tf.mul(x, 255), recipe.nodes);
      return tf.concat(maps.map((m, i) => (recipe.reducers[i] === "max" ? m.max([1, 2]) : m.mean([1, 2]))), 1);
    });
  }

  getConfig() {
    return { ...super.getConfig(), backbone: this.backbone, imageSize: this.imageSize };
  }
}
tf.serialization.registerClass(PretrainedBackbone);

/** Load the backbone shipped with a model bundle (`bundle.backbone` and its weights file) before the model. */
export async function loadBackbone(spec, weights) {
  const graph = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: spec.modelTopology, weightSpecs: spec.weightSpecs, weightData: weights }));
  backbones.set(spec.imageSize, { graph, recipe: spec.recipe, features: spec.features });
}
