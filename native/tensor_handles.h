// What the addon's files share: tensor handles (defined in selfsup.cc, which owns
// them) and the registration of the other files' exports.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace selfsup {

// The tensor behind a JS tensor handle; throws a JS TypeError for anything else.
const at::Tensor& tensorFromHandle(const Napi::Value& v, const char* what);
// A new JS handle owning `t`.
Napi::Value tensorHandle(Napi::Env env, at::Tensor t);

// native/distributed.cc: process groups and collectives (c10d).
void registerDistributed(Napi::Env env, Napi::Object exports);

}  // namespace selfsup
