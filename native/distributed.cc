// Data-parallel training on libtorch's own c10d: a TCPStore for the rendezvous and
// ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA builds) for the collectives, the
// engine under PyTorch's DistributedDataParallel.
//
// Collectives start at once and hand back a work handle; `distWait` blocks for it
// (bounded by the group's timeout), `distWaitAsync` waits on a libuv worker thread
// and resolves a promise, so the event loop (and a Ctrl-C handler) keeps running.
// Setting up the group blocks on peers, so it only exists as a promise. Every c10d
// or Gloo error (a peer gone, a timeout, a port in use) becomes a JavaScript Error.
#include <napi.h>
#include <torch/torch.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef SELFSUP_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor_handles.h"

namespace selfsup {
namespace {

using std::chrono::milliseconds;

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  int rank = 0;
  int size = 1;
  milliseconds timeout{0};
  std::string backend;
};

// Groups by id: the autograd function below finds its group from an integer it can
// save in its context. A group leaves only through distDestroy (see GroupFinalizer).
std::mutex g_groups_mutex;
std::unordered_map<int64_t, std::shared_ptr<Group>> g_groups;
int64_t g_next_group = 1;

constexpr uint32_t kGroupMagic = 0x6d0c10d1;
constexpr uint32_t kWorkMagic = 0x6d0c10d2;

struct GroupBox {
  uint32_t magic = kGroupMagic;
  int64_t id = 0;
};

struct WorkBox {
  uint32_t magic = kWorkMagic;
  c10::intrusive_ptr<c10d::Work> work;
  std::shared_ptr<Group> group;
  // all-gather: one output per rank, concatenated along dim 0 once the work is done.
  std::vector<std::vector<at::Tensor>> gathered;
  bool isGather = false;
};

std::shared_ptr<Group> findGroup(int64_t id) {
  std::lock_guard<std::mutex> lock(g_groups_mutex);
  auto it = g_groups.find(id);
  return it == g_groups.end() ? nullptr : it->second;
}

std::shared_ptr<Group> groupOf(const Napi::Value& v) {
  if (v.IsExternal()) {
    auto* box = v.As<Napi::External<GroupBox>>().Data();
    if (box->magic == kGroupMagic) {
      auto g = findGroup(box->id);
      if (!g) throw Napi::Error::New(v.Env(), "the process group was destroyed");
      return g;
    }
  }
  throw Napi::TypeError::New(v.Env(), "expected a process group handle");
}

WorkBox* workOf(const Napi::Value& v) {
  if (v.IsExternal()) {
    auto* box = v.As<Napi::External<WorkBox>>().Data();
    if (box->magic == kWorkMagic) return box;
  }
  throw Napi::TypeError::New(v.Env(), "expected a work handle");
}

std::vector<at::Tensor> tensorsOf(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    const at::Tensor& t = tensorFromHandle(arr.Get(i), what);
    if (!t.is_contiguous()) throw Napi::Error::New(v.Env(), std::string(what) + ": tensors must be contiguous");
    out.push_back(t);
  }
  return out;
}

// Waits for `work` at most the group's timeout; throws what the work threw.
void waitFor(const c10::intrusive_ptr<c10d::Work>& work, const Group& g) {
  work->wait(g.timeout);
}

at::Tensor gatheredResult(WorkBox* box) { return at::cat(box->gathered.at(0), 0); }

// ---------------------------------------------------------------------------
// Setting up a group: the store's rendezvous and the backend's connections both
// wait for every peer, so this runs on a worker thread behind a promise.

struct InitConfig {
  std::string backend;
  std::string host;
  std::string socketInterface;  // GLOO_SOCKET_IFNAME, when set
  int port = 0;
  int rank = 0;
  int size = 1;
  milliseconds timeout{0};
};

std::shared_ptr<::gloo::transport::Device> glooDevice(const InitConfig& c) {
  if (!c.socketInterface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(c.socketInterface);
  // One machine: stay on loopback, whatever the hostname resolves to.
  if (c.host == "127.0.0.1" || c.host == "localhost") return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Every rank checks that all agree on the world size and that no rank started twice,
// so a wrong WORLD_SIZE or RANK is an error that says so, not a timeout.
void checkMembership(c10d::Store& store, const InitConfig& c) {
  auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  auto text = [](const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); };
  if (store.add("selfsup/claim/" + std::to_string(c.rank), 1) > 1) {
    throw std::runtime_error("rank " + std::to_string(c.rank) + " was started twice (each process needs its own RANK)");
  }
  store.set("selfsup/world/" + std::to_string(c.rank), bytes(std::to_string(c.size)));
  if (c.rank == 0) return;
  std::string rootSize = text(store.get("selfsup/world/0"));
  if (rootSize != std::to_string(c.size)) {
    throw std::runtime_error("rank " + std::to_string(c.rank) + " has WORLD_SIZE=" + std::to_string(c.size) +
                             " but rank 0 has WORLD_SIZE=" + rootSize);
  }
}

void checkMembersAtRoot(c10d::Store& store, const InitConfig& c) {
  auto text = [](const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); };
  for (int r = 1; r < c.size; r++) {
    std::string theirs = text(store.get("selfsup/world/" + std::to_string(r)));
    if (theirs != std::to_string(c.size)) {
      throw std::runtime_error("rank " + std::to_string(r) + " has WORLD_SIZE=" + theirs + " but rank 0 has WORLD_SIZE=" +
                               std::to_string(c.size));
    }
  }
}

class InitWorker : public Napi::AsyncWorker {
 public:
  InitWorker(Napi::Env env, InitConfig c) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), c_(std::move(c)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(c_.port);
      so.isServer = c_.rank == 0;
      so.numWorkers = static_cast<size_t>(c_.size);
      so.waitWorkers = true;
      so.timeout = c_.timeout;
      auto tcp = c10::make_intrusive<c10d::TCPStore>(c_.host, so);
      checkMembership(*tcp, c_);
      if (c_.rank == 0) checkMembersAtRoot(*tcp, c_);
      auto group = std::make_shared<Group>();
      group->store = tcp;
      group->rank = c_.rank;
      group->size = c_.size;
      group->timeout = c_.timeout;
      group->backend = c_.backend;
      auto prefixed = c10::make_intrusive<c10d::PrefixStore>("selfsup/" + c_.backend, tcp);
      if (c_.backend == "gloo") {
        auto opts = c10d::ProcessGroupGloo::Options::create(c_.timeout);
        opts->devices.push_back(glooDevice(c_));
        // Two threads let one bucket's all-reduce overlap the next one's start.
        opts->threads = 2;
        group->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, c_.rank, c_.size, opts);
      } else if (c_.backend == "nccl") {
#ifdef SELFSUP_WITH_NCCL
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = c_.timeout;
        group->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, c_.rank, c_.size, opts);
#else
        throw std::runtime_error("backend 'nccl' needs the addon built against a CUDA libtorch (LIBTORCH=...); this build has only 'gloo'");
#endif
      } else {
        throw std::runtime_error("unknown backend '" + c_.backend + "' (expected 'gloo' or 'nccl')");
      }
      std::lock_guard<std::mutex> lock(g_groups_mutex);
      id_ = g_next_group++;
      g_groups[id_] = group;
    } catch (const std::exception& e) {
      SetError(errorText(e));
    }
  }

  void OnOK() override {
    auto* box = new GroupBox();
    box->id = id_;
    // A collected group handle is not destroyed: destroying a Gloo group waits for its
    // in-flight collectives, which would stall GC or exit. distDestroy frees it.
    deferred_.Resolve(Napi::External<GroupBox>::New(Env(), box, [](Napi::Env, GroupBox* b) { delete b; }));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  InitConfig c_;
  int64_t id_ = 0;
};

Napi::Value DistInit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "distInit: expected an options object");
  auto o = info[0].As<Napi::Object>();
  InitConfig c;
  c.backend = o.Get("backend").As<Napi::String>().Utf8Value();
  c.host = o.Get("host").As<Napi::String>().Utf8Value();
  if (o.Has("socketInterface") && o.Get("socketInterface").IsString()) c.socketInterface = o.Get("socketInterface").As<Napi::String>().Utf8Value();
  c.port = o.Get("port").As<Napi::Number>().Int32Value();
  c.rank = o.Get("rank").As<Napi::Number>().Int32Value();
  c.size = o.Get("worldSize").As<Napi::Number>().Int32Value();
  c.timeout = milliseconds(o.Get("timeoutMs").As<Napi::Number>().Int64Value());
  if (c.port < 1 || c.port > 65535) throw Napi::RangeError::New(env, "distInit: port must be 1..65535");
  if (c.size < 1 || c.rank < 0 || c.rank >= c.size) throw Napi::RangeError::New(env, "distInit: rank must be in 0..worldSize-1");
  if (c.timeout.count() < 1) throw Napi::RangeError::New(env, "distInit: timeoutMs must be positive");
  auto* worker = new InitWorker(env, std::move(c));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value wrapWork(Napi::Env env, WorkBox* box) {
  return Napi::External<WorkBox>::New(env, box, [](Napi::Env, WorkBox* b) { delete b; });
}

// ---------------------------------------------------------------------------
// Collectives: each starts and returns a work handle.

c10d::ReduceOp reduceOpOf(const std::string& name, Napi::Env env) {
  if (name == "sum") return c10d::ReduceOp(c10d::ReduceOp::SUM);
  if (name == "max") return c10d::ReduceOp(c10d::ReduceOp::MAX);
  if (name == "min") return c10d::ReduceOp(c10d::ReduceOp::MIN);
  if (name == "product") return c10d::ReduceOp(c10d::ReduceOp::PRODUCT);
  throw Napi::RangeError::New(env, "allReduce: op must be 'sum', 'max', 'min' or 'product', got '" + name + "'");
}

Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  auto g = groupOf(info[0]);
  auto tensors = tensorsOf(info[1], "allReduce");
  c10d::AllreduceOptions opts;
  opts.reduceOp = reduceOpOf(info[2].As<Napi::String>().Utf8Value(), info.Env());
  opts.timeout = g->timeout;
  auto* box = new WorkBox();
  box->group = g;
  box->work = g->pg->allreduce(tensors, opts);
  return wrapWork(info.Env(), box);
}

Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  auto g = groupOf(info[0]);
  auto tensors = tensorsOf(info[1], "broadcast");
  int root = info[2].As<Napi::Number>().Int32Value();
  if (root < 0 || root >= g->size) throw Napi::RangeError::New(info.Env(), "broadcast: root must be a rank of the group");
  c10d::BroadcastOptions opts;
  opts.rootRank = root;
  opts.timeout = g->timeout;
  auto* box = new WorkBox();
  box->group = g;
  box->work = g->pg->broadcast(tensors, opts);
  return wrapWork(info.Env(), box);
}

c10::intrusive_ptr<c10d::Work> startAllGather(Group& g, const at::Tensor& input, std::vector<std::vector<at::Tensor>>& outputs) {
  std::vector<at::Tensor> inputs{input.contiguous()};
  outputs.assign(1, {});
  for (int r = 0; r < g.size; r++) outputs[0].push_back(at::empty_like(inputs[0]));
  c10d::AllgatherOptions opts;
  opts.timeout = g.timeout;
  return g.pg->allgather(outputs, inputs, opts);
}

Napi::Value DistAllGather(const Napi::CallbackInfo& info) {
  auto g = groupOf(info[0]);
  const at::Tensor& input = tensorFromHandle(info[1], "allGather");
  auto* box = new WorkBox();
  box->group = g;
  box->isGather = true;
  box->work = startAllGather(*g, input.detach(), box->gathered);
  return wrapWork(info.Env(), box);
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  auto g = groupOf(info[0]);
  c10d::BarrierOptions opts;
  opts.timeout = g->timeout;
  auto* box = new WorkBox();
  box->group = g;
  box->work = g->pg->barrier(opts);
  return wrapWork(info.Env(), box);
}

// Blocks until the work is done (at most the group's timeout). Returns the gathered
// tensor for an all-gather, else undefined.
Napi::Value DistWait(const Napi::CallbackInfo& info) {
  auto* box = workOf(info[0]);
  waitFor(box->work, *box->group);
  if (box->isGather) return tensorHandle(info.Env(), gatheredResult(box));
  return info.Env().Undefined();
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, WorkBox* box)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(box->work), group_(box->group),
        isGather_(box->isGather), gathered_(box->gathered) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      waitFor(work_, *group_);
      if (isGather_) result_ = at::cat(gathered_.at(0), 0);
    } catch (const std::exception& e) {
      SetError(errorText(e));
    }
  }
  void OnOK() override { deferred_.Resolve(isGather_ ? tensorHandle(Env(), result_) : Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  c10::intrusive_ptr<c10d::Work> work_;
  std::shared_ptr<Group> group_;
  bool isGather_;
  std::vector<std::vector<at::Tensor>> gathered_;
  at::Tensor result_;
};

Napi::Value DistWaitAsync(const Napi::CallbackInfo& info) {
  auto* worker = new WaitWorker(info.Env(), workOf(info[0]));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value DistIsCompleted(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), workOf(info[0])->work->isCompleted());
}

// ---------------------------------------------------------------------------
// All-gather with a gradient (LightlySSL's GatherLayer): forward concatenates every
// rank's rows; backward sums the incoming gradient over ranks (each rank's loss used
// every rank's rows) and keeps this rank's rows.

struct GatherWithGrad : public torch::autograd::Function<GatherWithGrad> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input, int64_t groupId) {
    auto g = findGroup(groupId);
    TORCH_CHECK(g, "gatherWithGrad: the process group was destroyed");
    ctx->saved_data["group"] = groupId;
    ctx->saved_data["rows"] = input.size(0);
    std::vector<std::vector<at::Tensor>> outputs;
    auto work = startAllGather(*g, input.detach(), outputs);
    waitFor(work, *g);
    return at::cat(outputs[0], 0);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto g = findGroup(ctx->saved_data["group"].toInt());
    TORCH_CHECK(g, "gatherWithGrad: the process group was destroyed before backward");
    int64_t rows = ctx->saved_data["rows"].toInt();
    std::vector<at::Tensor> summed{grads[0].contiguous().clone()};
    c10d::AllreduceOptions opts;
    opts.timeout = g->timeout;
    waitFor(g->pg->allreduce(summed, opts), *g);
    return {summed[0].narrow(0, g->rank * rows, rows), at::Tensor()};
  }
};

Napi::Value DistGatherWithGrad(const Napi::CallbackInfo& info) {
  auto g = groupOf(info[0]);
  const at::Tensor& input = tensorFromHandle(info[1], "gatherWithGrad");
  int64_t id = info[0].As<Napi::External<GroupBox>>().Data()->id;
  return tensorHandle(info.Env(), GatherWithGrad::apply(input, id));
}

// ---------------------------------------------------------------------------
// The gradient reducer: all-reduce overlapping backward, as DDP's Reducer does it. A
// post-hook on each parameter's gradient accumulator marks the parameter ready once
// backward has written its gradient; when every parameter of a bucket is ready the
// bucket's gradients are packed into one flat tensor and its all-reduce starts, while
// backward goes on computing earlier layers. Buckets start strictly in their order
// (bucket 0 first, filled by the last layers), so every rank issues the same
// collectives in the same order whatever order its hooks fire in. distReducerFinish
// starts the buckets a step left (parameters without a gradient count as zeros), waits
// for all, and writes the averages back into the gradients.

constexpr uint32_t kReducerMagic = 0x6d0c10d3;

struct Reducer {
  std::shared_ptr<Group> group;
  std::vector<at::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // kept alive, or the hooks go with them
  std::vector<uintptr_t> hookKeys;
  std::vector<std::vector<int64_t>> buckets;  // parameter indices
  std::vector<int64_t> bucketOf;
  std::vector<int64_t> pending;  // per bucket: parameters not ready yet this step
  std::vector<char> ready;
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  int64_t launched = 0;
  bool armed = false;
  std::mutex mu;

  ~Reducer() {
    for (size_t i = 0; i < accumulators.size(); i++) accumulators[i]->del_post_hook(hookKeys[i]);
  }

  void arm() {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t b = 0; b < buckets.size(); b++) pending[b] = static_cast<int64_t>(buckets[b].size());
    std::fill(ready.begin(), ready.end(), 0);
    for (auto& f : flats) f = at::Tensor();
    for (auto& w : works) w.reset();
    launched = 0;
    armed = true;
  }

  void markReady(int64_t i) {
    std::lock_guard<std::mutex> lock(mu);
    if (!armed || ready[i]) return;
    ready[i] = 1;
    pending[bucketOf[i]]--;
    while (launched < static_cast<int64_t>(buckets.size()) && pending[launched] == 0) launch(launched++);
  }

  void launch(int64_t b) {
    std::vector<at::Tensor> parts;
    parts.reserve(buckets[b].size());
    for (int64_t i : buckets[b]) {
      const at::Tensor& p = params[i];
      const at::Tensor& g = p.grad();
      parts.push_back(g.defined() ? g.reshape({-1}) : at::zeros({p.numel()}, p.options()));
    }
    flats[b] = at::cat(parts, 0);
    std::vector<at::Tensor> tensors{flats[b]};
    c10d::AllreduceOptions opts;
    opts.timeout = group->timeout;
    works[b] = group->pg->allreduce(tensors, opts);
  }

  // How many buckets backward had started, then the milliseconds spent waiting after it.
  std::pair<int64_t, double> finish() {
    std::lock_guard<std::mutex> lock(mu);
    if (!armed) throw std::runtime_error("distReducerFinish: the reducer was not armed before backward");
    armed = false;
    at::NoGradGuard noGrad;
    const int64_t startedInBackward = launched;
    while (launched < static_cast<int64_t>(buckets.size())) launch(launched++);
    auto started = std::chrono::steady_clock::now();
    for (size_t b = 0; b < buckets.size(); b++) {
      waitFor(works[b], *group);
      works[b].reset();
      at::Tensor flat = flats[b].div_(group->size);
      int64_t offset = 0;
      for (int64_t i : buckets[b]) {
        at::Tensor& p = params[i];
        const int64_t n = p.numel();
        at::Tensor average = flat.narrow(0, offset, n).view(p.sizes());
        offset += n;
        if (p.grad().defined()) p.mutable_grad().copy_(average);
        else p.mutable_grad() = average.clone();
      }
      flats[b] = at::Tensor();
    }
    return {startedInBackward, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count()};
  }
};

struct ReducerBox {
  uint32_t magic = kReducerMagic;
  std::shared_ptr<Reducer> reducer;
};

Reducer& reducerOf(const Napi::Value& v) {
  if (v.IsExternal()) {
    auto* box = v.As<Napi::External<ReducerBox>>().Data();
    if (box->magic == kReducerMagic) return *box->reducer;
  }
  throw Napi::TypeError::New(v.Env(), "expected a gradient reducer handle");
}

// distReducerNew(group, params: tensor[], bucketSizes: number[]) -> reducer. The params, in
// bucket order, are float32 leaves that require grad; bucketSizes cut them into buckets.
Napi::Value DistReducerNew(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto group = groupOf(info[0]);
  if (!info[1].IsArray() || !info[2].IsArray()) throw Napi::TypeError::New(env, "distReducerNew expects (group, params, bucketSizes)");
  auto arr = info[1].As<Napi::Array>();
  auto sizes = info[2].As<Napi::Array>();
  auto r = std::make_shared<Reducer>();
  r->group = group;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    const at::Tensor& p = tensorFromHandle(arr.Get(i), "distReducerNew");
    if (!p.is_leaf() || !p.requires_grad()) throw Napi::Error::New(env, "distReducerNew: parameter " + std::to_string(i) + " is not a leaf that requires grad");
    if (p.scalar_type() != at::kFloat) throw Napi::TypeError::New(env, "distReducerNew: parameters must be float32, parameter " + std::to_string(i) + " is " + c10::toString(p.scalar_type()));
    r->params.push_back(p);
  }
  int64_t next = 0;
  for (uint32_t b = 0; b < sizes.Length(); b++) {
    Napi::Value v = sizes.Get(b);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "distReducerNew: bucket sizes must be numbers");
    int64_t n = v.As<Napi::Number>().Int64Value();
    if (n < 1 || next + n > static_cast<int64_t>(r->params.size())) throw Napi::RangeError::New(env, "distReducerNew: bucket sizes must be positive and add up to the parameter count");
    std::vector<int64_t> bucket;
    for (int64_t i = 0; i < n; i++) bucket.push_back(next++);
    r->buckets.push_back(bucket);
  }
  if (next != static_cast<int64_t>(r->params.size())) throw Napi::RangeError::New(env, "distReducerNew: bucket sizes must add up to the parameter count (" + std::to_string(r->params.size()) + "), got " + std::to_string(next));
  r->bucketOf.resize(r->params.size());
  for (size_t b = 0; b < r->buckets.size(); b++) for (int64_t i : r->buckets[b]) r->bucketOf[i] = static_cast<int64_t>(b);
  r->pending.assign(r->buckets.size(), 0);
  r->ready.assign(r->params.size(), 0);
  r->flats.resize(r->buckets.size());
  r->works.resize(r->buckets.size());
  std::weak_ptr<Reducer> weak = r;
  for (size_t i = 0; i < r->params.size(); i++) {
    auto acc = torch::autograd::impl::grad_accumulator(r->params[i]);
    if (!acc) throw Napi::Error::New(env, "distReducerNew: parameter " + std::to_string(i) + " has no gradient accumulator");
    const int64_t index = static_cast<int64_t>(i);
    uintptr_t key = acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, index](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          if (auto reducer = weak.lock()) reducer->markReady(index);
          return outputs;
        }));
    r->accumulators.push_back(acc);
    r->hookKeys.push_back(key);
  }
  auto* box = new ReducerBox();
  box->reducer = r;
  return Napi::External<ReducerBox>::New(env, box, [](Napi::Env, ReducerBox* b) { delete b; });
}

Napi::Value DistReducerArm(const Napi::CallbackInfo& info) {
  reducerOf(info[0]).arm();
  return info.Env().Undefined();
}

Napi::Value DistReducerFinish(const Napi::CallbackInfo& info) {
  auto [startedInBackward, waitedMs] = reducerOf(info[0]).finish();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("startedInBackward", Napi::Number::New(info.Env(), static_cast<double>(startedInBackward)));
  out.Set("waitedMs", Napi::Number::New(info.Env(), waitedMs));
  return out;
}

Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected a process group handle");
  auto* box = info[0].As<Napi::External<GroupBox>>().Data();
  if (box->magic != kGroupMagic) throw Napi::TypeError::New(info.Env(), "expected a process group handle");
  std::shared_ptr<Group> g;
  {
    std::lock_guard<std::mutex> lock(g_groups_mutex);
    auto it = g_groups.find(box->id);
    if (it == g_groups.end()) return info.Env().Undefined();
    g = it->second;
    g_groups.erase(it);
  }
  g.reset();  // the last owner unless a work handle still holds it
  return info.Env().Undefined();
}

Napi::Value DistNcclAvailable(const Napi::CallbackInfo& info) {
#ifdef SELFSUP_WITH_NCCL
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}


}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  exports.Set("distInit", Napi::Function::New(env, Guarded<DistInit>));
  exports.Set("distAllReduce", Napi::Function::New(env, Guarded<DistAllReduce>));
  exports.Set("distBroadcast", Napi::Function::New(env, Guarded<DistBroadcast>));
  exports.Set("distAllGather", Napi::Function::New(env, Guarded<DistAllGather>));
  exports.Set("distBarrier", Napi::Function::New(env, Guarded<DistBarrier>));
  exports.Set("distWait", Napi::Function::New(env, Guarded<DistWait>));
  exports.Set("distWaitAsync", Napi::Function::New(env, Guarded<DistWaitAsync>));
  exports.Set("distIsCompleted", Napi::Function::New(env, Guarded<DistIsCompleted>));
  exports.Set("distGatherWithGrad", Napi::Function::New(env, Guarded<DistGatherWithGrad>));
  exports.Set("distReducerNew", Napi::Function::New(env, Guarded<DistReducerNew>));
  exports.Set("distReducerArm", Napi::Function::New(env, Guarded<DistReducerArm>));
  exports.Set("distReducerFinish", Napi::Function::New(env, Guarded<DistReducerFinish>));
  exports.Set("distDestroy", Napi::Function::New(env, Guarded<DistDestroy>));
  exports.Set("distNcclAvailable", Napi::Function::New(env, Guarded<DistNcclAvailable>));
}

}  // namespace selfsup
