// selfsup.text: self-supervised learning on text. Corpora (WordNet glosses, fortunes,
// the user's files), tokenizers (a word vocabulary, byte-pair encoding), skip-gram
// word vectors, a masked-token transformer, and few-label classifiers.
export { type TextCorpus, CorpusError, labelIndices, subsetCorpus } from './corpus.js';
export {
  readWordNet, parseWordNetLine, splitGloss, readLexnames, synsetText, glossCorpus,
  DEFAULT_WORDNET_DIR, STANDARD_LEXNAMES, WORDNET_POS, type Synset, type WordNetPos,
} from './wordnet.js';
export { readFortunes, parseFortunes, fortuneFiles, DEFAULT_FORTUNE_DIR, type FortuneOptions } from './fortunes.js';
export { readTextCorpus, parseTsv, type UserCorpusOptions } from './user-corpus.js';
export { splitWords } from './words.js';
export { WordVocab, UNK, type WordVocabJson, type WordVocabOptions, type EncodedCorpus } from './vocab.js';
export {
  BpeTokenizer, SPECIAL_TOKENS, PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID,
  type BpeJson, type BpeTrainOptions, type EncodeOptions,
} from './bpe.js';
export { noiseDistribution, AliasSampler } from './noise.js';
export { SampledSoftmax } from './sampled-softmax.js';
export { keepProbabilities } from './subsample.js';
export { skipGramPairs, type PairOptions, type SkipGramPairs } from './pairs.js';
export { SparseAdam, isSparse, type SparseAdamOptions } from './sparse-adam.js';
export { BudgetLinearDecayLR, type BudgetDecayOptions } from './budget-schedule.js';
export {
  SkipGram, SkipGramBatch, skipGramBatches, trainSkipGram, defaultSkipGramConfig,
  type SkipGramConfig, type SkipGramTrainOptions, type SkipGramTrainResult,
} from './skipgram.js';
export { WordVectors, loadWordVectors, nearestNeighbors, pairSimilarities, type Neighbor, type SkipGramVectors } from './word-vectors.js';
export { synonymTest, rocAuc, type WordPair, type SynonymTest, type SynonymTestOptions } from './synonyms.js';
export { maskTokens, frequencyMaskWeights, IGNORE_INDEX, type MaskingOptions, type MaskedTokens } from './masking.js';
export { padSequences, lengthBucketedBatches, bucketedBatchCount, TensorBatch } from './sequences.js';
export {
  TransformerTextEncoder, MaskedLanguageModel, pretrainMaskedLM, encodeTexts, encodeForModel, maskedTokenAccuracy,
  defaultMlmConfig, tokenCounts, type EncoderConfig, type MlmConfig, type MlmPretrainOptions, type MlmPretrainResult,
} from './mlm.js';
export { embeddingBag, wordIdMatrix, averageWordVectors } from './features.js';
export {
  BagOfWordsClassifier, bagOfWordsInputs, TextClassifier, trainClassifier, classifierAccuracy,
  type SequenceData, type ClassifierTrainOptions,
} from './classify.js';
