export { chartSvg, learningCurveSpec, rocPrSpec, sliceSpec, distributionSpec, groupedBarSpec, lineSpec, trialScoresSpec, type VegaLiteSpec } from './charts.js';
export { renderImageGrid, preparedImagePng, type GridTile, type ImageGridOptions } from './image-grid.js';
