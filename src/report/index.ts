// Public API of the report module: plain data in, a self-contained HTML report out.
export type { CurvePoint, EmbeddingSet, MethodResult, ReportData, RotationSample, MaeSample, SimilarImages, TrainingCurve, WordMap } from './types.js';
export { ReportInputError } from './types.js';
export { renderReport, writeReport, chartPng, type WrittenReport } from './html.js';
export {
  labelEfficiencyChart, trainingCurvesChart, embeddingChart, wordMapChart, noDataChart, renderSvg, type Chart, type VegaLiteSpec,
} from './charts.js';
export { embed2d, pca2d, seededRandom, sampleIndices, type Map2d, type MapOptions } from './umap.js';
export { rotationGrid, maeGrid, encodePng, pngDataUri, ROTATION_DEGREES } from './images.js';
export { resultsJson } from './json.js';
export { escapeHtml } from './escape.js';
export { similarGrid, renderSimilarPage, SIMILAR_CSS, type SimilarRow, type Picture } from './similar-page.js';
