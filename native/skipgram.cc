// Skip-gram with negative sampling as one fused loop (word2vec's, Mikolov et al. 2013):
// for each kept centre word, each context word in a random window b in 1..window, the
// context's output vector and K noise words' against the centre's input vector, plain
// SGD on the spot, with lock-free (Hogwild) updates from several threads. The two
// matrices are ordinary libtorch float tensors (the WordTable's weights), written in
// place through their data pointers.
//
// The batched path (src/ssl/methods/skipgram.ts) builds the same pairs as tensors and
// runs a libtorch graph per batch; this loop does the same arithmetic without
// materialising pairs, gathers or sparse gradients.
//
// Every entry checks its inputs (dims, dtypes, devices, contiguity, index ranges, option
// values) before touching memory and throws a JavaScript error otherwise.
#include <napi.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tensor_handles.h"

// The loops below need the vectoriser (the addon builds at -O2).
#pragma GCC optimize("O3")

namespace selfsup {
namespace {

[[noreturn]] void fail(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, "skipgram: " + msg); }

std::string describe(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); i++) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "] " + c10::toString(t.scalar_type()) + (t.device().is_cpu() ? "" : " on " + t.device().str());
}

const at::Tensor& checkedTensor(const Napi::Value& v, const char* name, at::ScalarType dtype, int64_t dims) {
  const at::Tensor& t = tensorFromHandle(v, name);
  Napi::Env env = v.Env();
  if (!t.defined()) fail(env, std::string(name) + " is undefined");
  if (!t.device().is_cpu()) fail(env, std::string(name) + " must be on the CPU, got " + describe(t));
  if (t.scalar_type() != dtype) fail(env, std::string(name) + " must be " + c10::toString(dtype) + ", got " + describe(t));
  if (t.dim() != dims) fail(env, std::string(name) + " must have " + std::to_string(dims) + " dimension(s), got " + describe(t));
  if (!t.is_contiguous()) fail(env, std::string(name) + " must be contiguous, got a strided view " + describe(t));
  return t;
}

double numberOption(const Napi::Object& o, const char* key, double lo, double hi, bool integer) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) fail(o.Env(), std::string("option ") + key + " must be a number");
  double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x) || x < lo || x > hi || (integer && x != std::floor(x))) {
    fail(o.Env(), std::string("option ") + key + " must be " + (integer ? "an integer" : "a number") + " in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(x));
  }
  return x;
}

// The two embedding matrices: float32 [V, D] each, same shape.
struct Tables {
  float* in;
  float* out;
  int64_t vocab;
  int64_t dim;
};

Tables checkedTables(const Napi::CallbackInfo& info) {
  const at::Tensor& in = checkedTensor(info[0], "input vectors", at::kFloat, 2);
  const at::Tensor& out = checkedTensor(info[1], "output vectors", at::kFloat, 2);
  if (in.sizes() != out.sizes()) fail(info.Env(), "input and output vectors must have the same shape, got " + describe(in) + " and " + describe(out));
  if (in.size(0) < 1 || in.size(1) < 1) fail(info.Env(), "the vector tables are empty: " + describe(in));
  // In-place writes that autograd does not see: bump the version counters, so a graph
  // that saved these weights fails loudly in backward instead of using stale values.
  in.unsafeGetTensorImpl()->bump_version();
  out.unsafeGetTensorImpl()->bump_version();
  return {in.data_ptr<float>(), out.data_ptr<float>(), in.size(0), in.size(1)};
}

// splitmix64: a small, well-mixed stream per thread, seeded from (seed, epoch, thread).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1), 24 bits
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32); }
};

uint64_t mixSeed(uint64_t a, uint64_t b, uint64_t c) {
  Rng r(a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xc2b2ae3d27d4eb4fULL ^ (c + 1) * 0x165667b19e3779f9ULL);
  return r.next();
}

// Walker's alias table over the noise weights (unigram^0.75): one draw is one random
// number and one comparison, exact for any vocabulary (word2vec uses a 1e8-entry table).
struct AliasTable {
  std::vector<float> prob;
  std::vector<int32_t> alias;
  int32_t draw(Rng& r) const {
    uint32_t n = static_cast<uint32_t>(prob.size());
    uint64_t x = r.next();
    uint32_t i = static_cast<uint32_t>(((x >> 32) * n) >> 32);
    float u = static_cast<float>(x & 0xffffff) * (1.0f / 16777216.0f);
    return u < prob[i] ? static_cast<int32_t>(i) : alias[i];
  }
};

AliasTable buildAlias(Napi::Env env, const at::Tensor& weights) {
  const int64_t n = weights.size(0);
  const double* w = weights.data_ptr<double>();
  double total = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!std::isfinite(w[i]) || w[i] < 0) fail(env, "noise weights must be finite and non-negative; weight " + std::to_string(i) + " is " + std::to_string(w[i]));
    total += w[i];
  }
  if (!(total > 0)) fail(env, "noise weights sum to zero: no word can be drawn as a negative");
  AliasTable t;
  t.prob.assign(n, 0.0f);
  t.alias.assign(n, 0);
  std::vector<double> scaled(n);
  std::vector<int32_t> small, large;
  for (int64_t i = 0; i < n; i++) {
    scaled[i] = w[i] * n / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<int32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    int32_t s = small.back(); small.pop_back();
    int32_t l = large.back();
    t.prob[s] = static_cast<float>(scaled[s]);
    t.alias[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) { large.pop_back(); small.push_back(l); }
  }
  for (int32_t i : large) { t.prob[i] = 1.0f; t.alias[i] = i; }
  for (int32_t i : small) { t.prob[i] = scaled[i] > 0 ? 1.0f : 0.0f; t.alias[i] = i; }  // rounding leftovers
  // A zero-weight word must never come out: point its slot at a drawable word.
  int32_t anyDrawable = 0;
  while (w[anyDrawable] <= 0) anyDrawable++;
  for (int64_t i = 0; i < n; i++) if (w[i] <= 0 && t.alias[i] == i) { t.prob[i] = 0.0f; t.alias[i] = anyDrawable; }
  return t;
}

// Eight partial sums, so the compiler vectorises the reduction without -ffast-math.
inline float dot(const float* __restrict a, const float* __restrict b, int64_t d) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= d; i += 8) {
    for (int j = 0; j < 8; j++) s[j] += a[i + j] * b[i + j];
  }
  float tail = 0.0f;
  for (; i < d; i++) tail += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail;
}

inline float softplus(float x) { return std::max(x, 0.0f) + std::log1p(std::exp(-std::fabs(x))); }

// One (centre, context) pair and its negatives, word2vec's update: for each target
// g = lr (label - σ(u·v)); the centre's step accumulates g v, each target moves by g u.
// The centre moves once at the end, so every target sees the same u (as the batched
// loss's gradient does). Returns the pair's loss when asked (else 0).
struct PairUpdate {
  int64_t dim;
  std::vector<float> step;  // the centre's accumulated step
  explicit PairUpdate(int64_t d) : dim(d), step(d) {}

  template <typename NextNegative>
  float run(float* __restrict u, float* out, int32_t context, int64_t negatives, float lr, bool skipContextAsNegative,
            bool wantLoss, NextNegative nextNegative) {
    const int64_t d = dim;
    float* __restrict acc = step.data();
    for (int64_t i = 0; i < d; i++) acc[i] = 0.0f;
    float loss = 0.0f;
    for (int64_t k = 0; k <= negatives; k++) {
      int32_t target;
      float label;
      if (k == 0) {
        target = context;
        label = 1.0f;
      } else {
        target = nextNegative();
        label = 0.0f;
        if (skipContextAsNegative && target == context) continue;
      }
      float* __restrict v = out + static_cast<int64_t>(target) * d;
      float f = dot(u, v, d);
      float sig = 1.0f / (1.0f + std::exp(-f));
      if (wantLoss) loss += label > 0 ? softplus(-f) : softplus(f);
      float g = lr * (label - sig);
      for (int64_t i = 0; i < d; i++) {
        acc[i] += g * v[i];
        v[i] += g * u[i];
      }
    }
    for (int64_t i = 0; i < d; i++) u[i] += acc[i];
    return loss;
  }
};

// ---------------------------------------------------------------------------
// skipgramTrainEpoch(input, output, ids int32 [N], offsets int32 [docs + 1],
//   keep float32 [V] | null, noise float64 [V], options) -> { words, keptWords, pairs, loss }
//
// One epoch over the corpus. Documents are visited in a fresh random order (when
// options.shuffle) and split into `threads` slices of about equal word counts; each
// thread subsamples (keep[w]), draws its windows and negatives, and updates the shared
// tables without locks. The learning rate decays linearly with the corpus words read,
// from lr (1 - progressFrom) to lr (1 - progressTo), floored at lr * minLrFraction, as
// word2vec's alpha does over its iterations. `loss` is the mean pair loss over every
// 16th centre position (computing it everywhere costs a log per target).

struct EpochOptions {
  int64_t window, negatives, threads, dropId;
  double lr, progressFrom, progressTo, minLrFraction;
  uint64_t seed, epoch;
  bool shuffle;
};

struct ThreadResult {
  int64_t kept = 0, pairs = 0, lossPairs = 0;
  double loss = 0;
};

struct Corpus {
  const int32_t* ids;
  const int32_t* offsets;
  int64_t docs;
  const float* keep;
};

constexpr int64_t kLrUpdateEvery = 4096;  // words between learning-rate updates (word2vec: 10,000)

// The hot loop; cloned for AVX2 machines (chosen at load time), SSE2 otherwise.
__attribute__((target_clones("avx2", "default")))
void trainSlice(const Tables& tb, const Corpus& c, const AliasTable& noise, const EpochOptions& o, const int32_t* docs, int64_t nDocs,
                int64_t epochWords, std::atomic<int64_t>* wordsRead, Rng rng, ThreadResult* result) {
  PairUpdate update(tb.dim);
  std::vector<int32_t> kept;
  std::vector<uint8_t> reach;
  ThreadResult r;
  int64_t sinceLrUpdate = 0;
  auto lrNow = [&]() {
    double done = static_cast<double>(wordsRead->load(std::memory_order_relaxed)) / std::max<int64_t>(1, epochWords);
    double progress = o.progressFrom + (o.progressTo - o.progressFrom) * std::min(1.0, done);
    return static_cast<float>(o.lr * std::max(o.minLrFraction, 1.0 - progress));
  };
  float lr = lrNow();
  auto nextNegative = [&]() { return noise.draw(rng); };
  for (int64_t di = 0; di < nDocs; di++) {
    const int32_t doc = docs[di];
    const int32_t from = c.offsets[doc], to = c.offsets[doc + 1];
    kept.clear();
    for (int32_t i = from; i < to; i++) {
      int32_t w = c.ids[i];
      if (w == o.dropId) continue;
      if (c.keep && rng.uniform() >= c.keep[w]) continue;
      kept.push_back(w);
    }
    sinceLrUpdate += to - from;
    if (sinceLrUpdate >= kLrUpdateEvery) {
      wordsRead->fetch_add(sinceLrUpdate, std::memory_order_relaxed);
      sinceLrUpdate = 0;
      lr = lrNow();
    }
    const int64_t n = static_cast<int64_t>(kept.size());
    r.kept += n;
    for (int64_t i = 0; i < n; i++) {
      const int64_t b = 1 + rng.below(static_cast<uint32_t>(o.window));
      const int64_t lo = std::max<int64_t>(0, i - b), hi = std::min<int64_t>(n - 1, i + b);
      float* u = tb.in + static_cast<int64_t>(kept[i]) * tb.dim;
      const bool wantLoss = (i & 15) == 0;
      for (int64_t j = lo; j <= hi; j++) {
        if (j == i) continue;
        float l = update.run(u, tb.out, kept[j], o.negatives, lr, true, wantLoss, nextNegative);
        r.pairs++;
        if (wantLoss) { r.loss += l; r.lossPairs++; }
      }
    }
  }
  wordsRead->fetch_add(sinceLrUpdate, std::memory_order_relaxed);
  *result = r;
}

Napi::Value TrainEpoch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 7) fail(env, "skipgramTrainEpoch expects (input, output, ids, offsets, keep | null, noise, options)");
  Tables tb = checkedTables(info);
  const at::Tensor& ids = checkedTensor(info[2], "ids", at::kInt, 1);
  const at::Tensor& offsets = checkedTensor(info[3], "offsets", at::kInt, 1);
  const at::Tensor* keep = info[4].IsNull() || info[4].IsUndefined() ? nullptr : &checkedTensor(info[4], "keep", at::kFloat, 1);
  const at::Tensor& noiseWeights = checkedTensor(info[5], "noise", at::kDouble, 1);
  if (!info[6].IsObject()) fail(env, "options must be an object");
  Napi::Object opt = info[6].As<Napi::Object>();

  const int64_t V = tb.vocab, N = ids.size(0), docs = offsets.size(0) - 1;
  if (docs < 0) fail(env, "offsets must hold at least one entry (0)");
  if (keep && keep->size(0) != V) fail(env, "keep must have one entry per word (" + std::to_string(V) + "), got " + describe(*keep));
  if (noiseWeights.size(0) != V) fail(env, "noise must have one weight per word (" + std::to_string(V) + "), got " + describe(noiseWeights));
  const int32_t* id = ids.data_ptr<int32_t>();
  const int32_t* off = offsets.data_ptr<int32_t>();
  for (int64_t i = 0; i < N; i++) {
    if (id[i] < 0 || id[i] >= V) fail(env, "ids[" + std::to_string(i) + "] = " + std::to_string(id[i]) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
  }
  if (off[0] != 0 || off[docs] != N) fail(env, "offsets must start at 0 and end at the number of ids (" + std::to_string(N) + ")");
  for (int64_t d = 0; d < docs; d++) {
    if (off[d + 1] < off[d]) fail(env, "offsets must not decrease (offsets[" + std::to_string(d + 1) + "] < offsets[" + std::to_string(d) + "])");
  }
  if (keep) {
    const float* k = keep->data_ptr<float>();
    for (int64_t i = 0; i < V; i++) if (!(k[i] >= 0 && k[i] <= 1)) fail(env, "keep probabilities must lie in [0, 1]; keep[" + std::to_string(i) + "] is " + std::to_string(k[i]));
  }

  EpochOptions o;
  o.window = static_cast<int64_t>(numberOption(opt, "window", 1, 255, true));
  o.negatives = static_cast<int64_t>(numberOption(opt, "negatives", 1, 1000, true));
  o.threads = static_cast<int64_t>(numberOption(opt, "threads", 1, 1024, true));
  o.dropId = static_cast<int64_t>(numberOption(opt, "dropId", -1, static_cast<double>(V - 1), true));
  o.lr = numberOption(opt, "lr", 0, 1e3, false);
  o.progressFrom = numberOption(opt, "progressFrom", 0, 1, false);
  o.progressTo = numberOption(opt, "progressTo", o.progressFrom, 1, false);
  o.minLrFraction = numberOption(opt, "minLrFraction", 0, 1, false);
  o.seed = static_cast<uint64_t>(numberOption(opt, "seed", 0, 9007199254740991.0, true));
  o.epoch = static_cast<uint64_t>(numberOption(opt, "epoch", 0, 1e9, true));
  Napi::Value sh = opt.Get("shuffle");
  if (!sh.IsBoolean()) fail(env, "option shuffle must be a boolean");
  o.shuffle = sh.As<Napi::Boolean>().Value();

  AliasTable noise = buildAlias(env, noiseWeights);
  Corpus c{id, off, docs, keep ? keep->data_ptr<float>() : nullptr};

  // The epoch's document order, then slices of about equal word counts.
  std::vector<int32_t> order(docs);
  for (int64_t d = 0; d < docs; d++) order[d] = static_cast<int32_t>(d);
  if (o.shuffle) {
    Rng r(mixSeed(o.seed, o.epoch, 0));
    for (int64_t d = docs - 1; d > 0; d--) std::swap(order[d], order[r.below(static_cast<uint32_t>(d + 1))]);
  }
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(o.threads, std::max<int64_t>(1, docs)));
  std::vector<int64_t> cut(threads + 1, docs);
  cut[0] = 0;
  {
    int64_t words = 0, t = 1;
    for (int64_t d = 0; d < docs && t < threads; d++) {
      words += off[order[d] + 1] - off[order[d]];
      if (words * threads >= N * t) cut[t++] = d + 1;
    }
  }
  std::atomic<int64_t> wordsRead{0};
  std::vector<ThreadResult> results(threads);
  auto work = [&](int64_t t) {
    trainSlice(tb, c, noise, o, order.data() + cut[t], cut[t + 1] - cut[t], N, &wordsRead, Rng(mixSeed(o.seed, o.epoch, t + 1)), &results[t]);
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (int64_t t = 0; t < threads; t++) pool.emplace_back(work, t);
    for (auto& th : pool) th.join();
  }
  ThreadResult sum;
  for (const auto& r : results) { sum.kept += r.kept; sum.pairs += r.pairs; sum.loss += r.loss; sum.lossPairs += r.lossPairs; }
  Napi::Object res = Napi::Object::New(env);
  res.Set("words", Napi::Number::New(env, static_cast<double>(N)));
  res.Set("keptWords", Napi::Number::New(env, static_cast<double>(sum.kept)));
  res.Set("pairs", Napi::Number::New(env, static_cast<double>(sum.pairs)));
  res.Set("loss", Napi::Number::New(env, sum.lossPairs ? sum.loss / sum.lossPairs : NAN));
  return res;
}

// ---------------------------------------------------------------------------
// skipgramTrainPairs(input, output, centres int64 [B], contexts int64 [B],
//   negatives int64 [B, K], lr) -> mean loss
//
// Given pairs and negatives, in order, on one thread, with a fixed rate and no negative
// skipped: the same update as the epoch loop, for checking it against the batched path.
Napi::Value TrainPairs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 6) fail(env, "skipgramTrainPairs expects (input, output, centres, contexts, negatives, lr)");
  Tables tb = checkedTables(info);
  const at::Tensor& centres = checkedTensor(info[2], "centres", at::kLong, 1);
  const at::Tensor& contexts = checkedTensor(info[3], "contexts", at::kLong, 1);
  const at::Tensor& negatives = checkedTensor(info[4], "negatives", at::kLong, 2);
  if (!info[5].IsNumber()) fail(env, "lr must be a number");
  const double lr = info[5].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(lr) || lr < 0) fail(env, "lr must be finite and non-negative, got " + std::to_string(lr));
  const int64_t B = centres.size(0), K = negatives.size(1), V = tb.vocab;
  if (contexts.size(0) != B || negatives.size(0) != B) fail(env, "centres, contexts and negatives must have the same length, got " + describe(centres) + ", " + describe(contexts) + ", " + describe(negatives));
  if (K < 1) fail(env, "negatives must hold at least one word per pair, got " + describe(negatives));
  const int64_t* ce = centres.data_ptr<int64_t>();
  const int64_t* co = contexts.data_ptr<int64_t>();
  const int64_t* ne = negatives.data_ptr<int64_t>();
  auto inRange = [&](const int64_t* p, int64_t n, const char* what) {
    for (int64_t i = 0; i < n; i++) if (p[i] < 0 || p[i] >= V) fail(env, std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(p[i]) + " is outside the vocabulary [0, " + std::to_string(V) + ")");
  };
  inRange(ce, B, "centres");
  inRange(co, B, "contexts");
  inRange(ne, B * K, "negatives");
  PairUpdate update(tb.dim);
  double loss = 0;
  for (int64_t p = 0; p < B; p++) {
    int64_t k = 0;
    const int64_t* row = ne + p * K;
    loss += update.run(tb.in + ce[p] * tb.dim, tb.out, static_cast<int32_t>(co[p]), K, static_cast<float>(lr), false, true,
                       [&]() { return static_cast<int32_t>(row[k++]); });
  }
  return Napi::Number::New(env, B ? loss / B : 0.0);
}


}  // namespace

// Called from the addon's Init (native/selfsup.cc), which owns the tensor handles.
void RegisterSkipGram(Napi::Env env, Napi::Object exports) {
  exports.Set("skipgramTrainEpoch", Napi::Function::New(env, Guarded<TrainEpoch>));
  exports.Set("skipgramTrainPairs", Napi::Function::New(env, Guarded<TrainPairs>));
}

}  // namespace selfsup
