//===- KvInterfaces.cpp - kv dialect interfaces ---------------------------===//

#include "dialects/kv/KvInterfaces.h"

#include "dialects/kv/KvInterfaces.cpp.inc"
