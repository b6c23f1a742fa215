// An op-level profiler: libtorch's RecordFunction callbacks, accumulated per op name.
//
// Off by default and free when off: the callback is registered by profilerStart()
// and removed by profilerStop(), and with no callback registered the dispatcher
// skips RecordFunction entirely. While on, every dispatcher op and autograd node
// (scopes FUNCTION and BACKWARD_FUNCTION) adds its calls, its inclusive wall time
// and its self time (inclusive minus the inclusive time of the ops it called on the
// same thread) to one row per name. Rows are shared by all threads behind a mutex;
// the nesting that self time needs is kept per thread, so an op that runs on an
// OpenMP worker thread counts as top level there (its time is not taken off its
// caller's self time on the calling thread). The callbacks' own time is taken off the
// caller's self time too; it still lengthens the profiled wall time (a few hundred ns
// per op, so an op that calls thousands of small ops, like bmm on small matrices with
// three selects per matrix, runs measurably slower under the profiler).
#include <napi.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor_handles.h"

namespace selfsup {
namespace {

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Row {
  int64_t calls = 0;
  int64_t totalNs = 0;     // inclusive
  int64_t selfNs = 0;      // inclusive minus the ops it called (same thread)
  int64_t topCalls = 0;    // calls with no profiled op around them on their thread
  int64_t topNs = 0;
};

std::mutex g_mutex;                        // guards g_rows, g_handle, g_startNs, g_stopNs
std::unordered_map<std::string, Row> g_rows;
at::CallbackHandle g_handle = at::INVALID_CALLBACK_HANDLE;
int64_t g_startNs = 0;
int64_t g_stopNs = 0;
// Bumped by every start and stop: an op that began in another session is not counted.
std::atomic<uint64_t> g_session{0};

// One open op on this thread.
struct Frame {
  uint64_t id;
  uint64_t session;
  int64_t childNs;
};
thread_local std::vector<Frame> t_stack;
thread_local uint64_t t_nextId = 0;

struct OpContext : at::ObserverContext {
  uint64_t id = 0;
  uint64_t session = 0;
  int64_t startNs = 0;
  int64_t startCostNs = 0;  // the start callback's own time, before startNs
};

// Per thread: the row of each op name seen this session, by the name's address (checked
// with strcmp, since an autograd node's name may be freed and its address reused).
struct CachedRow {
  const char* name;
  Row* row;
};
thread_local std::unordered_map<const char*, CachedRow> t_rows;
thread_local uint64_t t_rowsSession = 0;

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction&) {
  const int64_t entryNs = nowNs();
  auto ctx = std::make_unique<OpContext>();
  ctx->session = g_session.load(std::memory_order_relaxed);
  if (!t_stack.empty() && t_stack.back().session != ctx->session) t_stack.clear();
  ctx->id = ++t_nextId;
  t_stack.push_back(Frame{ctx->id, ctx->session, 0});
  ctx->startNs = nowNs();  // last, so the bookkeeping above is not the op's time
  ctx->startCostNs = ctx->startNs - entryNs;
  return ctx;
}

// The row for `name`; call with g_mutex held.
Row& RowFor(const char* name, uint64_t session) {
  if (t_rowsSession != session) {
    t_rows.clear();
    t_rowsSession = session;
  }
  auto it = t_rows.find(name);
  if (it != t_rows.end() && std::strcmp(it->second.name, name) == 0) return *it->second.row;
  auto& entry = *g_rows.try_emplace(name).first;  // node-based: the row stays put until the next start
  t_rows[name] = CachedRow{entry.first.c_str(), &entry.second};
  return entry.second;
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext* base) {
  const int64_t endNs = nowNs();
  auto* ctx = static_cast<OpContext*>(base);
  if (ctx == nullptr) return;
  const int64_t dur = endNs - ctx->startNs;
  // Pop this op's frame (and any frame above it that never ended); without it on
  // this thread's stack (another session, another thread) the op has no nesting.
  int64_t childNs = 0;
  bool found = false;
  for (size_t i = t_stack.size(); i-- > 0;) {
    if (t_stack[i].id == ctx->id) {
      childNs = t_stack[i].childNs;
      t_stack.resize(i);
      found = true;
      break;
    }
  }
  const bool top = !found || t_stack.empty();
  const size_t parent = t_stack.size();  // the caller's frame is t_stack[parent - 1]
  if (ctx->session == g_session.load(std::memory_order_relaxed)) {
    const char* name = fn.name();
    try {
      std::lock_guard<std::mutex> lock(g_mutex);
      // Again under the lock: start() clears the rows and bumps the session under it.
      if (ctx->session != g_session.load(std::memory_order_relaxed)) throw 0;
      Row& r = RowFor(name ? name : "(unnamed)", ctx->session);
      r.calls += 1;
      r.totalNs += dur;
      r.selfNs += dur - childNs;
      if (top) {
        r.topCalls += 1;
        r.topNs += dur;
      }
    } catch (...) {
      // A session that ended meanwhile, or no memory for a row: drop this sample, never throw inside an op.
    }
  }
  // The caller's self time loses this op and the profiler's own time around it (both
  // callbacks), so a parent of many small ops is not charged for their profiling.
  if (found && parent > 0) t_stack[parent - 1].childNs += (nowNs() - endNs) + dur + ctx->startCostNs;
}

Napi::Array RowsToJs(Napi::Env env, const std::unordered_map<std::string, Row>& rows) {
  std::vector<std::pair<std::string, Row>> sorted(rows.begin(), rows.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second.selfNs != b.second.selfNs) return a.second.selfNs > b.second.selfNs;
    return a.first < b.first;
  });
  Napi::Array out = Napi::Array::New(env, sorted.size());
  uint32_t i = 0;
  for (const auto& [name, r] : sorted) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", Napi::String::New(env, name));
    o.Set("calls", Napi::Number::New(env, static_cast<double>(r.calls)));
    o.Set("selfMs", Napi::Number::New(env, r.selfNs / 1e6));
    o.Set("totalMs", Napi::Number::New(env, r.totalNs / 1e6));
    o.Set("topCalls", Napi::Number::New(env, static_cast<double>(r.topCalls)));
    o.Set("topMs", Napi::Number::New(env, r.topNs / 1e6));
    out.Set(i++, o);
  }
  return out;
}

// The rows so far, and the session's wall time ({ running, wallMs, rows }).
Napi::Value Snapshot(Napi::Env env) {
  std::unordered_map<std::string, Row> rows;
  bool running;
  int64_t wallNs;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    rows = g_rows;
    running = g_handle != at::INVALID_CALLBACK_HANDLE;
    wallNs = (running ? nowNs() : g_stopNs) - g_startNs;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("running", Napi::Boolean::New(env, running));
  o.Set("wallMs", Napi::Number::New(env, g_startNs == 0 ? 0.0 : wallNs / 1e6));
  o.Set("rows", RowsToJs(env, rows));
  return o;
}

// Clears the rows and starts (or restarts) recording.
Napi::Value ProfilerStart(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_session.fetch_add(1, std::memory_order_relaxed);
  g_rows.clear();
  g_startNs = nowNs();
  g_stopNs = 0;
  if (g_handle == at::INVALID_CALLBACK_HANDLE) {
    g_handle = at::addGlobalCallback(
        at::RecordFunctionCallback(&OnStart, &OnEnd)
            .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
  }
  return info.Env().Undefined();
}

// Stops recording (ops still running are not counted) and returns the snapshot.
Napi::Value ProfilerStop(const Napi::CallbackInfo& info) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_handle != at::INVALID_CALLBACK_HANDLE) {
      at::removeCallback(g_handle);
      g_handle = at::INVALID_CALLBACK_HANDLE;
      g_stopNs = nowNs();
      g_session.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return Snapshot(info.Env());
}

Napi::Value ProfilerRead(const Napi::CallbackInfo& info) { return Snapshot(info.Env()); }

}  // namespace

void RegisterOpProfiler(Napi::Env env, Napi::Object exports) {
  exports.Set("profilerStart", Napi::Function::New(env, Guarded<ProfilerStart>));
  exports.Set("profilerStop", Napi::Function::New(env, Guarded<ProfilerStop>));
  exports.Set("profilerRead", Napi::Function::New(env, Guarded<ProfilerRead>));
}

}  // namespace selfsup
