// The decoder-layer examples are plain upstream MLIR with unfused attention;
// raising leaves one kv.attention per layer and no softmax or contraction
// over the scores.
//
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/gpt2_mha.mlir | FileCheck %s --check-prefix=ORIG
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/llama_gqa.mlir | FileCheck %s --check-prefix=ORIG
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/gpt2_mha.mlir --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s --check-prefix=MHA
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/llama_gqa.mlir --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s --check-prefix=GQA

// ORIG: linalg.softmax

// MHA-LABEL: func @gpt2_attention_block
// MHA-NOT: linalg.softmax
// MHA: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32> mask(%{{.*}} : tensor<1x4x6x6xf32>) outs(%{{.*}} : tensor<1x4x6x4xf32>) {scale = 5.000000e-01 : f32}
// MHA-NOT: linalg.softmax
// MHA-NOT: linalg.batch_matmul
// MHA: linalg.matmul
// MHA: return

// GQA-LABEL: func @llama_attention_block
// GQA-NOT: linalg.softmax
// GQA: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32> mask(%{{.*}} : tensor<1x4x5x5xf32>) outs(%{{.*}} : tensor<1x4x5x8xf32>) {scale = 0.353553385 : f32}
// GQA-NOT: linalg.softmax
// GQA-NOT: linalg.batch_matmul
// GQA: return
