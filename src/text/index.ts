// selfsup.text: self-supervised learning on text, gathered in one namespace. The
// pieces live with their kind: corpora and tokenizers in data/text/, the models in
// models/, the optimizer and schedule in optim/, the methods (skip-gram, masked LM, ELECTRA, SimCSE),
// their losses and their masking transform in ssl/. What stays here is text-only
// evaluation and features: word vectors, the synonym test, document features, and
// few-label classification.
export { type TextCorpus, CorpusError, labelIndices, subsetCorpus } from '../data/text/corpus.js';
export {
  readWordNet, parseWordNetLine, splitGloss, readLexnames, synsetText, glossCorpus,
  DEFAULT_WORDNET_DIR, STANDARD_LEXNAMES, WORDNET_POS, type Synset, type WordNetPos,
} from '../data/text/wordnet.js';
export { readFortunes, parseFortunes, fortuneFiles, DEFAULT_FORTUNE_DIR, type FortuneOptions } from '../data/text/fortunes.js';
export { readTextCorpus, parseTsv, type UserCorpusOptions } from '../data/text/user-corpus.js';
export { splitWords } from '../data/text/words.js';
export { WordVocab, UNK, type WordVocabJson, type WordVocabOptions, type EncodedCorpus } from '../data/text/vocab.js';
export {
  BpeTokenizer, SPECIAL_TOKENS, PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID,
  type BpeJson, type BpeTrainOptions, type EncodeOptions,
} from '../data/text/bpe.js';
export { noiseDistribution, AliasSampler } from '../data/text/noise.js';
export { SampledSoftmax } from '../ssl/losses/sampled-softmax.js';
export { negativeSamplingLoss } from '../ssl/losses/negative-sampling.js';
export { keepProbabilities } from '../data/text/subsample.js';
export { skipGramPairs, type PairOptions, type SkipGramPairs } from '../data/text/pairs.js';
export { SkipGramBatch, SkipGramSource, skipGramBatches, type SkipGramBatchOptions } from '../data/text/skipgram-batches.js';
export { SparseAdam, isSparse, type SparseAdamOptions } from '../optim/sparse-adam.js';
export { BudgetLinearDecayLR, type BudgetDecayOptions } from '../optim/budget-schedule.js';
export { WordTable } from '../models/word-table.js';
export {
  SkipGram, SkipGramNegativeSampling, skipGramLoss, trainSkipGram, defaultSkipGramConfig,
  type SkipGramConfig, type SkipGramOptions, type SkipGramTrainOptions, type SkipGramTrainResult,
} from '../ssl/methods/skipgram.js';
export { WordVectors, loadWordVectors, nearestNeighbors, pairSimilarities, type Neighbor, type SkipGramVectors } from './word-vectors.js';
export { synonymTest, rocAuc, type WordPair, type SynonymTest, type SynonymTestOptions } from './synonyms.js';
export { maskTokens, frequencyMaskWeights, IGNORE_INDEX, type MaskingOptions, type MaskedTokens } from '../ssl/transforms/token-mask.js';
export { padSequences, lengthBucketedBatches, bucketedBatchCount, TensorBatch, SequenceBatchSource } from '../data/text/sequences.js';
export { TransformerTextEncoder, type EncoderConfig } from '../models/text-transformer.js';
export {
  MaskedLanguageModel, MaskedTokenSource, pretrainMaskedLM, maskedLmData, maskedTokenAccuracy,
  defaultMlmConfig, tokenCounts, type MlmConfig, type MlmPretrainOptions, type MlmPretrainResult, type MaskedLmData,
} from '../ssl/methods/masked-lm.js';
export {
  Electra, ElectraGenerator, pretrainElectra, electraSource, defaultElectraConfig, generatorSizes,
  type ElectraConfig, type ElectraPretrainOptions, type ElectraPretrainResult,
} from '../ssl/methods/electra.js';
export {
  SimCSE, pretrainSimCse, sentenceData, defaultSimCseConfig, type SimCseConfig, type SimCseValidation, type SimCsePretrainOptions, type SimCsePretrainResult,
} from '../ssl/methods/simcse.js';
export { replacedTokenLoss } from '../ssl/losses/replaced-token.js';
export { embeddingBag } from '../tensor/functional.js';
export { wordIdMatrix, averageWordVectors, encodeTexts, encodeForModel } from './features.js';
export { BagOfWordsClassifier, TextClassifier } from '../models/text-classifier.js';
export { bagOfWordsInputs, trainClassifier, classifierAccuracy, type SequenceData, type ClassifierTrainOptions } from './classify.js';
