//===- ImportAttention.cpp - ONNX Attention to kv.attention ---------------===//
//
// The semantics followed here are the ONNX `Attention` operator of opsets 23,
// 24 and 25 with its published errata: causal masking aligned to absolute
// positions (offset = past length with an internal cache, nonpad - S with an
// external one, 0 otherwise), soft-cap before the masks, GQA by
// repeat-interleave and fully masked rows giving 0.
//
// ONNX Runtime's contrib operator com.microsoft.GroupQueryAttention (version
// 1) is imported too, for the subset documented in docs/CONFORMANCE.md:
// present = past rows before each sequence's past length seqlens_k + 1 - S
// (0 in a first prompt), the S new rows after them, zeros beyond; query row i
// at position past + i, causal, keys j with p - local_window_size <= j.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/OnnxImport.h"

#include "dialects/kv/KvDialect.h"
#include "dialects/kv/KvOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <optional>

using namespace mlir;

namespace {

/// ONNX TensorProto.DataType codes the importer understands.
enum OnnxType : int {
  kFloat = 1,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kBFloat16 = 16,
};

/// Input slots of Attention.
enum Slot : int {
  kQ = 0,
  kK,
  kV,
  kMask,
  kPastKey,
  kPastValue,
  kNonpad,
  kNumSlots
};

/// Input slots of com.microsoft.GroupQueryAttention.
enum GqaSlot : int {
  kGqaQuery = 0,
  kGqaKey,
  kGqaValue,
  kGqaPastKey,
  kGqaPastValue,
  kGqaSeqlensK,
  kGqaTotalSeqLen,
  kGqaCosCache,
  kGqaSinCache,
  kGqaPositionIds,
  kGqaAttentionBias,
  kGqaHeadSink,
  kGqaNumSlots
};

/// The attributes Attention and GroupQueryAttention spell and read alike.
struct SharedAttentionAttrs {
  std::optional<int64_t> kvHeads;
  std::optional<float> scale;
  float softcap = 0.0f;
};

/// The kind `attr` must have but lacks ("a float" or "an int"), or null when
/// it has it: reading a field of the wrong kind would silently give 0.
const char *wrongAttrKind(const ::onnx::AttributeProto &attr) {
  bool isFloatAttr = attr.name() == "scale" || attr.name() == "softcap";
  auto wantType = isFloatAttr ? ::onnx::AttributeProto::FLOAT
                              : ::onnx::AttributeProto::INT;
  if (attr.type() == wantType)
    return nullptr;
  return isFloatAttr ? "a float" : "an int";
}

/// Stores `attr` in `shared` when it is one of the shared attributes.
bool readSharedAttr(const ::onnx::AttributeProto &attr,
                    SharedAttentionAttrs &shared) {
  const std::string &name = attr.name();
  if (name == "kv_num_heads")
    shared.kvHeads = attr.i();
  else if (name == "scale")
    shared.scale = attr.f();
  else if (name == "softcap")
    shared.softcap = attr.f();
  else
    return false;
  return true;
}

/// The `n` elements of an initializer, from its raw bytes (one `Raw` each,
/// little-endian as ONNX stores them) or from its typed field (`fieldSize`
/// entries, read by `field`); nothing when the count does not match `n`.
template <typename Raw, typename Out, typename Field>
std::optional<SmallVector<Out>> readElements(const ::onnx::TensorProto &tensor,
                                             int64_t n, int64_t fieldSize,
                                             Field field) {
  SmallVector<Out> v(n);
  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    if (raw.size() != size_t(sizeof(Raw) * n))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i) {
      Raw x;
      std::memcpy(&x, raw.data() + sizeof(Raw) * i, sizeof(Raw));
      v[i] = static_cast<Out>(x);
    }
    return v;
  }
  if (fieldSize != n)
    return std::nullopt;
  for (int64_t i = 0; i < n; ++i)
    v[i] = field(i);
  return v;
}

class Importer {
public:
  Importer(MLIRContext &context, StringRef fileName)
      : context(context), builder(&context),
        loc(FileLineColLoc::get(&context, fileName, 0, 0)) {}

  OwningOpRef<ModuleOp> run(const ::onnx::ModelProto &model,
                            StringRef funcName);

private:
  InFlightDiagnostic error() { return emitError(loc); }
  InFlightDiagnostic nodeError(const ::onnx::NodeProto &node) {
    return emitError(loc) << "Attention node '" << node.name() << "': ";
  }

  FailureOr<Type> elementType(int code, StringRef what);
  FailureOr<RankedTensorType> valueType(const ::onnx::ValueInfoProto &info);
  /// A graph initializer as an `arith.constant`.
  FailureOr<Value> importInitializer(const ::onnx::TensorProto &tensor);
  LogicalResult importAttention(const ::onnx::NodeProto &node,
                                int64_t opset);
  LogicalResult importGroupQueryAttention(const ::onnx::NodeProto &node);
  /// GQA's present cache [B, Hkv, T, D]: past rows before `pastLens[b]`, the
  /// S new rows at [pastLens[b], pastLens[b] + S), zeros elsewhere.
  Value emitPresent(Value fresh, Value past, Value pastLens, int64_t total);

  /// [B, S, H*D] -> [B, H, S, D].
  Value splitHeads(Value value, int64_t heads);
  /// [B, H, S, D] -> [B, S, H*D].
  Value mergeHeads(Value value);

  struct ScoreSpec {
    double scale = 1.0;
    float softcap = 0.0f;
    bool causal = false;
    int64_t causalOffset = 0, left = -1, right = -1, mode = 0;
  };
  /// The `qk_matmul_output` of ONNX Attention ([B, Hq, S, T]) in upstream
  /// linalg: the scaled scores (mode 0), soft-capped (1), plus masks and
  /// bias (2), or the softmax probabilities with fully masked rows 0 (3).
  Value emitScores(Value q, Value k, Value mask, Value kvLens, Value offsets,
                   const ScoreSpec &spec);

  MLIRContext &context;
  OpBuilder builder;
  Location loc;
  /// ONNX value name -> SSA value.
  llvm::StringMap<Value> values;
  /// ONNX value name -> declared graph type (inputs and outputs).
  llvm::StringMap<RankedTensorType> declared;
  /// ONNX value name -> ONNX element type code of graph inputs and
  /// initializers (the MLIR type narrows int64 to i32).
  llvm::StringMap<int> onnxElemType;
};

FailureOr<Type> Importer::elementType(int code, StringRef what) {
  switch (code) {
  case kFloat:
    return Type(builder.getF32Type());
  case kFloat16:
    return Type(builder.getF16Type());
  case kBFloat16:
    return Type(builder.getBF16Type());
  case kBool:
    return Type(builder.getI1Type());
  case kInt32:
    return Type(builder.getI32Type());
  case kInt64:
    // Sequence lengths are narrowed to the i32 lengths of the kv dialect; the
    // caller passes them as int32.
    return Type(builder.getI32Type());
  default:
    return error() << "'" << what << "' has unsupported ONNX element type "
                   << code << " (supported: float, float16, bfloat16, bool, "
                   << "int32/int64 lengths)";
  }
}

FailureOr<RankedTensorType>
Importer::valueType(const ::onnx::ValueInfoProto &info) {
  if (!info.type().has_tensor_type())
    return error() << "graph value '" << info.name() << "' is not a tensor";
  const auto &tensor = info.type().tensor_type();
  auto element = elementType(tensor.elem_type(), info.name());
  if (failed(element))
    return failure();
  if (!tensor.has_shape())
    return error() << "graph value '" << info.name()
                   << "' has no shape; static shapes are required";
  SmallVector<int64_t> shape;
  for (const auto &dim : tensor.shape().dim()) {
    if (!dim.has_dim_value())
      return error() << "graph value '" << info.name()
                     << "' has a symbolic dimension '" << dim.dim_param()
                     << "'; static shapes are required";
    shape.push_back(dim.dim_value());
  }
  return RankedTensorType::get(shape, *element);
}

FailureOr<Value>
Importer::importInitializer(const ::onnx::TensorProto &tensor) {
  auto element = elementType(tensor.data_type(), tensor.name());
  if (failed(element))
    return failure();
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL)
    return error() << "initializer '" << tensor.name()
                   << "' stores its data externally, which is not supported";
  auto type = RankedTensorType::get(shape, *element);
  auto sizeError = [&]() {
    return error() << "initializer '" << tensor.name() << "' holds the wrong "
                   << "number of elements for shape " << type;
  };
  // A case leaves `attr` null when the element count does not fit the shape.
  DenseElementsAttr attr;
  switch (tensor.data_type()) {
  case kFloat:
    if (auto v = readElements<float, float>(
            tensor, n, tensor.float_data_size(),
            [&](int i) { return tensor.float_data(i); }))
      attr = DenseElementsAttr::get(type, ArrayRef<float>(*v));
    break;
  case kFloat16:
  case kBFloat16:
    // 16-bit floats travel as their bits, in int32_data without raw bytes.
    if (auto bits = readElements<uint16_t, uint16_t>(
            tensor, n, tensor.int32_data_size(), [&](int i) {
              return static_cast<uint16_t>(tensor.int32_data(i));
            })) {
      const llvm::fltSemantics &sem =
          cast<FloatType>(*element).getFloatSemantics();
      SmallVector<APFloat> v;
      for (uint16_t b : *bits)
        v.push_back(APFloat(sem, APInt(16, b)));
      attr = DenseElementsAttr::get(type, v);
    }
    break;
  case kBool:
    if (auto v = readElements<uint8_t, bool>(
            tensor, n, tensor.int32_data_size(),
            [&](int i) { return tensor.int32_data(i) != 0; }))
      attr = DenseElementsAttr::get(type, ArrayRef<bool>(*v));
    break;
  case kInt32:
    if (auto v = readElements<int32_t, int32_t>(
            tensor, n, tensor.int32_data_size(),
            [&](int i) { return tensor.int32_data(i); }))
      attr = DenseElementsAttr::get(type, ArrayRef<int32_t>(*v));
    break;
  case kInt64:
    if (auto wide = readElements<int64_t, int64_t>(
            tensor, n, tensor.int64_data_size(),
            [&](int i) { return tensor.int64_data(i); })) {
      SmallVector<int32_t> v;
      for (int64_t x : *wide) {
        if (x < INT32_MIN || x > INT32_MAX)
          return error() << "initializer '" << tensor.name()
                         << "' holds a length that does not fit in i32";
        v.push_back(static_cast<int32_t>(x));
      }
      attr = DenseElementsAttr::get(type, ArrayRef<int32_t>(v));
    }
    break;
  default:
    return error() << "initializer '" << tensor.name()
                   << "' has an unsupported element type";
  }
  if (!attr)
    return sizeError();
  return Value(arith::ConstantOp::create(builder, loc, attr));
}

Value Importer::splitHeads(Value value, int64_t heads) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t b = type.getDimSize(0), s = type.getDimSize(1),
          d = type.getDimSize(2) / heads;
  auto expanded = RankedTensorType::get({b, s, heads, d},
                                        type.getElementType());
  SmallVector<ReassociationIndices> reassoc = {{0}, {1}, {2, 3}};
  Value split = tensor::ExpandShapeOp::create(builder, loc, expanded, value,
                                              reassoc);
  Value init = tensor::EmptyOp::create(builder, loc,
                                       ArrayRef<int64_t>{b, heads, s, d},
                                       type.getElementType());
  return linalg::TransposeOp::create(builder, loc, split, init,
                                     ArrayRef<int64_t>{0, 2, 1, 3})
      ->getResult(0);
}

Value Importer::mergeHeads(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t b = type.getDimSize(0), h = type.getDimSize(1),
          s = type.getDimSize(2), d = type.getDimSize(3);
  Value init = tensor::EmptyOp::create(builder, loc,
                                       ArrayRef<int64_t>{b, s, h, d},
                                       type.getElementType());
  Value transposed =
      linalg::TransposeOp::create(builder, loc, value, init,
                                  ArrayRef<int64_t>{0, 2, 1, 3})
          ->getResult(0);
  auto merged = RankedTensorType::get({b, s, h * d}, type.getElementType());
  SmallVector<ReassociationIndices> reassoc = {{0}, {1}, {2, 3}};
  return tensor::CollapseShapeOp::create(builder, loc, merged, transposed,
                                         reassoc);
}

Value Importer::emitScores(Value q, Value k, Value mask, Value kvLens,
                           Value offsets, const ScoreSpec &spec) {
  auto qType = cast<RankedTensorType>(q.getType());
  auto kType = cast<RankedTensorType>(k.getType());
  int64_t b = qType.getDimSize(0), hq = qType.getDimSize(1),
          s = qType.getDimSize(2), t = kType.getDimSize(2);
  int64_t group = hq / kType.getDimSize(1);
  Type f32 = builder.getF32Type();
  auto par = utils::IteratorType::parallel,
       red = utils::IteratorType::reduction;
  MLIRContext *ctx = &context;
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto constF = [&](OpBuilder &bb, Location l, double x) -> Value {
    return arith::ConstantOp::create(bb, l, bb.getF32FloatAttr(x));
  };
  // Scores are computed in f32 and stored in the model's type (T1).
  Type element = qType.getElementType();
  auto castTo = [&](Value x) -> Value {
    if (element == f32)
      return x;
    AffineMap id = builder.getMultiDimIdentityMap(4);
    Value init = tensor::EmptyOp::create(builder, loc,
                                         ArrayRef<int64_t>{b, hq, s, t},
                                         element);
    return linalg::GenericOp::create(
               builder, loc, TypeRange{init.getType()}, ValueRange{x},
               ValueRange{init}, ArrayRef<AffineMap>{id, id},
               SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
               [&](OpBuilder &bb, Location l, ValueRange args) {
                 linalg::YieldOp::create(
                     bb, l,
                     ValueRange{arith::TruncFOp::create(bb, l, element,
                                                        args[0])});
               })
        ->getResult(0);
  };
  auto filled = [&](ArrayRef<int64_t> shape, double x) -> Value {
    Value empty = tensor::EmptyOp::create(builder, loc, shape, f32);
    Value c = constF(builder, loc, x);
    return linalg::FillOp::create(builder, loc, c, empty)->getResult(0);
  };

  // Q.K^T over (b, h, i, j, d); query head h reads kv head h / group.
  AffineMap qMap = AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx);
  AffineMap kMap =
      AffineMap::get(5, 0, {d(0), d(1).floorDiv(group), d(3), d(4)}, ctx);
  AffineMap oMap = AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx);
  Value scores =
      linalg::GenericOp::create(
          builder, loc, TypeRange{RankedTensorType::get({b, hq, s, t}, f32)},
          ValueRange{q, k}, ValueRange{filled({b, hq, s, t}, 0.0)},
          ArrayRef<AffineMap>{qMap, kMap, oMap},
          ArrayRef<utils::IteratorType>{par, par, par, par, red},
          [&](OpBuilder &bb, Location l, ValueRange args) {
            Value qv = args[0], kv = args[1];
            if (!qv.getType().isF32()) {
              qv = arith::ExtFOp::create(bb, l, f32, qv);
              kv = arith::ExtFOp::create(bb, l, f32, kv);
            }
            Value prod = arith::MulFOp::create(bb, l, qv, kv);
            Value sum = arith::AddFOp::create(bb, l, args[2], prod);
            linalg::YieldOp::create(bb, l, sum);
          })
          ->getResult(0);

  // Elementwise: scale, softcap, then the masks as a -inf bias.
  SmallVector<Value> ins = {scores};
  AffineMap id4 = builder.getMultiDimIdentityMap(4);
  SmallVector<AffineMap> maps = {id4};
  int maskArg = -1, lensArg = -1, offArg = -1;
  if (spec.mode >= 2 && mask) {
    auto mType = cast<RankedTensorType>(mask.getType());
    int64_t shift = 4 - mType.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < mType.getRank(); ++i)
      exprs.push_back(mType.getDimSize(i) == 1 ? getAffineConstantExpr(0, ctx)
                                               : d(i + shift));
    maskArg = ins.size();
    ins.push_back(mask);
    maps.push_back(AffineMap::get(4, 0, exprs, ctx));
  }
  AffineMap batchMap = AffineMap::get(4, 0, {d(0)}, ctx);
  if (spec.mode >= 2 && kvLens) {
    lensArg = ins.size();
    ins.push_back(kvLens);
    maps.push_back(batchMap);
  }
  if (spec.mode >= 2 && offsets) {
    offArg = ins.size();
    ins.push_back(offsets);
    maps.push_back(batchMap);
  }
  maps.push_back(id4);
  Value biased =
      linalg::GenericOp::create(
          builder, loc, TypeRange{RankedTensorType::get({b, hq, s, t}, f32)},
          ins, ValueRange{tensor::EmptyOp::create(builder, loc,
                                                  ArrayRef<int64_t>{b, hq, s, t},
                                                  f32)},
          maps, ArrayRef<utils::IteratorType>{par, par, par, par},
          [&](OpBuilder &bb, Location l, ValueRange args) {
            Value x = arith::MulFOp::create(bb, l, args[0],
                                            constF(bb, l, spec.scale));
            if (spec.mode >= 1 && spec.softcap > 0.0f) {
              Value c = constF(bb, l, spec.softcap);
              Value th = math::TanhOp::create(
                  bb, l, arith::DivFOp::create(bb, l, x, c));
              x = arith::MulFOp::create(bb, l, th, c);
            }
            if (spec.mode >= 2) {
              Type idx = bb.getIndexType();
              Value i = linalg::IndexOp::create(bb, l, 2);
              Value j = linalg::IndexOp::create(bb, l, 3);
              Value pos;
              if (offArg >= 0)
                pos = arith::AddIOp::create(
                    bb, l, i,
                    arith::IndexCastOp::create(bb, l, idx, args[offArg]));
              else
                pos = arith::AddIOp::create(
                    bb, l, i,
                    arith::ConstantIndexOp::create(bb, l, spec.causalOffset));
              Value ok = arith::ConstantIntOp::create(bb, l, 1, 1);
              auto both = [&](arith::CmpIPredicate pred, Value lhs,
                              Value rhs) {
                Value c = arith::CmpIOp::create(bb, l, pred, lhs, rhs);
                ok = arith::AndIOp::create(bb, l, ok, c);
              };
              using P = arith::CmpIPredicate;
              if (spec.causal)
                both(P::sle, j, pos);
              if (spec.left >= 0)
                both(P::sge, j,
                     arith::SubIOp::create(
                         bb, l, pos,
                         arith::ConstantIndexOp::create(bb, l, spec.left)));
              if (spec.right >= 0)
                both(P::sle, j,
                     arith::AddIOp::create(
                         bb, l, pos,
                         arith::ConstantIndexOp::create(bb, l, spec.right)));
              if (lensArg >= 0)
                both(P::slt, j,
                     arith::IndexCastOp::create(bb, l, idx, args[lensArg]));
              if (maskArg >= 0) {
                Value m = args[maskArg];
                if (m.getType().isInteger(1))
                  ok = arith::AndIOp::create(bb, l, ok, m);
                else
                  x = arith::AddFOp::create(
                      bb, l, x,
                      m.getType().isF32() ? m
                                          : Value(arith::ExtFOp::create(
                                                bb, l, f32, m)));
              }
              x = arith::SelectOp::create(
                  bb, l, ok, x,
                  constF(bb, l, -std::numeric_limits<double>::infinity()));
            }
            linalg::YieldOp::create(bb, l, x);
          })
          ->getResult(0);
  if (spec.mode < 3)
    return castTo(biased);

  // Softmax over j; a row that is -inf everywhere gives 0.
  AffineMap rowMap = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
  auto rowType = RankedTensorType::get({b, hq, s}, f32);
  Value rowMax =
      linalg::GenericOp::create(
          builder, loc, TypeRange{rowType}, ValueRange{biased},
          ValueRange{filled({b, hq, s},
                            -std::numeric_limits<double>::infinity())},
          ArrayRef<AffineMap>{id4, rowMap},
          ArrayRef<utils::IteratorType>{par, par, par, red},
          [&](OpBuilder &bb, Location l, ValueRange args) {
            linalg::YieldOp::create(
                bb, l, ValueRange{arith::MaximumFOp::create(bb, l, args[0], args[1])});
          })
          ->getResult(0);
  auto expBody = [&](OpBuilder &bb, Location l, Value x, Value m) -> Value {
    // exp(x - max), 0 for a fully masked row (max = -inf).
    Value ninf = constF(bb, l, -std::numeric_limits<double>::infinity());
    Value empty = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OEQ, m,
                                        ninf);
    Value e = math::ExpOp::create(bb, l, arith::SubFOp::create(bb, l, x, m));
    return arith::SelectOp::create(bb, l, empty, constF(bb, l, 0.0), e);
  };
  Value rowSum =
      linalg::GenericOp::create(
          builder, loc, TypeRange{rowType}, ValueRange{biased, rowMax},
          ValueRange{filled({b, hq, s}, 0.0)},
          ArrayRef<AffineMap>{id4, rowMap, rowMap},
          ArrayRef<utils::IteratorType>{par, par, par, red},
          [&](OpBuilder &bb, Location l, ValueRange args) {
            Value e = expBody(bb, l, args[0], args[1]);
            linalg::YieldOp::create(bb, l,
                                    ValueRange{arith::AddFOp::create(bb, l, args[2], e)});
          })
          ->getResult(0);
  Value probs = linalg::GenericOp::create(
             builder, loc,
             TypeRange{RankedTensorType::get({b, hq, s, t}, f32)},
             ValueRange{biased, rowMax, rowSum},
             ValueRange{tensor::EmptyOp::create(
                 builder, loc, ArrayRef<int64_t>{b, hq, s, t}, f32)},
             ArrayRef<AffineMap>{id4, rowMap, rowMap, id4},
             ArrayRef<utils::IteratorType>{par, par, par, par},
             [&](OpBuilder &bb, Location l, ValueRange args) {
               Value e = expBody(bb, l, args[0], args[1]);
               Value zero = constF(bb, l, 0.0);
               Value isZero = arith::CmpFOp::create(
                   bb, l, arith::CmpFPredicate::OEQ, args[2], zero);
               Value safe = arith::SelectOp::create(bb, l, isZero,
                                                    constF(bb, l, 1.0),
                                                    args[2]);
               linalg::YieldOp::create(bb, l,
                                       ValueRange{arith::DivFOp::create(bb, l, e, safe)});
             })
      ->getResult(0);
  return castTo(probs);
}

LogicalResult Importer::importAttention(const ::onnx::NodeProto &node,
                                        int64_t opset) {
  // Attributes.
  std::optional<int64_t> qHeadsAttr;
  int64_t isCausal = 0, left = -1, right = -1, qkMode = 0;
  SharedAttentionAttrs shared;
  for (const auto &attr : node.attribute()) {
    const std::string &name = attr.name();
    if (const char *want = wrongAttrKind(attr))
      return nodeError(node) << "attribute '" << name << "' must be " << want;
    if (readSharedAttr(attr, shared))
      continue;
    if (name == "is_causal")
      isCausal = attr.i();
    else if (name == "q_num_heads")
      qHeadsAttr = attr.i();
    else if (name == "qk_matmul_output_mode")
      qkMode = attr.i();
    else if (name == "softmax_precision") {
      // The softmax is always computed in f32 (or wider in the reference);
      // the attribute only changes rounding, never the result's meaning.
      int64_t code = attr.i();
      if (code != kFloat && code != kFloat16 && code != kDouble &&
          code != kBFloat16)
        return nodeError(node) << "unsupported softmax_precision " << code;
    } else if (name == "left_window_size" || name == "right_window_size") {
      if (opset < 25)
        return nodeError(node) << "attribute '" << name
                               << "' needs opset 25, model has opset "
                               << opset;
      (name == "left_window_size" ? left : right) = attr.i();
    } else
      return nodeError(node) << "unsupported attribute '" << name << "'";
  }
  std::optional<int64_t> kvHeadsAttr = shared.kvHeads;
  std::optional<float> scale = shared.scale;
  float softcap = shared.softcap;
  if (isCausal != 0 && isCausal != 1)
    return nodeError(node) << "is_causal must be 0 or 1, got " << isCausal;
  if (left < -1 || right < -1)
    return nodeError(node) << "window sizes must be >= -1, got left=" << left
                           << " right=" << right;
  if (softcap < 0.0f)
    return nodeError(node) << "negative softcap " << softcap
                           << " is not well defined by the standard";

  // Inputs (empty names skip an optional slot).
  if (node.input_size() < 3 || node.input_size() > kNumSlots)
    return nodeError(node) << "expects 3 to " << int(kNumSlots)
                           << " inputs, got " << node.input_size();
  Value in[kNumSlots] = {};
  for (int i = 0; i < node.input_size(); ++i) {
    const std::string &name = node.input(i);
    if (name.empty())
      continue;
    auto it = values.find(name);
    if (it == values.end())
      return nodeError(node) << "input '" << name
                             << "' is neither a graph input, an initializer "
                             << "nor an output of an earlier Attention node";
    in[i] = it->second;
  }
  if (!in[kQ] || !in[kK] || !in[kV])
    return nodeError(node) << "Q, K and V are required";
  if (in[kNonpad] && opset < 24)
    return nodeError(node) << "input 'nonpad_kv_seqlen' needs opset 24";
  if (bool(in[kPastKey]) != bool(in[kPastValue]))
    return nodeError(node) << "past_key and past_value must come together";

  // Outputs.
  if (node.output_size() < 1 || node.output_size() > 4)
    return nodeError(node) << "expects 1 to 4 outputs, got "
                           << node.output_size();
  bool wantScores = node.output_size() == 4 && !node.output(3).empty();
  if (qkMode < 0 || qkMode > 3)
    return nodeError(node) << "qk_matmul_output_mode must be 0 to 3, got "
                           << qkMode;
  bool wantPresentKey = node.output_size() > 1 && !node.output(1).empty();
  bool wantPresentValue = node.output_size() > 2 && !node.output(2).empty();
  if ((wantPresentKey || wantPresentValue || in[kPastKey]) && in[kNonpad])
    return nodeError(node) << "nonpad_kv_seqlen cannot be combined with "
                           << "past_key/past_value/present outputs";

  auto qType = cast<RankedTensorType>(in[kQ].getType());
  auto kType = cast<RankedTensorType>(in[kK].getType());
  auto vType = cast<RankedTensorType>(in[kV].getType());
  Type element = qType.getElementType();
  if (!isa<FloatType>(element) || kType.getElementType() != element ||
      vType.getElementType() != element)
    return nodeError(node) << "Q, K and V must share one float element type";

  // 3D inputs carry the heads in the hidden axis.
  bool is3d = qType.getRank() == 3;
  Value q = in[kQ], k = in[kK], v = in[kV];
  if (is3d) {
    if (kType.getRank() != 3 || vType.getRank() != 3)
      return nodeError(node) << "Q is 3D, so K and V must be 3D too";
    if (!qHeadsAttr || !kvHeadsAttr)
      return nodeError(node) << "3D inputs need q_num_heads and kv_num_heads";
    int64_t hq = *qHeadsAttr, hkv = *kvHeadsAttr;
    if (hq <= 0 || hkv <= 0 || qType.getDimSize(2) % hq != 0 ||
        kType.getDimSize(2) % hkv != 0 || vType.getDimSize(2) % hkv != 0)
      return nodeError(node) << "hidden sizes are not divisible by "
                             << "q_num_heads=" << hq
                             << " / kv_num_heads=" << hkv;
    if (qType.getDimSize(2) / hq != kType.getDimSize(2) / hkv)
      return nodeError(node) << "Q head size " << qType.getDimSize(2) / hq
                             << " differs from K head size "
                             << kType.getDimSize(2) / hkv;
    q = splitHeads(q, hq);
    k = splitHeads(k, hkv);
    v = splitHeads(v, hkv);
  } else if (qType.getRank() == 4) {
    if (kType.getRank() != 4 || vType.getRank() != 4)
      return nodeError(node) << "Q is 4D, so K and V must be 4D too";
    if (opset >= 25 && (qHeadsAttr || kvHeadsAttr))
      return nodeError(node) << "opset 25 forbids q_num_heads/kv_num_heads "
                             << "with 4D inputs";
  } else {
    return nodeError(node) << "Q must be 3D or 4D, got rank "
                           << qType.getRank();
  }

  auto q4 = cast<RankedTensorType>(q.getType());
  auto k4 = cast<RankedTensorType>(k.getType());
  auto v4 = cast<RankedTensorType>(v.getType());
  int64_t batch = q4.getDimSize(0), hq = q4.getDimSize(1),
          sq = q4.getDimSize(2), hkv = k4.getDimSize(1),
          dv = v4.getDimSize(3);
  if (hkv == 0 || hq % hkv != 0)
    return nodeError(node) << "query heads " << hq
                           << " are not a multiple of kv heads " << hkv;

  // Internal cache: present = concat(past, new) on the sequence axis, and the
  // queries sit after the past tokens.
  int64_t past = 0;
  if (in[kPastKey]) {
    auto pkType = cast<RankedTensorType>(in[kPastKey].getType());
    auto pvType = cast<RankedTensorType>(in[kPastValue].getType());
    if (pkType.getRank() != 4 || pvType.getRank() != 4)
      return nodeError(node) << "past_key and past_value must be 4D";
    if (pkType.getElementType() != element ||
        pvType.getElementType() != element)
      return nodeError(node) << "past_key/past_value must have Q's type";
    past = pkType.getDimSize(2);
    if (pvType.getDimSize(2) != past)
      return nodeError(node) << "past_key and past_value lengths differ";
    // The cache must line up with the new tokens on every axis but length.
    auto k4Type = cast<RankedTensorType>(k.getType());
    auto v4Type = cast<RankedTensorType>(v.getType());
    for (int64_t d : {0, 1, 3})
      if (pkType.getDimSize(d) != k4Type.getDimSize(d) ||
          pvType.getDimSize(d) != v4Type.getDimSize(d))
        return nodeError(node)
               << "past_key/past_value shapes " << pkType << ", " << pvType
               << " do not match K/V " << k4Type << ", " << v4Type
               << " outside the sequence axis";
    k = tensor::ConcatOp::create(builder, loc, /*dim=*/2,
                                 ValueRange{in[kPastKey], k});
    v = tensor::ConcatOp::create(builder, loc, /*dim=*/2,
                                 ValueRange{in[kPastValue], v});
  }
  int64_t total = cast<RankedTensorType>(k.getType()).getDimSize(2);

  // Explicit mask: right-aligned broadcast to [B, Hq, S, T]; a short last
  // axis is padded with "not allowed".
  Value mask = in[kMask];
  if (mask) {
    auto mType = cast<RankedTensorType>(mask.getType());
    Type mElement = mType.getElementType();
    bool isBool = mElement.isInteger(1);
    if (!isBool && mElement != element)
      return nodeError(node) << "attn_mask must be bool or Q's float type, "
                             << "got " << mElement;
    if (mType.getRank() < 1 || mType.getRank() > 4)
      return nodeError(node) << "attn_mask must have rank 1 to 4, got "
                             << mType.getRank();
    int64_t last = mType.getDimSize(mType.getRank() - 1);
    if (last > total)
      return nodeError(node) << "attn_mask covers " << last
                             << " keys, more than the total " << total;
    if (mType.getRank() == 1) {
      auto type2 = RankedTensorType::get({1, last}, mElement);
      SmallVector<ReassociationIndices> reassoc = {{0, 1}};
      mask = tensor::ExpandShapeOp::create(builder, loc, type2, mask,
                                           reassoc);
      mType = type2;
    }
    if (last < total) {
      TypedAttr padValue =
          isBool ? TypedAttr(builder.getBoolAttr(false))
                 : TypedAttr(builder.getFloatAttr(
                       mElement, -std::numeric_limits<double>::infinity()));
      Value padScalar = arith::ConstantOp::create(builder, loc, padValue);
      SmallVector<int64_t> low(mType.getRank(), 0),
          high(mType.getRank(), 0);
      high.back() = total - last;
      SmallVector<int64_t> shape(mType.getShape());
      shape.back() = total;
      auto padded = RankedTensorType::get(shape, mElement);
      auto pad = tensor::PadOp::create(
          builder, loc, padded, mask, low, high, ValueRange{}, ValueRange{},
          /*nofold=*/false);
      // tensor.pad's region yields the padding value.
      Region &region = pad.getRegion();
      Block *body = builder.createBlock(&region);
      for (int64_t i = 0; i < mType.getRank(); ++i)
        body->addArgument(builder.getIndexType(), loc);
      builder.setInsertionPointToEnd(body);
      tensor::YieldOp::create(builder, loc, padScalar);
      builder.setInsertionPointAfter(pad);
      mask = pad.getResult();
    }
  }

  // External cache: nonpad_kv_seqlen[b] valid keys, queries end at the last
  // valid key, so the causal / window position is nonpad[b] - S + i.
  Value kvLens, offsets;
  if (in[kNonpad]) {
    auto nType = cast<RankedTensorType>(in[kNonpad].getType());
    if (nType.getRank() != 1 || nType.getDimSize(0) != batch)
      return nodeError(node) << "nonpad_kv_seqlen must have shape [" << batch
                             << "]";
    kvLens = in[kNonpad];
    if (isCausal || left >= 0 || right >= 0) {
      Value init = tensor::EmptyOp::create(builder, loc,
                                           ArrayRef<int64_t>{batch},
                                           builder.getI32Type());
      Value sqConst = arith::ConstantOp::create(
          builder, loc, builder.getI32IntegerAttr(static_cast<int32_t>(sq)));
      AffineMap id = builder.getMultiDimIdentityMap(1);
      offsets =
          linalg::GenericOp::create(
              builder, loc, TypeRange{init.getType()}, ValueRange{kvLens},
              ValueRange{init}, ArrayRef<AffineMap>{id, id},
              ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value diff = arith::SubIOp::create(b, l, args[0], sqConst);
                linalg::YieldOp::create(b, l, diff);
              })
              ->getResult(0);
    }
  }

  auto outType = RankedTensorType::get({batch, hq, sq, dv}, element);
  Value init = tensor::EmptyOp::create(builder, loc, outType.getShape(),
                                       element);
  FloatAttr scaleAttr = scale ? builder.getF32FloatAttr(*scale) : FloatAttr();
  FloatAttr capAttr =
      softcap > 0.0f ? builder.getF32FloatAttr(softcap) : FloatAttr();
  auto attention = kv::AttentionOp::create(
      builder, loc, TypeRange{outType}, q, k, v, mask, kvLens, offsets, init,
      scaleAttr, capAttr, /*causal=*/isCausal != 0, left, right,
      /*causal_offset=*/offsets ? 0 : past);
  if (failed(verify(attention)))
    return nodeError(node) << "inputs do not form a valid attention (see the "
                           << "kv.attention error above)";
  Value y = attention->getResult(0);
  if (wantScores) {
    ScoreSpec spec;
    spec.scale = scale ? double(*scale) : 1.0 / std::sqrt(double(q4.getDimSize(3)));
    spec.softcap = softcap;
    spec.causal = isCausal != 0;
    spec.causalOffset = offsets ? 0 : past;
    spec.left = left;
    spec.right = right;
    spec.mode = qkMode;
    values[node.output(3)] = emitScores(q, k, mask, kvLens, offsets, spec);
  }
  if (is3d)
    y = mergeHeads(y);

  values[node.output(0)] = y;
  if (wantPresentKey)
    values[node.output(1)] = k;
  if (wantPresentValue)
    values[node.output(2)] = v;
  return success();
}

Value Importer::emitPresent(Value fresh, Value past, Value pastLens,
                            int64_t total) {
  auto type = cast<RankedTensorType>(fresh.getType());
  Type element = type.getElementType();
  int64_t b = type.getDimSize(0), h = type.getDimSize(1),
          s = type.getDimSize(2), d = type.getDimSize(3);
  auto outType = RankedTensorType::get({b, h, total, d}, element);
  MLIRContext *ctx = &context;
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  if (past) {
    // Zero-pad the past buffer to T rows so that it is read with an identity
    // map (rows past its length are never selected anyway).
    auto pType = cast<RankedTensorType>(past.getType());
    int64_t p = pType.getDimSize(2);
    if (p < total) {
      Value zero = arith::ConstantOp::create(builder, loc,
                                             builder.getZeroAttr(element));
      auto pad = tensor::PadOp::create(
          builder, loc, outType, past, ArrayRef<int64_t>{0, 0, 0, 0},
          ArrayRef<int64_t>{0, 0, total - p, 0}, ValueRange{}, ValueRange{},
          /*nofold=*/false);
      Block *body = builder.createBlock(&pad.getRegion());
      for (int i = 0; i < 4; ++i)
        body->addArgument(builder.getIndexType(), loc);
      builder.setInsertionPointToEnd(body);
      tensor::YieldOp::create(builder, loc, zero);
      builder.setInsertionPointAfter(pad);
      past = pad.getResult();
    }
    ins.push_back(past);
    maps.push_back(builder.getMultiDimIdentityMap(4));
  }
  ins.push_back(pastLens);
  maps.push_back(AffineMap::get(4, 0, {getAffineDimExpr(0, ctx)}, ctx));
  maps.push_back(builder.getMultiDimIdentityMap(4));
  Value init = tensor::EmptyOp::create(builder, loc, outType.getShape(),
                                       element);
  bool hasPast = bool(past);
  return linalg::GenericOp::create(
             builder, loc, TypeRange{outType}, ins, ValueRange{init}, maps,
             SmallVector<utils::IteratorType>(4,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &bb, Location l, ValueRange args) {
               using P = arith::CmpIPredicate;
               Type idx = bb.getIndexType();
               auto cIdx = [&](int64_t x) -> Value {
                 return arith::ConstantIndexOp::create(bb, l, x);
               };
               Value old = hasPast ? args[0]
                                   : Value(arith::ConstantOp::create(
                                         bb, l, bb.getZeroAttr(element)));
               Value pl = arith::IndexCastOp::create(bb, l, idx,
                                                     args[hasPast ? 1 : 0]);
               Value bi = linalg::IndexOp::create(bb, l, 0);
               Value hi = linalg::IndexOp::create(bb, l, 1);
               Value ti = linalg::IndexOp::create(bb, l, 2);
               Value di = linalg::IndexOp::create(bb, l, 3);
               // Row t holds new token t - pl when 0 <= t - pl < S.
               Value rel = arith::SubIOp::create(bb, l, ti, pl);
               Value inNew = arith::AndIOp::create(
                   bb, l, arith::CmpIOp::create(bb, l, P::sge, rel, cIdx(0)),
                   arith::CmpIOp::create(bb, l, P::slt, rel, cIdx(s)));
               // Clamped so that the load stays in bounds on every row.
               Value relC = arith::MinSIOp::create(
                   bb, l, arith::MaxSIOp::create(bb, l, rel, cIdx(0)),
                   cIdx(s - 1));
               Value x = tensor::ExtractOp::create(
                   bb, l, fresh, ValueRange{bi, hi, relC, di});
               Value keep = arith::CmpIOp::create(bb, l, P::slt, ti, pl);
               Value zero = arith::ConstantOp::create(
                   bb, l, bb.getZeroAttr(element));
               Value y = arith::SelectOp::create(
                   bb, l, inNew, x,
                   arith::SelectOp::create(bb, l, keep, old, zero));
               linalg::YieldOp::create(bb, l, y);
             })
      ->getResult(0);
}

LogicalResult
Importer::importGroupQueryAttention(const ::onnx::NodeProto &node) {
  auto err = [&]() -> InFlightDiagnostic {
    return emitError(loc) << "GroupQueryAttention node '" << node.name()
                          << "': ";
  };
  // Attributes (ONNX Runtime contrib spec; defaults as in ORT).
  std::optional<int64_t> numHeads;
  SharedAttentionAttrs shared;
  int64_t window = -1;
  for (const auto &attr : node.attribute()) {
    const std::string &name = attr.name();
    if (const char *want = wrongAttrKind(attr))
      return err() << "attribute '" << name << "' must be " << want;
    if (readSharedAttr(attr, shared))
      continue;
    if (name == "num_heads")
      numHeads = attr.i();
    else if (name == "local_window_size")
      window = attr.i();
    else if (name == "do_rotary") {
      if (attr.i() != 0)
        return err() << "do_rotary=" << attr.i()
                     << " (rotary embedding inside the op) is not supported";
    } else if (name == "rotary_interleaved") {
      // Only read when do_rotary=1, which is rejected above.
      if (attr.i() != 0 && attr.i() != 1)
        return err() << "rotary_interleaved must be 0 or 1, got " << attr.i();
    } else if (name == "smooth_softmax") {
      if (attr.i() != 0)
        return err() << "smooth_softmax=" << attr.i() << " is not supported";
    } else if (name == "qk_output") {
      if (attr.i() != 0)
        return err() << "qk_output=" << attr.i()
                     << " (the output_qk output) is not supported";
    } else
      return err() << "unsupported attribute '" << name << "'";
  }
  // 0 (or no attribute) means the default 1/sqrt(head size).
  std::optional<int64_t> kvNumHeads = shared.kvHeads;
  float scale = shared.scale.value_or(0.0f), softcap = shared.softcap;
  if (!numHeads || !kvNumHeads)
    return err() << "attributes num_heads and kv_num_heads are required";
  int64_t hq = *numHeads, hkv = *kvNumHeads;
  if (hq <= 0 || hkv <= 0 || hq % hkv != 0)
    return err() << "num_heads=" << hq
                 << " must be a positive multiple of kv_num_heads=" << hkv;
  // ORT's CPU kernel treats 0 as "no window" while a flash kernel would keep
  // only the diagonal: ambiguous, so rejected.
  if (window == 0 || window < -1)
    return err() << "local_window_size must be -1 or positive, got "
                 << window;
  if (softcap < 0.0f || std::isnan(softcap))
    return err() << "softcap must be >= 0, got " << softcap;
  if (!std::isfinite(scale))
    return err() << "scale must be finite, got " << scale;

  // Inputs.
  if (node.input_size() < 7 || node.input_size() > kGqaNumSlots)
    return err() << "expects 7 to " << int(kGqaNumSlots)
                 << " inputs (query ... total_sequence_length), got "
                 << node.input_size();
  static const char *const slotNames[kGqaNumSlots] = {
      "query",     "key",       "value",        "past_key",
      "past_value", "seqlens_k", "total_sequence_length",
      "cos_cache", "sin_cache", "position_ids", "attention_bias",
      "head_sink"};
  Value in[kGqaNumSlots] = {};
  for (int i = 0; i < node.input_size(); ++i) {
    const std::string &name = node.input(i);
    if (name.empty())
      continue;
    if (i >= kGqaCosCache)
      return err() << "input '" << slotNames[i] << "' is not supported"
                   << (i <= kGqaPositionIds ? " (rotary embedding)" : "");
    auto it = values.find(name);
    if (it == values.end())
      return err() << "input '" << name
                   << "' is neither a graph input nor an initializer";
    // seqlens_k and total_sequence_length are int32 in the spec; the int64
    // the importer narrows elsewhere is a different (invalid) model here.
    if (i == kGqaSeqlensK || i == kGqaTotalSeqLen) {
      auto ty = onnxElemType.find(name);
      if (ty == onnxElemType.end() || ty->second != kInt32)
        return err() << "input '" << slotNames[i]
                     << "' must be an int32 graph input or initializer";
    }
    in[i] = it->second;
  }
  if (!in[kGqaQuery])
    return err() << "input 'query' is required";
  if (!in[kGqaSeqlensK] || !in[kGqaTotalSeqLen])
    return err() << "inputs 'seqlens_k' and 'total_sequence_length' are "
                 << "required";
  if (bool(in[kGqaKey]) != bool(in[kGqaValue]))
    return err() << "key and value must both be given (or both be absent "
                 << "for packed QKV)";
  if (bool(in[kGqaPastKey]) != bool(in[kGqaPastValue]))
    return err() << "past_key and past_value must come together";

  // Outputs: output, present_key, present_value (output_qk is rejected).
  if (node.output_size() < 1 || node.output_size() > 3)
    return err() << "expects 1 to 3 outputs (output, present_key, "
                 << "present_value), got " << node.output_size();

  auto qType = cast<RankedTensorType>(in[kGqaQuery].getType());
  Type element = qType.getElementType();
  if (!element.isF32() && !element.isF16())
    return err() << "query must be float or float16, got " << element;
  if (qType.getRank() != 3)
    return err() << "query must be 3D [batch, sequence, hidden], got rank "
                 << qType.getRank();
  int64_t batch = qType.getDimSize(0), s = qType.getDimSize(1),
          hidden = qType.getDimSize(2);
  if (s < 1)
    return err() << "query has no tokens";
  bool packed = !in[kGqaKey];
  int64_t headSlots = packed ? hq + 2 * hkv : hq;
  if (hidden % headSlots != 0)
    return err() << "query hidden size " << hidden << " is not divisible by "
                 << (packed ? "num_heads + 2 * kv_num_heads = "
                            : "num_heads = ")
                 << headSlots;
  int64_t d = hidden / headSlots;
  Value q, k, v;
  if (packed) {
    // [B, S, (Hq + 2 Hkv) * D]: query heads, then key heads, then value heads.
    auto slice = [&](int64_t offset, int64_t size) -> Value {
      return tensor::ExtractSliceOp::create(
          builder, loc, in[kGqaQuery],
          ArrayRef<OpFoldResult>{builder.getIndexAttr(0),
                                 builder.getIndexAttr(0),
                                 builder.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{builder.getIndexAttr(batch),
                                 builder.getIndexAttr(s),
                                 builder.getIndexAttr(size)},
          ArrayRef<OpFoldResult>{builder.getIndexAttr(1),
                                 builder.getIndexAttr(1),
                                 builder.getIndexAttr(1)});
    };
    q = slice(0, hq * d);
    k = slice(hq * d, hkv * d);
    v = slice((hq + hkv) * d, hkv * d);
  } else {
    q = in[kGqaQuery];
    k = in[kGqaKey];
    v = in[kGqaValue];
    for (Value x : {k, v}) {
      auto t = cast<RankedTensorType>(x.getType());
      if (t.getElementType() != element || t.getRank() != 3 ||
          t.getDimSize(0) != batch || t.getDimSize(1) != s ||
          t.getDimSize(2) != hkv * d)
        return err() << "key and value must be " << element << " of shape ["
                     << batch << ", " << s << ", " << hkv * d
                     << "] (kv_num_heads * head_size, as many tokens as "
                     << "query), got " << t;
    }
  }

  int64_t past = 0;
  if (in[kGqaPastKey]) {
    for (Value x : {in[kGqaPastKey], in[kGqaPastValue]}) {
      auto t = cast<RankedTensorType>(x.getType());
      if (t.getElementType() != element || t.getRank() != 4 ||
          t.getDimSize(0) != batch || t.getDimSize(1) != hkv ||
          t.getDimSize(3) != d)
        return err() << "past_key and past_value must be " << element
                     << " of shape [" << batch << ", " << hkv << ", P, " << d
                     << "] (BNSH), got " << t;
    }
    past = cast<RankedTensorType>(in[kGqaPastKey].getType()).getDimSize(2);
    if (cast<RankedTensorType>(in[kGqaPastValue].getType()).getDimSize(2) !=
        past)
      return err() << "past_key and past_value lengths differ";
  }
  auto lensType = cast<RankedTensorType>(in[kGqaSeqlensK].getType());
  if (lensType.getRank() != 1 || lensType.getDimSize(0) != batch)
    return err() << "seqlens_k must have shape [" << batch << "], got "
                 << lensType;
  auto totalType = cast<RankedTensorType>(in[kGqaTotalSeqLen].getType());
  if (totalType.getNumElements() != 1)
    return err() << "total_sequence_length must hold one element, got "
                 << totalType;

  // The present length T is max(total_sequence_length, P) in the spec; the
  // value is only known at run time, so it is read from the declared graph
  // outputs. Without them, P + S holds every valid sequence.
  std::optional<int64_t> total;
  for (int i = 1; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    auto it = declared.find(node.output(i));
    if (it == declared.end())
      continue;
    RankedTensorType t = it->second;
    if (t.getElementType() != element || t.getRank() != 4 ||
        t.getDimSize(0) != batch || t.getDimSize(1) != hkv ||
        t.getDimSize(3) != d)
      return err() << (i == 1 ? "present_key" : "present_value")
                   << " must be declared as " << element << " of shape ["
                   << batch << ", " << hkv << ", T, " << d << "], got " << t;
    if (total && *total != t.getDimSize(2))
      return err() << "present_key and present_value lengths differ";
    total = t.getDimSize(2);
  }
  if (total && (*total < past || *total < s))
    return err() << "present length " << *total
                 << " is below max(past length " << past
                 << ", sequence length " << s << ")";
  int64_t t = total ? *total : past + s;

  // Per-sequence lengths: kv_lens = seqlens_k + 1 and past length
  // max(kv_lens - S, 0) (0 in a first prompt, where padded sequences have
  // kv_lens < S). Clamped to [0, T] so that no index leaves the buffers
  // even for invalid inputs.
  Type i32 = builder.getI32Type();
  auto lengthsGeneric = [&](Value input,
                            function_ref<Value(OpBuilder &, Location, Value)>
                                body) -> Value {
    Value init = tensor::EmptyOp::create(builder, loc,
                                         ArrayRef<int64_t>{batch}, i32);
    AffineMap id = builder.getMultiDimIdentityMap(1);
    return linalg::GenericOp::create(
               builder, loc, TypeRange{init.getType()}, ValueRange{input},
               ValueRange{init}, ArrayRef<AffineMap>{id, id},
               ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
               [&](OpBuilder &bb, Location l, ValueRange args) {
                 linalg::YieldOp::create(bb, l, body(bb, l, args[0]));
               })
        ->getResult(0);
  };
  auto cI32 = [&](OpBuilder &bb, Location l, int64_t x) -> Value {
    return arith::ConstantOp::create(bb, l,
                                     bb.getI32IntegerAttr(int32_t(x)));
  };
  Value kvLens = lengthsGeneric(
      in[kGqaSeqlensK], [&](OpBuilder &bb, Location l, Value x) -> Value {
        Value len = arith::AddIOp::create(bb, l, x, cI32(bb, l, 1));
        return arith::MinSIOp::create(
            bb, l, arith::MaxSIOp::create(bb, l, len, cI32(bb, l, 0)),
            cI32(bb, l, t));
      });
  Value pastLens = lengthsGeneric(
      kvLens, [&](OpBuilder &bb, Location l, Value x) -> Value {
        return arith::MaxSIOp::create(
            bb, l, arith::SubIOp::create(bb, l, x, cI32(bb, l, s)),
            cI32(bb, l, 0));
      });

  Value q4 = splitHeads(q, hq), k4 = splitHeads(k, hkv),
        v4 = splitHeads(v, hkv);
  Value presentKey = emitPresent(k4, in[kGqaPastKey], pastLens, t);
  Value presentValue = emitPresent(v4, in[kGqaPastValue], pastLens, t);

  // Query row i sits at position pastLens[b] + i (bottom-right causal); the
  // local window keeps keys p - local_window_size <= j <= p.
  auto outType = RankedTensorType::get({batch, hq, s, d}, element);
  Value init = tensor::EmptyOp::create(builder, loc, outType.getShape(),
                                       element);
  FloatAttr scaleAttr =
      scale != 0.0f ? builder.getF32FloatAttr(scale) : FloatAttr();
  FloatAttr capAttr =
      softcap > 0.0f ? builder.getF32FloatAttr(softcap) : FloatAttr();
  auto attention = kv::AttentionOp::create(
      builder, loc, TypeRange{outType}, q4, presentKey, presentValue,
      /*mask=*/Value(), kvLens, pastLens, init, scaleAttr, capAttr,
      /*causal=*/true, /*window_left=*/window, /*window_right=*/-1,
      /*causal_offset=*/0);
  if (failed(verify(attention)))
    return err() << "inputs do not form a valid attention (see the "
                 << "kv.attention error above)";
  values[node.output(0)] = mergeHeads(attention->getResult(0));
  if (node.output_size() > 1 && !node.output(1).empty())
    values[node.output(1)] = presentKey;
  if (node.output_size() > 2 && !node.output(2).empty())
    values[node.output(2)] = presentValue;
  return success();
}

OwningOpRef<ModuleOp> Importer::run(const ::onnx::ModelProto &model,
                                    StringRef funcName) {
  int64_t opset = -1, msOpset = -1;
  for (const auto &entry : model.opset_import()) {
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
    else if (entry.domain() == "com.microsoft")
      msOpset = entry.version();
  }
  const ::onnx::GraphProto &graph = model.graph();
  // The ai.onnx opset only matters for standard Attention nodes: a graph of
  // GroupQueryAttention nodes may import any (or no) ai.onnx opset.
  bool hasStandard = graph.node_size() == 0;
  for (const auto &node : graph.node())
    hasStandard |= node.domain().empty() || node.domain() == "ai.onnx";
  if (hasStandard && opset < 23) {
    error() << "expects an ai.onnx opset import >= 23 (Attention), got "
            << opset;
    return nullptr;
  }
  if (hasStandard && opset > 25) {
    error() << "opset " << opset << " is newer than the supported 23-25";
    return nullptr;
  }

  llvm::StringMap<bool> initializers;
  for (const auto &init : graph.initializer())
    initializers[init.name()] = true;

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &input : graph.input()) {
    if (initializers.count(input.name()))
      continue;
    auto type = valueType(input);
    if (failed(type))
      return nullptr;
    argTypes.push_back(*type);
    argNames.push_back(input.name());
    onnxElemType[input.name()] = input.type().tensor_type().elem_type();
  }
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    auto type = valueType(output);
    if (failed(type))
      return nullptr;
    resultTypes.push_back(*type);
    declared[output.name()] = *type;
  }

  auto func = func::FuncOp::create(
      builder, loc, funcName, builder.getFunctionType(argTypes, resultTypes));
  for (auto [i, name] : llvm::enumerate(argNames))
    func.setArgAttr(i, "kv.name", builder.getStringAttr(name));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  for (auto [i, name] : llvm::enumerate(argNames))
    values[name] = entry->getArgument(i);
  for (const auto &init : graph.initializer()) {
    auto value = importInitializer(init);
    if (failed(value))
      return nullptr;
    values[init.name()] = *value;
    onnxElemType[init.name()] = init.data_type();
  }

  for (const auto &node : graph.node()) {
    bool standard = node.domain().empty() || node.domain() == "ai.onnx";
    if (standard && node.op_type() == "Attention") {
      if (failed(importAttention(node, opset)))
        return nullptr;
      continue;
    }
    if (node.domain() == "com.microsoft" &&
        node.op_type() == "GroupQueryAttention") {
      // The contrib op has a single version (since_version 1).
      if (msOpset < 1) {
        error() << "GroupQueryAttention node '" << node.name()
                << "': the model does not import the 'com.microsoft' opset";
        return nullptr;
      }
      if (failed(importGroupQueryAttention(node)))
        return nullptr;
      continue;
    }
    error() << "unsupported node '" << node.name() << "' of type '"
            << (node.domain().empty() ? "" : node.domain() + ".")
            << node.op_type()
            << "': only Attention and com.microsoft.GroupQueryAttention are "
            << "imported";
    return nullptr;
  }

  SmallVector<Value> results;
  for (const auto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end()) {
      error() << "graph output '" << output.name() << "' is not produced";
      return nullptr;
    }
    if (it->second.getType() != declared[output.name()]) {
      error() << "graph output '" << output.name() << "' is declared as "
              << declared[output.name()] << " but computes "
              << it->second.getType();
      return nullptr;
    }
    results.push_back(it->second);
  }
  func::ReturnOp::create(builder, loc, results);
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

void kvfuse::onnx::registerImportDialects(DialectRegistry &registry) {
  registry.insert<kv::KvDialect, arith::ArithDialect, func::FuncDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  tensor::TensorDialect>();
}

OwningOpRef<ModuleOp> kvfuse::onnx::importModel(MLIRContext &context,
                                                StringRef bytes,
                                                StringRef fileName,
                                                StringRef funcName) {
  ::onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    emitError(FileLineColLoc::get(&context, fileName, 0, 0))
        << "not a valid ONNX model (protobuf parse failed)";
    return nullptr;
  }
  context.loadDialect<kv::KvDialect, arith::ArithDialect, func::FuncDialect,
                      linalg::LinalgDialect, math::MathDialect,
                      tensor::TensorDialect>();
  Importer importer(context, fileName);
  return importer.run(model, funcName);
}
