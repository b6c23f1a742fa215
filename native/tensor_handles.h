// What the addon's files share: tensor handles (defined in selfsup.cc, which owns them),
// the guard every export runs behind, and the registration of the other files' exports.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace selfsup {

// The tensor behind a JS tensor handle; throws a JS TypeError for anything else.
const at::Tensor& tensorFromHandle(const Napi::Value& v, const char* what);
// A new JS handle owning `t`.
Napi::Value tensorHandle(Napi::Env env, at::Tensor t);

// A C++ exception's message for JavaScript: libtorch's without its C++ backtrace.
inline std::string errorText(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

// Every export runs behind this guard: no C++ exception ever reaches N-API (which
// would abort the process); each becomes a JavaScript Error.
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), errorText(e));
  } catch (...) {
    throw Napi::Error::New(info.Env(), "selfsup: unknown native exception");
  }
}

// native/cpu-cache.cc: installs the caching CPU allocator (unless SELFSUP_CPU_CACHE=0); true when installed.
bool RegisterCpuCache(Napi::Env env, Napi::Object exports);
// native/skipgram.cc: the fused skip-gram loop.
void RegisterSkipGram(Napi::Env env, Napi::Object exports);
// native/distributed.cc: process groups and collectives (c10d).
void registerDistributed(Napi::Env env, Napi::Object exports);
// native/op-profiler.cc: per-op calls and wall time from RecordFunction callbacks (off until started).
void RegisterOpProfiler(Napi::Env env, Napi::Object exports);

}  // namespace selfsup
