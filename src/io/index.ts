// Files: atomic writes, safetensors, training checkpoints.
export { writeFileAtomic, writeFileAtomicAsync, removeStaleTempFiles, type FileChunks } from './atomic.js';
export { SafetensorsError, MAX_HEADER_BYTES } from './safetensors-format.js';
export {
  serializeSafetensors, saveSafetensors, loadSafetensors, parseSafetensors, readSafetensorsHeader,
  type TensorDict, type SafetensorsContent, type SafetensorsHeader, type LoadOptions,
} from './safetensors.js';
export {
  saveCheckpoint, loadCheckpoint, readCheckpointInfo, checkpointExists, checkpointPaths, removeStaleCheckpointTemps, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
  type HasStateDict, type HasOptimizerState, type OptimizerState, type SaveCheckpointOptions, type LoadCheckpointOptions, type CheckpointPaths,
  type Checkpoint, type CheckpointInfo,
} from './checkpoint.js';
export { exportOnnx, encoderToOnnx, exportModule, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT, type OnnxExportOptions } from './onnx.js';
export { OnnxGraph, serializeModel, readModelInfo } from './onnx-graph.js';
export { writeEmbeddings, readEmbeddings, embeddingFormat, npyRowsPath, EMBEDDING_FORMATS, type EmbeddingRows, type EmbeddingFile, type EmbeddingFormat } from './embedding-files.js';
export { exportWeb, type WebExportOptions, type WebGallery } from './web-export.js';
export {
  saveEncoder, loadEncoder, writeEncoderInfo, ENCODER_FORMAT, ENCODER_JSON, ENCODER_WEIGHTS, type EncoderInfo, type EncoderDescription,
} from './encoder-files.js';
export {
  saveClassifier, loadClassifier, CLASSIFIER_FORMAT, CLASSIFIER_JSON, CLASSIFIER_WEIGHTS, type ClassifierInfo, type ClassifierDescription,
} from './classifier-files.js';
export { saveTextEncoder, loadTextEncoder, isTextEncoder, TEXT_ENCODER_FORMAT, TEXT_ENCODER_JSON, type TextEncoderInfo } from './text-encoder-files.js';
