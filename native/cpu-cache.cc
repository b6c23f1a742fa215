// A caching CPU allocator for libtorch's large tensors: a freed block of 128 KiB or more
// waits in a free list of its (rounded) size for the next tensor of that size, instead of
// going back to the kernel. A training step allocates the same sizes in the same order every
// time, so from the second step on its large activations reuse the first step's pages:
// no mmap, no page faults, and a peak RSS close to the step's peak live memory. (Keeping
// freed memory in glibc's heap instead, as the M_MMAP_THRESHOLD tuning does, gave the speed
// but 1.3-1.7x PyTorch's peak RSS: the heap fragments.) Free lists hold at most
// `g_capBytes` in all; a block freed beyond that goes back to the kernel at once, so shapes
// that never recur cannot grow the cache without bound. Small blocks go straight to malloc.
// Every block carries a 64-byte header (its size; 64 keeps the data 64-byte aligned, as
// c10's alloc_cpu), so the raw deleter needs no lookup table.
// Off with SELFSUP_CPU_CACHE=0; the cap in MiB from SELFSUP_CPU_CACHE_MB (default 2048).
#include <napi.h>
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor_handles.h"

namespace selfsup {
namespace {

constexpr size_t kHeader = 64;
constexpr size_t kLarge = 128 << 10;  // glibc's default mmap threshold: below it malloc's own bins do well
constexpr size_t kRound = 64 << 10;   // large sizes round up to 64 KiB: near sizes share a list, waste < 1/2

struct Stats {
  size_t cachedBytes = 0;     // in free lists now
  size_t largeLiveBytes = 0;  // large blocks held by tensors now
  size_t peakLargeLiveBytes = 0;
  size_t hits = 0, misses = 0, released = 0;
};

std::mutex g_mutex;
std::unordered_map<size_t, std::vector<void*>> g_free;  // rounded total size -> blocks (header included)
Stats g_stats;
size_t g_capBytes = size_t(2048) << 20;

size_t RoundedSize(size_t total) {
  return total < kLarge ? total : (total + kRound - 1) / kRound * kRound;
}

void* RawBlock(size_t total) {
  void* p = nullptr;
  if (posix_memalign(&p, kHeader, total) != 0) return nullptr;
  return p;
}

void FreeData(void* data) {
  if (!data) return;
  char* block = static_cast<char*>(data) - kHeader;
  size_t total;
  std::memcpy(&total, block, sizeof total);
  if (total < kLarge) {
    std::free(block);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_stats.largeLiveBytes -= total;
    if (g_stats.cachedBytes + total <= g_capBytes) {
      g_free[total].push_back(block);
      g_stats.cachedBytes += total;
      return;
    }
    g_stats.released += 1;
  }
  std::free(block);
}

struct CachingCpuAllocator final : c10::Allocator {
  c10::DataPtr allocate(size_t n) const override {
    const size_t total = RoundedSize(n + kHeader);
    void* block = nullptr;
    if (total >= kLarge) {
      std::lock_guard<std::mutex> lock(g_mutex);
      auto it = g_free.find(total);
      if (it != g_free.end() && !it->second.empty()) {
        block = it->second.back();
        it->second.pop_back();
        g_stats.cachedBytes -= total;
        g_stats.hits += 1;
      } else {
        g_stats.misses += 1;
      }
      g_stats.largeLiveBytes += total;
      if (g_stats.largeLiveBytes > g_stats.peakLargeLiveBytes) g_stats.peakLargeLiveBytes = g_stats.largeLiveBytes;
    }
    if (!block) block = RawBlock(total);
    if (!block && total >= kLarge) {
      // Out of memory with blocks idle in the cache: give them back and try once more.
      ReleaseCached();
      block = RawBlock(total);
    }
    if (!block) {
      if (total >= kLarge) {
        std::lock_guard<std::mutex> lock(g_mutex);
        g_stats.largeLiveBytes -= total;
      }
      TORCH_CHECK(false, "selfsup: out of memory allocating ", n, " bytes on the cpu");
    }
    std::memcpy(block, &total, sizeof total);
    void* data = static_cast<char*>(block) + kHeader;
    return {data, data, &FreeData, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override {
    return &FreeData;
  }

  static size_t ReleaseCached() {
    std::unordered_map<size_t, std::vector<void*>> blocks;
    size_t bytes;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      blocks.swap(g_free);
      bytes = g_stats.cachedBytes;
      g_stats.cachedBytes = 0;
    }
    for (auto& entry : blocks) for (void* b : entry.second) std::free(b);
    return bytes;
  }
};

CachingCpuAllocator g_allocator;
bool g_installed = false;

Napi::Value CpuCacheStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stats s;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    s = g_stats;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("enabled", Napi::Boolean::New(env, g_installed));
  o.Set("capBytes", Napi::Number::New(env, static_cast<double>(g_capBytes)));
  o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(s.cachedBytes)));
  o.Set("largeLiveBytes", Napi::Number::New(env, static_cast<double>(s.largeLiveBytes)));
  o.Set("peakLargeLiveBytes", Napi::Number::New(env, static_cast<double>(s.peakLargeLiveBytes)));
  o.Set("hits", Napi::Number::New(env, static_cast<double>(s.hits)));
  o.Set("misses", Napi::Number::New(env, static_cast<double>(s.misses)));
  o.Set("released", Napi::Number::New(env, static_cast<double>(s.released)));
  return o;
}

Napi::Value EmptyCpuCache(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(CachingCpuAllocator::ReleaseCached()));
}

}  // namespace

// Installs the allocator (unless SELFSUP_CPU_CACHE=0) and exports its two functions; true when installed.
bool RegisterCpuCache(Napi::Env env, Napi::Object exports) {
  const char* off = std::getenv("SELFSUP_CPU_CACHE");
  if (!(off && std::string(off) == "0")) {
    if (const char* mb = std::getenv("SELFSUP_CPU_CACHE_MB")) {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(mb, &end, 10);
      if (end != mb && *end == '\0') g_capBytes = static_cast<size_t>(v) << 20;
    }
    // Above every other registration (c10 registers its default at priority 0).
    c10::SetCPUAllocator(&g_allocator, /*priority=*/100);
    g_installed = c10::GetCPUAllocator() == &g_allocator;
  }
  exports.Set("cpuCacheStats", Napi::Function::New(env, CpuCacheStats));
  exports.Set("emptyCpuCache", Napi::Function::New(env, EmptyCpuCache));
  return g_installed;
}

}  // namespace selfsup
