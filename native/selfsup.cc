// The whole native layer of selfsup: values in, libtorch call, values out.
//
// Ops are not wrapped one by one. JavaScript looks an ATen operator up once by
// its schema name ("aten::add", overload "Tensor") and then calls it through the
// c10 dispatcher with a boxed stack, so autograd, every kernel and every device
// come from libtorch itself. The few things that are not dispatcher ops
// (autograd entry points, grad mode, seeds, threads, raw data transfer) are
// small functions below.
#include <napi.h>
#include <torch/torch.h>
#include <torch/cuda.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <unordered_map>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "tensor_handles.h"

namespace {

using selfsup::Guarded;

// ---------------------------------------------------------------------------
// Tensor handles: a JS External owning one at::Tensor. dispose() frees the
// tensor at once; the GC finalizer is only the backstop.

std::atomic<int64_t> g_live_tensors{0};
std::atomic<int64_t> g_live_bytes{0};

// V8 is told about tensor memory (AdjustExternalMemory) so that its GC, the backstop for
// handles nobody disposed, runs sooner when they pile up. It is told only what this JS
// thread's live handles hold beyond a headroom (SELFSUP_GC_HEADROOM_MB, default 512; 0
// reports every byte): V8 starts a full mark-compact whenever its external memory grows
// 64 MB past the amount at its last one, and a training step that disposes everything
// still makes and frees hundreds of MB of handles (each view counts its whole storage),
// so reporting every byte ran a full GC every 50-70 ms of an MAE step (about 90 per 4
// forward passes, a quarter of their CPU time).
int64_t gcHeadroomBytes() {
  static const int64_t bytes = [] {
    const char* v = std::getenv("SELFSUP_GC_HEADROOM_MB");
    if (v == nullptr) return int64_t{512} << 20;
    char* end = nullptr;
    const long long mb = std::strtoll(v, &end, 10);
    return end != v && *end == '\0' && mb >= 0 ? static_cast<int64_t>(mb) << 20 : int64_t{512} << 20;
  }();
  return bytes;
}
thread_local int64_t t_handleBytes = 0;    // bytes of this JS thread's live handles
thread_local int64_t t_reportedBytes = 0;  // what this thread's V8 isolate has been told

void accountHandleBytes(Napi::Env env, int64_t delta) {
  t_handleBytes += delta;
  const int64_t want = std::max<int64_t>(0, t_handleBytes - gcHeadroomBytes());
  if (want != t_reportedBytes) {
    Napi::MemoryManagement::AdjustExternalMemory(env, want - t_reportedBytes);
    t_reportedBytes = want;
  }
}

constexpr uint32_t kTensorMagic = 0x7e450f01;
constexpr uint32_t kGeneratorMagic = 0x6e4e0f02;

struct TensorBox {
  uint32_t magic = kTensorMagic;  // first member: tells a tensor handle from a generator handle
  at::Tensor tensor;
  int64_t bytes = 0;
  bool live = false;
};

// Bytes this handle really holds. Meta tensors (and any other storage without
// memory) count 0: their nominal size can be 2^62 bytes, and reporting that to
// V8 as external memory kills the process.
int64_t storageBytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage() || t.is_meta()) return 0;
  const auto& storage = t.storage();
  if (storage.data_ptr().get() == nullptr) return 0;
  return static_cast<int64_t>(storage.nbytes());
}

void releaseBox(Napi::Env env, TensorBox* box) {
  if (!box->live) return;
  box->live = false;
  g_live_tensors--;
  g_live_bytes -= box->bytes;
  // Tell V8 how much native memory went away so the GC backstop stays honest.
  accountHandleBytes(env, -box->bytes);
  box->tensor = at::Tensor();
}

Napi::Value wrapTensor(Napi::Env env, at::Tensor t) {
  auto* box = new TensorBox();
  box->bytes = storageBytes(t);
  box->tensor = std::move(t);
  box->live = true;
  g_live_tensors++;
  g_live_bytes += box->bytes;
  accountHandleBytes(env, box->bytes);
  return Napi::External<TensorBox>::New(env, box, [](Napi::Env env, TensorBox* b) {
    releaseBox(env, b);
    delete b;
  });
}

TensorBox* boxOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor handle");
  }
  auto* box = v.As<Napi::External<TensorBox>>().Data();
  if (box->magic != kTensorMagic) {
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor, got another kind of handle");
  }
  if (!box->live) {
    throw Napi::Error::New(v.Env(), std::string(what) + ": tensor was already disposed");
  }
  return box;
}

const at::Tensor& tensorOf(const Napi::Value& v, const char* what) { return boxOf(v, what)->tensor; }

// Generators: seedable random streams that ops take as their `generator` argument.
struct GeneratorBox {
  uint32_t magic = kGeneratorMagic;
  at::Generator gen;
};

GeneratorBox* generatorOf(const Napi::Value& v, const std::string& what) {
  if (v.IsExternal()) {
    auto* g = v.As<Napi::External<GeneratorBox>>().Data();
    if (g->magic == kGeneratorMagic) return g;
  }
  throw Napi::TypeError::New(v.Env(), what + " must be a Generator");
}

std::string shapeString(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream s;
  s << "[";
  for (int64_t i = 0; i < t.dim(); i++) s << (i ? ", " : "") << t.size(i);
  s << "] " << c10::toString(t.scalar_type());
  if (!t.device().is_cpu()) s << " " << t.device();
  return s.str();
}

// ---------------------------------------------------------------------------
// Operator registry: JS asks once for an operator by name and keeps the index.

struct OpEntry {
  c10::OperatorHandle handle;
  std::string name;
};
// Shared by every worker thread that loads the addon, so guarded by a lock. A
// deque never moves its entries: a reference taken under the lock stays valid.
std::mutex g_ops_mutex;
std::deque<OpEntry> g_ops;
std::unordered_map<std::string, size_t> g_op_index;

const OpEntry& opAt(Napi::Env env, const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "expected an operator index");
  double d = v.As<Napi::Number>().DoubleValue();
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  if (!(d >= 0 && d < static_cast<double>(g_ops.size()) && d == std::floor(d))) {
    throw Napi::RangeError::New(env, "unknown operator index " + std::to_string(d));
  }
  return g_ops[static_cast<size_t>(d)];
}

std::string typeKindName(const c10::TypePtr& t) { return t->str(); }

std::string describeArgs(const OpEntry& op, const Napi::Array& args) {
  std::ostringstream s;
  const auto& schema = op.handle.schema();
  s << op.name << "(";
  for (uint32_t i = 0; i < args.Length(); i++) {
    Napi::Value v = args.Get(i);
    if (i) s << ", ";
    if (i < schema.arguments().size()) s << schema.arguments()[i].name() << "=";
    if (v.IsExternal()) {
      auto* box = v.As<Napi::External<TensorBox>>().Data();
      s << (box->magic != kTensorMagic ? std::string("<generator>") : box->live ? shapeString(box->tensor) : std::string("<disposed>"));
    } else if (v.IsArray()) {
      auto a = v.As<Napi::Array>();
      s << "[";
      for (uint32_t j = 0; j < a.Length(); j++) {
        Napi::Value e = a.Get(j);
        if (j) s << ", ";
        if (e.IsExternal()) {
          auto* box = e.As<Napi::External<TensorBox>>().Data();
          s << (box->magic != kTensorMagic ? std::string("<generator>") : box->live ? shapeString(box->tensor) : std::string("<disposed>"));
        } else if (e.IsNumber()) {
          s << e.As<Napi::Number>().DoubleValue();
        } else {
          s << "?";
        }
      }
      s << "]";
    } else if (v.IsNumber()) {
      s << v.As<Napi::Number>().DoubleValue();
    } else if (v.IsBoolean()) {
      s << (v.As<Napi::Boolean>().Value() ? "true" : "false");
    } else if (v.IsString()) {
      s << '"' << v.As<Napi::String>().Utf8Value() << '"';
    } else if (v.IsNull() || v.IsUndefined()) {
      s << "None";
    } else {
      s << "?";
    }
  }
  s << ")";
  return s.str();
}

int64_t toInt(const Napi::Value& v, const std::string& arg) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d)) {
      throw Napi::TypeError::New(v.Env(), "argument '" + arg + "' must be an integer, got " + std::to_string(d));
    }
    // Casting a double outside int64 is undefined behaviour (it wrapped silently).
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
      throw Napi::RangeError::New(v.Env(), "argument '" + arg + "' = " + std::to_string(d) + " is outside the int64 range");
    }
    return static_cast<int64_t>(d);
  }
  if (v.IsBigInt()) {
    bool lossless;
    int64_t out = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) {
      throw Napi::RangeError::New(v.Env(), "argument '" + arg + "' = " + v.ToString().Utf8Value() + "n is outside the int64 range");
    }
    return out;
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  throw Napi::TypeError::New(v.Env(), "argument '" + arg + "' must be an integer");
}

double toDouble(const Napi::Value& v, const std::string& arg) {
  if (v.IsNumber()) return v.As<Napi::Number>().DoubleValue();
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1.0 : 0.0;
  throw Napi::TypeError::New(v.Env(), "argument '" + arg + "' must be a number");
}

// Integers that stand for a c10 enum: an out-of-range code reached kernels as a
// garbage enum (SIGFPE in view.dtype, an abort in clone's memory format).
int64_t toEnum(const Napi::Value& v, c10::TypeKind kind, const std::string& arg) {
  int64_t code = toInt(v, arg);
  const char* what = "";
  int64_t count = 0;
  switch (kind) {
    case c10::TypeKind::ScalarTypeType:
      what = "ScalarType (dtype)";
      count = static_cast<int64_t>(c10::ScalarType::Undefined);  // Undefined is no dtype either
      break;
    case c10::TypeKind::LayoutType:
      what = "Layout";
      count = static_cast<int64_t>(c10::Layout::NumOptions);
      break;
    case c10::TypeKind::MemoryFormatType:
      what = "MemoryFormat";
      count = static_cast<int64_t>(c10::MemoryFormat::NumOptions);
      break;
    default:
      return code;
  }
  if (code < 0 || code >= count) {
    throw Napi::RangeError::New(v.Env(), "argument '" + arg + "' = " + std::to_string(code) + " is not a " + what +
                                             " code (0 to " + std::to_string(count - 1) + ")");
  }
  return code;
}

c10::Device toDevice(const Napi::Value& v, const std::string& arg) {
  if (v.IsString()) {
    std::string name = v.As<Napi::String>().Utf8Value();
    c10::optional<c10::Device> device;
    try {
      device = c10::Device(name);
    } catch (const c10::Error&) {
    }
    // Only the backends selfsup means to drive; libtorch also parses 'xla', 'hpu', ...
    if (!device || !(device->is_cpu() || device->is_cuda() || device->is_meta() || device->is_mps())) {
      throw Napi::TypeError::New(v.Env(), "argument '" + arg + "': '" + name + "' is not a device; use 'cpu', 'cuda', 'cuda:N' or 'meta'");
    }
    return *device;
  }
  throw Napi::TypeError::New(v.Env(), "argument '" + arg + "' must be a device string such as 'cpu' or 'cuda:0'");
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& arg, c10::optional<int32_t> fixedLength = c10::nullopt);

c10::IValue toListIValue(const Napi::Value& v, const c10::ListTypePtr& list, const std::string& arg, c10::optional<int32_t> fixedLength) {
  const auto& elem = list->getElementType();
  Napi::Env env = v.Env();
  if (!v.IsArray()) {
    // A single int where int[N] is expected, as Python allows (kernel_size=3):
    // N copies, as Python makes, since some kernels read N entries unchecked.
    if (v.IsNumber() && (elem->kind() == c10::TypeKind::IntType || elem->kind() == c10::TypeKind::SymIntType)) {
      return c10::IValue(std::vector<int64_t>(fixedLength ? *fixedLength : 1, toInt(v, arg)));
    }
    throw Napi::TypeError::New(env, "argument '" + arg + "' must be an array (" + list->str() + ")");
  }
  auto a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  switch (elem->kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      std::vector<int64_t> out(n);
      for (uint32_t i = 0; i < n; i++) out[i] = toInt(a.Get(i), arg);
      return c10::IValue(out);
    }
    case c10::TypeKind::FloatType: {
      std::vector<double> out(n);
      for (uint32_t i = 0; i < n; i++) out[i] = toDouble(a.Get(i), arg);
      return c10::IValue(out);
    }
    case c10::TypeKind::BoolType: {
      c10::List<bool> out;
      for (uint32_t i = 0; i < n; i++) out.push_back(a.Get(i).ToBoolean().Value());
      return c10::IValue(out);
    }
    case c10::TypeKind::TensorType: {
      c10::List<at::Tensor> out;
      out.reserve(n);
      for (uint32_t i = 0; i < n; i++) out.push_back(tensorOf(a.Get(i), arg.c_str()));
      return c10::IValue(out);
    }
    case c10::TypeKind::OptionalType: {
      auto inner = elem->castRaw<c10::OptionalType>()->getElementType();
      if (inner->kind() == c10::TypeKind::TensorType) {
        c10::List<c10::optional<at::Tensor>> out;
        for (uint32_t i = 0; i < n; i++) {
          Napi::Value e = a.Get(i);
          if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
          else out.push_back(tensorOf(e, arg.c_str()));
        }
        return c10::IValue(out);
      }
      break;
    }
    default:
      break;
  }
  throw Napi::TypeError::New(env, "argument '" + arg + "': list type " + list->str() + " is not supported");
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& arg, c10::optional<int32_t> fixedLength) {
  Napi::Env env = v.Env();
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return toIValue(v, type->castRaw<c10::OptionalType>()->getElementType(), arg, fixedLength);
    case c10::TypeKind::TensorType:
      return c10::IValue(tensorOf(v, arg.c_str()));
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return c10::IValue(toInt(v, arg));
    case c10::TypeKind::ScalarTypeType:
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType:
      return c10::IValue(toEnum(v, type->kind(), arg));
    case c10::TypeKind::FloatType:
      return c10::IValue(toDouble(v, arg));
    case c10::TypeKind::BoolType:
      return c10::IValue(v.ToBoolean().Value());
    case c10::TypeKind::NumberType: {
      // A Scalar: integers stay integers so integer tensors keep their dtype.
      if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
      double d = toDouble(v, arg);
      if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.007199254740992e15) {
        return c10::IValue(static_cast<int64_t>(d));
      }
      return c10::IValue(d);
    }
    case c10::TypeKind::StringType:
      if (!v.IsString()) throw Napi::TypeError::New(env, "argument '" + arg + "' must be a string");
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::DeviceObjType:
      return c10::IValue(toDevice(v, arg));
    case c10::TypeKind::GeneratorType:
      return c10::IValue(generatorOf(v, "argument '" + arg + "'")->gen);
    case c10::TypeKind::ListType:
      return toListIValue(v, type->cast<c10::ListType>(), arg, fixedLength);
    default:
      break;
  }
  throw Napi::TypeError::New(env, "argument '" + arg + "' has type " + typeKindName(type) + ", which selfsup cannot pass yet");
}

// int[N] and bool[N] arguments (N >= 2) whose kernels read N entries without
// checking (slow_conv3d's kernel_size, max_unpool3d's stride, a backward's
// output_mask). An int list of one entry means N copies, as kernels that check
// take it; an empty one only where the schema's default is empty (stride=[]).
// int[1] is left alone: reductions take int[1] dim as a list of any length.
void checkFixedLength(Napi::Env env, const std::string& opName, const c10::Argument& formal, c10::IValue& value) {
  if (!formal.N() || *formal.N() < 2 || value.isNone()) return;
  const size_t n = static_cast<size_t>(*formal.N());
  const std::string where = opName + ": argument '" + formal.name() + "' ";
  if (value.isIntList()) {
    auto list = value.toIntVector();
    if (list.size() == n) return;
    if (list.size() == 1) {
      value = c10::IValue(std::vector<int64_t>(n, list[0]));
      return;
    }
    const auto& d = formal.default_value();
    if (list.empty() && d && d->isIntList() && d->toIntVector().empty()) return;
    throw Napi::RangeError::New(env, where + "must have " + std::to_string(n) + " entries (or 1), got " + std::to_string(list.size()));
  }
  if (value.isBoolList() && value.toBoolList().size() != n) {
    throw Napi::RangeError::New(env, where + "must have " + std::to_string(n) + " entries, got " + std::to_string(value.toBoolList().size()));
  }
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return wrapTensor(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(i, wrapTensor(env, list.get(i)));
    return out;
  }
  if (v.isIntList()) {
    auto list = v.toIntVector();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(i, Napi::Number::New(env, static_cast<double>(list[i])));
    return out;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); i++) out.Set(i, fromIValue(env, elems[i]));
    return out;
  }
  if (v.isList()) {
    auto list = v.toListRef();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(i, fromIValue(env, list[i]));
    return out;
  }
  throw Napi::Error::New(env, "selfsup cannot return a value of type " + v.tagKind());
}

// lookupOp(name, overload) -> index, or throws if libtorch has no such operator.
Napi::Value LookupOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  std::string qualified = name + (overload.empty() ? "" : "." + overload);
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    throw Napi::Error::New(env, "libtorch has no operator " + qualified);
  }
  std::lock_guard<std::mutex> lock(g_ops_mutex);
  auto found = g_op_index.find(qualified);
  if (found != g_op_index.end()) return Napi::Number::New(env, static_cast<double>(found->second));
  g_ops.push_back({*handle, qualified});
  g_op_index.emplace(qualified, g_ops.size() - 1);
  return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  std::ostringstream s;
  s << opAt(info.Env(), info[0]).handle.schema();
  return Napi::String::New(info.Env(), s.str());
}

// listOps() -> the schema string of every operator libtorch registered (for the fuzzer).
Napi::Value ListOps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& dispatcher = c10::Dispatcher::singleton();
  std::vector<std::string> schemas;
  for (const auto& name : dispatcher.getAllOpNames()) {
    auto handle = dispatcher.findOp(name);
    if (!handle || !handle->hasSchema()) continue;
    std::ostringstream s;
    s << handle->schema();
    schemas.push_back(s.str());
  }
  auto out = Napi::Array::New(env, schemas.size());
  for (size_t i = 0; i < schemas.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, schemas[i]));
  return out;
}

// Views built from explicit sizes and strides (as_strided, _reshape_alias, set_
// with a source) read the base tensor's storage wherever those strides point;
// _reshape_alias checks nothing. Refuse any view that would reach past the storage.
void checkStridedView(Napi::Env env, const OpEntry& op, const torch::jit::Stack& stack) {
  const auto& formals = op.handle.schema().arguments();
  int sizeAt = -1, strideAt = -1, offsetAt = -1, baseAt = -1;
  for (size_t i = 0; i < formals.size(); i++) {
    const auto& n = formals[i].name();
    if (n == "size" && stack[i].isIntList()) sizeAt = static_cast<int>(i);
    else if (n == "stride" && stack[i].isIntList()) strideAt = static_cast<int>(i);
    else if (n == "storage_offset") offsetAt = static_cast<int>(i);
    else if (n == "source" && stack[i].isTensor()) baseAt = static_cast<int>(i);
  }
  if (sizeAt < 0 || strideAt < 0) return;
  // empty_strided and new_empty_strided allocate fresh storage to fit.
  if (op.name.find("empty") != std::string::npos) return;
  if (baseAt < 0 && !formals.empty() && stack[0].isTensor()) baseAt = 0;
  if (baseAt < 0) return;
  const at::Tensor& base = stack[baseAt].toTensor();
  if (!base.defined() || !base.has_storage()) return;
  auto sizes = stack[sizeAt].toIntVector();
  auto strides = stack[strideAt].toIntVector();
  const std::string where = op.name + ": ";
  if (strides.empty() && !sizes.empty()) {
    // set_'s stride=[] means contiguous.
    strides.assign(sizes.size(), 1);
    for (size_t i = sizes.size() - 1; i > 0; i--) {
      if (__builtin_mul_overflow(strides[i], std::max<int64_t>(sizes[i], 1), &strides[i - 1])) strides[i - 1] = INT64_MAX;
    }
  }
  if (sizes.size() != strides.size()) {
    throw Napi::RangeError::New(env, where + "size has " + std::to_string(sizes.size()) + " entries but stride has " + std::to_string(strides.size()));
  }
  int64_t offset = offsetAt >= 0 && stack[offsetAt].isInt() ? stack[offsetAt].toInt() : base.storage_offset();
  if (offset < 0) throw Napi::RangeError::New(env, where + "storage_offset " + std::to_string(offset) + " is negative");
  int64_t last = offset;  // the highest element the view reaches
  bool empty = false;
  for (size_t i = 0; i < sizes.size(); i++) {
    if (sizes[i] < 0) throw Napi::RangeError::New(env, where + "size[" + std::to_string(i) + "] = " + std::to_string(sizes[i]) + " is negative");
    if (strides[i] < 0) throw Napi::RangeError::New(env, where + "stride[" + std::to_string(i) + "] = " + std::to_string(strides[i]) + " is negative");
    if (sizes[i] == 0) empty = true;
  }
  if (empty) return;
  bool overflow = false;
  for (size_t i = 0; i < sizes.size(); i++) {
    int64_t reach;
    overflow = overflow || __builtin_mul_overflow(sizes[i] - 1, strides[i], &reach) || __builtin_add_overflow(last, reach, &last);
  }
  int64_t needBytes = 0;
  const int64_t itemSize = static_cast<int64_t>(base.dtype().itemsize());
  overflow = overflow || __builtin_add_overflow(last, int64_t{1}, &needBytes) || __builtin_mul_overflow(needBytes, itemSize, &needBytes);
  const int64_t haveBytes = static_cast<int64_t>(base.storage().nbytes());
  if (overflow || needBytes > haveBytes) {
    std::ostringstream s;
    s << where << "sizes " << c10::IntArrayRef(sizes) << " with strides " << c10::IntArrayRef(strides) << " at offset " << offset
      << " reach past the " << haveBytes << " bytes of the tensor's storage";
    throw Napi::RangeError::New(env, s.str());
  }
}

// callOp(index, args[]) -> result. A missing or undefined argument takes the
// schema's default; several results come back as an array.
Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const OpEntry& op = opAt(env, info[0]);
  const auto& schema = op.handle.schema();
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, op.name + ": arguments must be an array");
  auto args = info[1].As<Napi::Array>();
  const auto& formals = schema.arguments();
  // A vararg operator reads more of the stack than its schema lists.
  if (schema.is_vararg() || schema.is_varret()) {
    throw Napi::TypeError::New(env, op.name + " takes or returns a variable number of values, which selfsup cannot pass");
  }
  if (args.Length() > formals.size()) {
    throw Napi::TypeError::New(env, op.name + ": expected at most " + std::to_string(formals.size()) +
                                        " arguments, got " + std::to_string(args.Length()));
  }
  torch::jit::Stack stack;
  stack.reserve(formals.size());
  for (size_t i = 0; i < formals.size(); i++) {
    const auto& formal = formals[i];
    Napi::Value v = i < args.Length() ? args.Get(i) : env.Undefined();
    if (v.IsUndefined()) {
      if (formal.default_value()) {
        stack.push_back(*formal.default_value());
        continue;
      }
      if (formal.type()->kind() == c10::TypeKind::OptionalType) {
        stack.emplace_back();
        continue;
      }
      throw Napi::TypeError::New(env, op.name + ": missing argument '" + formal.name() + "'");
    }
    try {
      // real_type: ScalarType, Layout and MemoryFormat, which type() shows as int.
      stack.push_back(toIValue(v, formal.real_type(), formal.name(), formal.N()));
    } catch (const Napi::Error& e) {
      // Same error (TypeError or RangeError), now naming the operator.
      Napi::Error named = e;
      named.Set("message", Napi::String::New(env, op.name + ": " + e.Message()));
      throw named;
    }
    checkFixedLength(env, op.name, formal, stack.back());
  }
  checkStridedView(env, op, stack);
  try {
    op.handle.callBoxed(stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, describeArgs(op, args) + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, describeArgs(op, args) + " failed: " + e.what());
  }
  if (stack.empty()) return env.Undefined();
  if (stack.size() == 1) return fromIValue(env, stack[0]);
  auto out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); i++) out.Set(i, fromIValue(env, stack[i]));
  return out;
}

// ---------------------------------------------------------------------------
// Data in and out.

// fromBuffer(typedArray, shape[], scalarType) -> tensor (a copy, owned by libtorch).
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || !info[1].IsArray()) throw Napi::TypeError::New(env, "fromBuffer: expected (typedArray, shape[], scalarType)");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shapeArr = info[1].As<Napi::Array>();
  auto dtype = static_cast<c10::ScalarType>(toEnum(info[2], c10::TypeKind::ScalarTypeType, "scalarType"));
  std::vector<int64_t> shape(shapeArr.Length());
  int64_t numel = 1;
  for (uint32_t i = 0; i < shapeArr.Length(); i++) {
    shape[i] = toInt(shapeArr.Get(i), "shape");
    if (shape[i] < 0 || __builtin_mul_overflow(numel, shape[i], &numel)) {
      throw Napi::RangeError::New(env, "fromBuffer: shape entry " + std::to_string(shape[i]) + " is negative or overflows the element count");
    }
  }
  auto buf = ta.ArrayBuffer();
  uint8_t* data = static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset();
  size_t elemSize = c10::elementSize(dtype);
  if (static_cast<size_t>(numel) * elemSize != ta.ByteLength()) {
    throw Napi::RangeError::New(env, "fromBuffer: " + std::to_string(ta.ByteLength()) + " bytes do not fill shape of " +
                                         std::to_string(numel) + " elements of " + c10::toString(dtype));
  }
  auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  if (numel > 0) std::memcpy(t.data_ptr(), data, ta.ByteLength());
  return wrapTensor(env, std::move(t));
}

// toBuffer(tensor) -> ArrayBuffer with the elements in row-major order (on the CPU).
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = tensorOf(info[0], "toBuffer");
  at::Tensor c;
  {
    at::NoGradGuard guard;
    c = t.detach().to(at::kCPU).contiguous();
  }
  size_t n = c.numel() * c.element_size();
  auto buf = Napi::ArrayBuffer::New(env, n);
  if (n) std::memcpy(buf.Data(), c.data_ptr(), n);
  return buf;
}

// meta(tensor) -> [scalarType, device, requiresGrad, ...shape]
Napi::Value Meta(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = tensorOf(info[0], "meta");
  auto out = Napi::Array::New(env, 3 + t.dim());
  out.Set(0u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
  out.Set(1u, Napi::String::New(env, t.device().str()));
  out.Set(2u, Napi::Boolean::New(env, t.requires_grad()));
  for (int64_t i = 0; i < t.dim(); i++) out.Set(static_cast<uint32_t>(3 + i), Napi::Number::New(env, static_cast<double>(t.size(i))));
  return out;
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) {
    auto* box = info[0].As<Napi::External<TensorBox>>().Data();
    if (box->magic == kTensorMagic) releaseBox(info.Env(), box);
  }
  return info.Env().Undefined();
}

Napi::Value IsLive(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) return Napi::Boolean::New(info.Env(), false);
  auto* box = info[0].As<Napi::External<TensorBox>>().Data();
  return Napi::Boolean::New(info.Env(), box->magic == kTensorMagic && box->live);
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("numTensors", Napi::Number::New(env, static_cast<double>(g_live_tensors.load())));
  out.Set("numBytes", Napi::Number::New(env, static_cast<double>(g_live_bytes.load())));
  return out;
}

// Same storage and view? Lets TypeScript tell an in-place result from a new tensor.
Napi::Value SameTensor(const Napi::CallbackInfo& info) {
  const at::Tensor& a = tensorOf(info[0], "same");
  const at::Tensor& b = tensorOf(info[1], "same");
  return Napi::Boolean::New(info.Env(), a.unsafeGetTensorImpl() == b.unsafeGetTensorImpl());
}

// ---------------------------------------------------------------------------
// Autograd.

Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = tensorOf(info[0], "backward");
  c10::optional<at::Tensor> grad;
  if (info.Length() > 1 && info[1].IsExternal()) grad = tensorOf(info[1], "backward");
  bool retain = info.Length() > 2 && info[2].ToBoolean().Value();
  bool create = info.Length() > 3 && info[3].ToBoolean().Value();
  try {
    if (grad) {
      torch::autograd::backward({t}, {*grad}, retain, create);
    } else {
      torch::autograd::backward({t}, {}, retain, create);
    }
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, "backward(" + shapeString(t) + ") failed: " + e.what_without_backtrace());
  }
  return env.Undefined();
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  const at::Tensor& t = tensorOf(info[0], "grad");
  const at::Tensor& g = t.grad();
  if (!g.defined()) return info.Env().Null();
  return wrapTensor(info.Env(), g);
}

Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = tensorOf(info[0], "setGrad");
  if (info[1].IsExternal()) {
    const at::Tensor& g = tensorOf(info[1], "setGrad");
    if (!g.sizes().equals(t.sizes()) || g.scalar_type() != t.scalar_type() || g.device() != t.device()) {
      throw Napi::TypeError::New(info.Env(), "grad: the assigned gradient (shape/dtype/device " + shapeString(g) + ") does not match the tensor (" + shapeString(t) + ")");
    }
    t.mutable_grad() = g;
  } else {
    t.mutable_grad() = at::Tensor();
  }
  return info.Env().Undefined();
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = tensorOf(info[0], "requiresGrad");
  bool on = info[1].ToBoolean().Value();
  if (!t.is_leaf() && !on) {
    throw Napi::Error::New(info.Env(), "requiresGrad: only leaf tensors can stop requiring grad; use detach() to cut a computed tensor from the graph");
  }
  try {
    t.set_requires_grad(on);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string("requiresGrad(") + shapeString(t) + ") failed: " + e.what_without_backtrace());
  }
  return info.Env().Undefined();
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorOf(info[0], "isLeaf").is_leaf());
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  const at::Tensor& t = tensorOf(info[0], "retainGrad");
  try {
    t.retain_grad();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), "retainGrad(" + shapeString(t) + ") failed: " + e.what_without_backtrace());
  }
  return info.Env().Undefined();
}

Napi::Value GradEnabled(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsBoolean()) at::GradMode::set_enabled(info[0].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

// ---------------------------------------------------------------------------
// Random generators, threads, devices.

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  torch::manual_seed(static_cast<uint64_t>(toInt(info[0], "seed")));
  return info.Env().Undefined();
}

Napi::Value NewGenerator(const Napi::CallbackInfo& info) {
  auto* box = new GeneratorBox();
  box->gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(toInt(info[0], "seed")));
  return Napi::External<GeneratorBox>::New(info.Env(), box, [](Napi::Env, GeneratorBox* b) { delete b; });
}

Napi::Value GeneratorSeed(const Napi::CallbackInfo& info) {
  auto* box = generatorOf(info[0], "generatorSeed");
  std::lock_guard<std::mutex> lock(box->gen.mutex());
  box->gen.set_current_seed(static_cast<uint64_t>(toInt(info[1], "seed")));
  return info.Env().Undefined();
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return info.Env().Undefined();
}


// Keeps freed tensor memory in the heap for the next step instead of returning
// it to the kernel: with glibc's defaults in Node, each large tensor came from a
// fresh mmap and paid its page faults again (an elementwise op on 10 MB ran at half
// PyTorch's speed; the skip-gram step 15% slower). PyTorch under Python gets the
// same effect from glibc's dynamic threshold. Off with SELFSUP_MALLOC_TUNING=0, and
// left alone when the user sets glibc's MALLOC_* variables.
static bool TuneMalloc() {
#if defined(__GLIBC__)
  const char* off = std::getenv("SELFSUP_MALLOC_TUNING");
  if (off && std::string(off) == "0") return false;
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("MALLOC_TOP_PAD_")) return false;
  bool ok = mallopt(M_MMAP_THRESHOLD, 256 << 20) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, 1024 << 20) == 1 && ok;
  ok = mallopt(M_TOP_PAD, 64 << 20) == 1 && ok;
  return ok;
#else
  return false;
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("mallocTuned", Napi::Boolean::New(env, TuneMalloc()));
  exports.Set("cpuCacheEnabled", Napi::Boolean::New(env, selfsup::RegisterCpuCache(env, exports)));
  exports.Set("lookupOp", Napi::Function::New(env, Guarded<LookupOp>));
  exports.Set("opSchema", Napi::Function::New(env, Guarded<OpSchema>));
  exports.Set("listOps", Napi::Function::New(env, Guarded<ListOps>));
  exports.Set("callOp", Napi::Function::New(env, Guarded<CallOp>));
  exports.Set("fromBuffer", Napi::Function::New(env, Guarded<FromBuffer>));
  exports.Set("toBuffer", Napi::Function::New(env, Guarded<ToBuffer>));
  exports.Set("meta", Napi::Function::New(env, Guarded<Meta>));
  exports.Set("dispose", Napi::Function::New(env, Guarded<Dispose>));
  exports.Set("isLive", Napi::Function::New(env, Guarded<IsLive>));
  exports.Set("memory", Napi::Function::New(env, Guarded<Memory>));
  exports.Set("sameTensor", Napi::Function::New(env, Guarded<SameTensor>));
  exports.Set("backward", Napi::Function::New(env, Guarded<Backward>));
  exports.Set("grad", Napi::Function::New(env, Guarded<Grad>));
  exports.Set("setGrad", Napi::Function::New(env, Guarded<SetGrad>));
  exports.Set("setRequiresGrad", Napi::Function::New(env, Guarded<SetRequiresGrad>));
  exports.Set("isLeaf", Napi::Function::New(env, Guarded<IsLeaf>));
  exports.Set("retainGrad", Napi::Function::New(env, Guarded<RetainGrad>));
  exports.Set("gradEnabled", Napi::Function::New(env, Guarded<GradEnabled>));
  exports.Set("manualSeed", Napi::Function::New(env, Guarded<ManualSeed>));
  exports.Set("newGenerator", Napi::Function::New(env, Guarded<NewGenerator>));
  exports.Set("generatorSeed", Napi::Function::New(env, Guarded<GeneratorSeed>));
  exports.Set("numThreads", Napi::Function::New(env, Guarded<NumThreads>));
  exports.Set("cudaAvailable", Napi::Function::New(env, Guarded<CudaAvailable>));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, Guarded<CudaDeviceCount>));
  exports.Set("cudaSynchronize", Napi::Function::New(env, Guarded<CudaSynchronize>));
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  selfsup::RegisterSkipGram(env, exports);
  selfsup::registerDistributed(env, exports);
  selfsup::RegisterOpProfiler(env, exports);
  return exports;
}

}  // namespace

// Tensor handles for the addon's other files (native/tensor_handles.h).
namespace selfsup {
const at::Tensor& tensorFromHandle(const Napi::Value& v, const char* what) { return tensorOf(v, what); }
Napi::Value tensorHandle(Napi::Env env, at::Tensor t) { return wrapTensor(env, std::move(t)); }
}  // namespace selfsup

NODE_API_MODULE(selfsup_native, Init)
