// The label-efficiency experiments: images (any registered method under each
// protocol, against scratch and transfer) and text, with their default settings, and
// the grid runner both walk their methods x k x seeds on.
export {
  runImageExperiment, pretrainSettingsFor, type ImageExperimentConfig, type ImageExperimentData, type ImageExperimentOptions,
  type ImageExperimentOutput, type FinetuneConfig, type PretrainSettings, type ImageMethod,
} from './image.js';
export { defaultImageConfig, jointEmbeddingPretrain, tilePretextPretrain, maePretrain } from './defaults.js';
export { IMAGE_PRESETS, bestConfig, presetNames, type Preset } from './presets.js';
export { PROTOCOLS, BASELINES, parseMethod, expandMethods, experimentMethodNames, type Protocol, type Baseline, type ParsedMethod } from './protocols.js';
export { meanStd, summarize } from './summary.js';
export { GridRunner, gridSeeds, plannedRuns, type Grid, type Cell, type Evaluation, type FinishedRun, type RunnerOptions } from './runner.js';
export { runTextExperiment, defaultTextConfig, quickTextConfig, type TextExperimentConfig, type TextExperimentOutput } from './text.js';
