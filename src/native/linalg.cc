#include "addon.h"
namespace visurf {
void RegisterLinalg(Napi::Env env, Napi::Object exports) {}
}
