//===- Pipelines.cpp - Named kvfuse pipelines -----------------------------===//

#include "lowering/Pipelines.h"

void mlir::kv::registerPipelines() {}
