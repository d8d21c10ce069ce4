export {
  chartSvg, learningCurveSpec, rocPrSpec, sliceSpec, distributionSpec, groupedBarSpec, lineSpec, trialScoresSpec, binnedHistogramSpec, barSpec,
  type VegaLiteSpec, type BinnedDistribution,
} from './charts.js';
export { renderImageGrid, preparedImagePng, type GridTile, type ImageGridOptions } from './image-grid.js';
export { markdownTable } from './markdown-table.js';
