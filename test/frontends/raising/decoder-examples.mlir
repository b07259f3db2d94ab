// The decoder-layer examples are plain upstream MLIR with unfused attention
// between a pre-norm and a feed-forward; raising leaves one kv.attention per
// layer (GQA kept as 2 kv heads, not repeated), no softmax or contraction
// over the scores, and the rest of the layer as it was.
//
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/gpt2_mha.mlir | FileCheck %s --check-prefix=ORIG
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/llama_gqa.mlir | FileCheck %s --check-prefix=ORIG
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/gpt2_mha.mlir --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s --check-prefix=MHA
// RUN: kvfuse-opt %kvfuse_src/examples/decoder/llama_gqa.mlir --pass-pipeline="builtin.module(func.func(kv-raise-attention))" | FileCheck %s --check-prefix=GQA

// ORIG: linalg.batch_matmul
// ORIG: linalg.softmax
// ORIG: linalg.batch_matmul

// MHA-LABEL: func @gpt2_decoder_layer
// MHA-NOT: linalg.softmax
// MHA: math.rsqrt
// MHA: linalg.matmul
// MHA: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x37x18xf32>, tensor<1x4x37x18xf32>, tensor<1x4x37x18xf32> mask(%{{.*}} : tensor<1x4x37x37xf32>) outs(%{{.*}} : tensor<1x4x37x18xf32>) {scale = 0.235702276 : f32}
// MHA-NOT: linalg.softmax
// MHA-NOT: linalg.batch_matmul
// MHA-NOT: kv.attention
// MHA: linalg.matmul
// MHA: math.tanh
// MHA: linalg.matmul
// MHA: return

// GQA-LABEL: func @llama_decoder_layer
// GQA-NOT: linalg.softmax
// GQA: math.rsqrt
// GQA: kv.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x6x37x20xf32>, tensor<1x2x37x20xf32>, tensor<1x2x37x20xf32> mask(%{{.*}} : tensor<1x6x37x37xf32>) outs(%{{.*}} : tensor<1x6x37x20xf32>) {scale = 0.223606795 : f32}
// GQA-NOT: linalg.softmax
// GQA-NOT: linalg.batch_matmul
// GQA-NOT: kv.attention
// GQA: linalg.matmul
// GQA: math.exp
// GQA: linalg.matmul
// GQA: return
