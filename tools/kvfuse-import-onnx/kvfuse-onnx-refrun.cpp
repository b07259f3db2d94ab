//===- kvfuse-onnx-refrun.cpp - Evaluate imported IR in float64 -----------===//
//
// Usage: kvfuse-onnx-refrun <model.mlir> <test_dir> [rtol] [atol]
//
// Evaluates the entry function `main` of an imported module on the test's
// inputs, in float64, with kv.attention computed by the semantic contract's
// reference (runtime/include/kvfuse/reference.h), and compares the results
// with ONNX's expected outputs. This checks what the importer's IR *means*
// against the standard, independently of any compiler back end. Only the ops
// the importer emits are understood; anything else is an error.
//
// Exit status: 0 all outputs match, 1 mismatch, 2 error.
//
//===----------------------------------------------------------------------===//

#include "OnnxTestData.h"

#include "dialects/kv/KvOps.h"
#include "frontends/onnx/OnnxImport.h"
#include "kvfuse/reference.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>

using namespace mlir;
using namespace kvfuse::onnxtest;

namespace {

/// A dense row-major tensor of doubles (i1 and integers as 0/1 and values).
struct Buf {
  SmallVector<int64_t> shape;
  std::vector<double> data;
};

int fail(const Twine &message) {
  llvm::errs() << "kvfuse-onnx-refrun: error: " << message << "\n";
  return 2;
}

SmallVector<int64_t> strides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

int64_t numel(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Rounds to the storage precision of `type`, as a real run would store it.
double roundTo(Type type, double x) {
  if (type.isF32())
    return static_cast<float>(x);
  if (type.isF16())
    return halfToFloat(floatToHalf(static_cast<float>(x)));
  if (type.isBF16()) {
    float f = static_cast<float>(x);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    bits += 0x7fff + ((bits >> 16) & 1);
    return bf16ToFloat(static_cast<uint16_t>(bits >> 16));
  }
  return x;
}

class Evaluator {
public:
  LogicalResult run(Operation *op);
  llvm::DenseMap<Value, Buf> env;
  std::string error;

private:
  LogicalResult attention(kv::AttentionOp op);
  LogicalResult generic(linalg::GenericOp op);
};

LogicalResult Evaluator::attention(kv::AttentionOp op) {
  const Buf &q = env[op.getQuery()], &k = env[op.getKey()],
            &v = env[op.getValue()];
  kvfuse::ref::AttentionProblem p;
  p.batch = q.shape[0];
  p.qHeads = q.shape[1];
  p.qLen = q.shape[2];
  p.headDim = q.shape[3];
  p.kvHeads = k.shape[1];
  p.kvLen = k.shape[2];
  p.valueDim = v.shape[3];
  if (auto scale = op.getScaleAttr())
    p.scale = scale.getValueAsDouble();
  if (auto cap = op.getSoftcapAttr())
    p.softcap = cap.getValueAsDouble();
  p.causal = op.getCausal();
  p.causalOffset = op.getCausalOffset();
  p.windowLeft = op.getWindowLeft();
  p.windowRight = op.getWindowRight();
  std::vector<int32_t> lens, offsets;
  if (op.getKvLens()) {
    for (double x : env[op.getKvLens()].data)
      lens.push_back(static_cast<int32_t>(x));
    p.kvLens = lens.data();
  }
  if (op.getOffsets()) {
    for (double x : env[op.getOffsets()].data)
      offsets.push_back(static_cast<int32_t>(x));
    p.offsets = offsets.data();
  }
  std::vector<uint8_t> boolMask;
  if (Value mask = op.getMask()) {
    const Buf &m = env[mask];
    int64_t shift = 4 - static_cast<int64_t>(m.shape.size());
    for (size_t i = 0; i < m.shape.size(); ++i)
      p.maskShape[i + shift] = m.shape[i];
    if (cast<ShapedType>(mask.getType()).getElementType().isInteger(1)) {
      for (double x : m.data)
        boolMask.push_back(x != 0.0);
      p.boolMask = boolMask.data();
    } else {
      p.floatMask = m.data.data();
    }
  }
  Buf out;
  out.shape = {p.batch, p.qHeads, p.qLen, p.valueDim};
  out.data.assign(numel(out.shape), 0.0);
  kvfuse::ref::attention(p, q.data.data(), k.data.data(), v.data.data(),
                         out.data.data());
  env[op->getResult(0)] = std::move(out);
  return success();
}

/// Evaluates an affine expression at the loop indices `dims`.
int64_t evalExpr(AffineExpr expr, ArrayRef<int64_t> dims) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dims[dim.getPosition()];
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return c.getValue();
  auto bin = cast<AffineBinaryOpExpr>(expr);
  int64_t lhs = evalExpr(bin.getLHS(), dims), rhs = evalExpr(bin.getRHS(), dims);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return lhs + rhs;
  case AffineExprKind::Mul:
    return lhs * rhs;
  case AffineExprKind::FloorDiv:
    return lhs >= 0 ? lhs / rhs : -((-lhs + rhs - 1) / rhs);
  case AffineExprKind::Mod:
    return ((lhs % rhs) + rhs) % rhs;
  default:
    return (lhs + rhs - 1) / rhs; // CeilDiv on the non-negative indices here.
  }
}

LogicalResult Evaluator::generic(linalg::GenericOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  unsigned numIns = op.getNumDpsInputs();
  if (op.getNumDpsInits() != 1)
    return error = "linalg.generic with several inits", failure();
  SmallVector<const Buf *> ins;
  for (unsigned i = 0; i < numIns; ++i)
    ins.push_back(&env[op.getDpsInputOperand(i)->get()]);
  Buf out = env[op.getDpsInitOperand(0)->get()];
  Block &body = op.getRegion().front();
  SmallVector<int64_t> idx(ranges.size(), 0);
  auto offset = [&](const Buf &buf, AffineMap map) {
    auto st = strides(buf.shape);
    int64_t off = 0;
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      off += evalExpr(map.getResult(r), idx) * st[r];
    return off;
  };
  int64_t total = numel(ranges);
  for (int64_t n = 0; n < total; ++n) {
    int64_t rem = n;
    for (int64_t d = static_cast<int64_t>(ranges.size()) - 1; d >= 0; --d) {
      idx[d] = rem % ranges[d];
      rem /= ranges[d];
    }
    llvm::DenseMap<Value, double> sc;
    for (unsigned i = 0; i < numIns; ++i)
      sc[body.getArgument(i)] = ins[i]->data[offset(*ins[i], maps[i])];
    int64_t outOff = offset(out, maps[numIns]);
    sc[body.getArgument(numIns)] = out.data[outOff];
    auto get = [&](Value v) {
      auto it = sc.find(v);
      return it != sc.end() ? it->second : env[v].data.at(0);
    };
    for (Operation &inner : body) {
      double r = 0.0;
      if (auto c = dyn_cast<arith::ConstantOp>(inner)) {
        if (auto f = dyn_cast<FloatAttr>(c.getValue()))
          r = f.getValueAsDouble();
        else
          r = static_cast<double>(
              cast<IntegerAttr>(c.getValue()).getValue().getSExtValue());
        // i1 true reads back as -1 through getSExtValue.
        if (c.getType().isInteger(1))
          r = r != 0.0;
      } else if (isa<arith::MulFOp>(inner))
        r = get(inner.getOperand(0)) * get(inner.getOperand(1));
      else if (isa<arith::AddFOp, arith::AddIOp>(inner))
        r = get(inner.getOperand(0)) + get(inner.getOperand(1));
      else if (isa<arith::SubFOp, arith::SubIOp>(inner))
        r = get(inner.getOperand(0)) - get(inner.getOperand(1));
      else if (isa<arith::DivFOp>(inner))
        r = get(inner.getOperand(0)) / get(inner.getOperand(1));
      else if (isa<arith::MaximumFOp, arith::MaxSIOp>(inner))
        r = std::max(get(inner.getOperand(0)), get(inner.getOperand(1)));
      else if (isa<arith::MinSIOp>(inner))
        r = std::min(get(inner.getOperand(0)), get(inner.getOperand(1)));
      else if (auto ex = dyn_cast<tensor::ExtractOp>(inner)) {
        // A gather from a tensor defined outside the generic.
        auto found = env.find(ex.getTensor());
        if (found == env.end())
          return error = "tensor.extract from an unknown tensor", failure();
        const Buf &src = found->second;
        auto st = strides(src.shape);
        int64_t off = 0;
        for (auto [d, index] : llvm::enumerate(ex.getIndices())) {
          int64_t x = static_cast<int64_t>(get(index));
          if (x < 0 || x >= src.shape[d])
            return error = "tensor.extract index out of bounds", failure();
          off += x * st[d];
        }
        r = src.data[off];
      }
      else if (isa<arith::AndIOp>(inner))
        r = (get(inner.getOperand(0)) != 0.0) && (get(inner.getOperand(1)) != 0.0);
      else if (isa<arith::IndexCastOp, arith::ExtFOp>(inner))
        r = get(inner.getOperand(0));
      else if (isa<arith::TruncFOp>(inner))
        r = roundTo(inner.getResult(0).getType(), get(inner.getOperand(0)));
      else if (false)
        r = get(inner.getOperand(0));
      else if (isa<math::TanhOp>(inner))
        r = std::tanh(get(inner.getOperand(0)));
      else if (isa<math::ExpOp>(inner))
        r = std::exp(get(inner.getOperand(0)));
      else if (auto sel = dyn_cast<arith::SelectOp>(inner))
        r = get(sel.getCondition()) != 0.0 ? get(sel.getTrueValue())
                                           : get(sel.getFalseValue());
      else if (auto index = dyn_cast<linalg::IndexOp>(inner))
        r = static_cast<double>(idx[index.getDim()]);
      else if (auto cmp = dyn_cast<arith::CmpIOp>(inner)) {
        double x = get(cmp.getLhs()), y = get(cmp.getRhs());
        switch (cmp.getPredicate()) {
        case arith::CmpIPredicate::slt: r = x < y; break;
        case arith::CmpIPredicate::sle: r = x <= y; break;
        case arith::CmpIPredicate::sgt: r = x > y; break;
        case arith::CmpIPredicate::sge: r = x >= y; break;
        case arith::CmpIPredicate::eq: r = x == y; break;
        case arith::CmpIPredicate::ne: r = x != y; break;
        default:
          return error = "unsupported arith.cmpi predicate", failure();
        }
      } else if (auto cmp = dyn_cast<arith::CmpFOp>(inner)) {
        double x = get(cmp.getLhs()), y = get(cmp.getRhs());
        switch (cmp.getPredicate()) {
        case arith::CmpFPredicate::OEQ: r = x == y; break;
        case arith::CmpFPredicate::OLT: r = x < y; break;
        case arith::CmpFPredicate::OGT: r = x > y; break;
        default:
          return error = "unsupported arith.cmpf predicate", failure();
        }
      } else if (auto y = dyn_cast<linalg::YieldOp>(inner)) {
        out.data[outOff] = get(y.getOperand(0));
        continue;
      } else {
        return error = "unsupported op in linalg.generic: " +
                       inner.getName().getStringRef().str(),
               failure();
      }
      sc[inner.getResult(0)] = r;
    }
  }
  out.shape = SmallVector<int64_t>(
      cast<ShapedType>(op->getResult(0).getType()).getShape());
  env[op->getResult(0)] = std::move(out);
  return success();
}

LogicalResult Evaluator::run(Operation *op) {
  auto shapeOf = [](Value value) {
    return SmallVector<int64_t>(cast<ShapedType>(value.getType()).getShape());
  };
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    Buf b;
    if (auto f = dyn_cast<FloatAttr>(c.getValue()))
      b.data = {f.getValueAsDouble()};
    else if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      b.data = {static_cast<double>(i.getValue().getSExtValue())};
    else if (auto dense = dyn_cast<DenseElementsAttr>(c.getValue())) {
      b.shape = SmallVector<int64_t>(dense.getType().getShape());
      Type element = dense.getElementType();
      if (element.isInteger(1))
        for (bool x : dense.getValues<bool>())
          b.data.push_back(x);
      else if (isa<FloatType>(element))
        for (APFloat x : dense.getValues<APFloat>())
          b.data.push_back(x.convertToDouble());
      else
        for (APInt x : dense.getValues<APInt>())
          b.data.push_back(static_cast<double>(x.getSExtValue()));
    } else
      return error = "unsupported constant", failure();
    env[c] = std::move(b);
    return success();
  }
  if (auto e = dyn_cast<tensor::EmptyOp>(op)) {
    Buf b;
    b.shape = shapeOf(e);
    b.data.assign(numel(b.shape), 0.0);
    env[e] = std::move(b);
    return success();
  }
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op)) {
    Buf b = env[op->getOperand(0)];
    b.shape = shapeOf(op->getResult(0));
    env[op->getResult(0)] = std::move(b);
    return success();
  }
  if (auto t = dyn_cast<linalg::TransposeOp>(op)) {
    const Buf &in = env[t.getInput()];
    Buf out;
    out.shape = shapeOf(t.getInit());
    out.data.assign(numel(out.shape), 0.0);
    ArrayRef<int64_t> perm = t.getPermutation();
    auto inStrides = strides(in.shape), outStrides = strides(out.shape);
    for (int64_t o = 0; o < numel(out.shape); ++o) {
      int64_t rem = o, src = 0;
      for (size_t d = 0; d < out.shape.size(); ++d) {
        int64_t idx = rem / outStrides[d];
        rem %= outStrides[d];
        src += idx * inStrides[perm[d]];
      }
      out.data[o] = in.data[src];
    }
    env[t->getResult(0)] = std::move(out);
    return success();
  }
  if (auto c = dyn_cast<tensor::ConcatOp>(op)) {
    int64_t dim = c.getDim();
    Buf out;
    out.shape = shapeOf(c);
    out.data.assign(numel(out.shape), 0.0);
    int64_t outer = numel(ArrayRef<int64_t>(out.shape).take_front(dim));
    int64_t inner = numel(ArrayRef<int64_t>(out.shape).drop_front(dim + 1));
    int64_t base = 0;
    for (Value input : c.getInputs()) {
      const Buf &in = env[input];
      int64_t len = in.shape[dim];
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < len * inner; ++j)
          out.data[(o * out.shape[dim] + base) * inner + j] =
              in.data[o * len * inner + j];
      base += len;
    }
    env[c] = std::move(out);
    return success();
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    const Buf &in = env[slice.getSource()];
    ArrayRef<int64_t> offsets = slice.getStaticOffsets(),
                      sizes = slice.getStaticSizes(),
                      steps = slice.getStaticStrides();
    if (ShapedType::isDynamicShape(offsets) ||
        ShapedType::isDynamicShape(sizes) || ShapedType::isDynamicShape(steps) ||
        sizes.size() != in.shape.size())
      return error = "tensor.extract_slice must be static and not rank-reducing",
             failure();
    Buf out;
    out.shape = SmallVector<int64_t>(sizes);
    out.data.assign(numel(out.shape), 0.0);
    auto inStrides = strides(in.shape), outStrides = strides(out.shape);
    for (int64_t o = 0; o < numel(out.shape); ++o) {
      int64_t rem = o, src = 0;
      for (size_t d = 0; d < out.shape.size(); ++d) {
        src += (offsets[d] + (rem / outStrides[d]) * steps[d]) * inStrides[d];
        rem %= outStrides[d];
      }
      out.data[o] = in.data[src];
    }
    env[slice] = std::move(out);
    return success();
  }
  if (auto pad = dyn_cast<tensor::PadOp>(op)) {
    auto yield = cast<tensor::YieldOp>(pad.getRegion().front().getTerminator());
    double value = env[yield.getValue()].data.at(0);
    const Buf &in = env[pad.getSource()];
    Buf out;
    out.shape = shapeOf(pad);
    out.data.assign(numel(out.shape), value);
    SmallVector<int64_t> low(pad.getStaticLow());
    auto inStrides = strides(in.shape), outStrides = strides(out.shape);
    for (int64_t i = 0; i < numel(in.shape); ++i) {
      int64_t rem = i, dst = 0;
      for (size_t d = 0; d < in.shape.size(); ++d) {
        dst += (rem / inStrides[d] + low[d]) * outStrides[d];
        rem %= inStrides[d];
      }
      out.data[dst] = in.data[i];
    }
    env[pad] = std::move(out);
    return success();
  }
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    Buf out;
    out.shape = shapeOf(fill->getResult(0));
    out.data.assign(numel(out.shape), env[fill.getInputs()[0]].data.at(0));
    env[fill->getResult(0)] = std::move(out);
    return success();
  }
  if (auto g = dyn_cast<linalg::GenericOp>(op))
    return generic(g);
  if (auto a = dyn_cast<kv::AttentionOp>(op))
    return attention(a);
  error = "unsupported op " + op->getName().getStringRef().str();
  return failure();
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    return fail("usage: kvfuse-onnx-refrun <model.mlir> <test_dir> "
                "[rtol] [atol]");
  std::string mlirPath = argv[1], testDir = argv[2];
  double rtol = argc > 3 ? std::atof(argv[3]) : 1e-3;
  double atol = argc > 4 ? std::atof(argv[4]) : 1e-5;

  DialectRegistry registry;
  kvfuse::onnx::registerImportDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(mlirPath, &context);
  if (!module)
    return fail("cannot parse " + mlirPath);
  auto func = module->lookupSymbol<func::FuncOp>("main");
  if (!func)
    return fail("no function @main");

  onnx::ModelProto model;
  std::map<std::string, onnx::TensorProto> inputs, outputs;
  std::string error;
  if (!readTestCase(testDir, model, inputs, outputs, error))
    return fail(error);

  Evaluator eval;
  for (BlockArgument arg : func.getArguments()) {
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                  "kv.name");
    if (!name)
      return fail("argument without kv.name");
    auto it = inputs.find(name.str());
    if (it == inputs.end())
      return fail("no test data for input '" + name.str() + "'");
    Buf b;
    b.shape = SmallVector<int64_t>(
        cast<ShapedType>(arg.getType()).getShape());
    if (!decodeTensor(it->second, b.data, error))
      return fail(error);
    if (static_cast<int64_t>(b.data.size()) != numel(b.shape))
      return fail("input '" + name.str() + "' has the wrong size");
    eval.env[arg] = std::move(b);
  }

  bool ok = true;
  for (Operation &op : func.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (static_cast<int>(ret.getNumOperands()) !=
          model.graph().output_size())
        return fail("result count differs from the model's outputs");
      for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
        const std::string &name = model.graph().output(i).name();
        auto it = outputs.find(name);
        if (it == outputs.end())
          return fail("no expected data for output '" + name + "'");
        std::vector<double> want;
        if (!decodeTensor(it->second, want, error))
          return fail(error);
        Buf &got = eval.env[value];
        if (got.data.size() != want.size())
          return fail("output '" + name + "' has the wrong size");
        Type element = cast<ShapedType>(value.getType()).getElementType();
        for (double &x : got.data)
          x = roundTo(element, x);
        ok &= compareOutput(name, got.data, want, rtol, atol);
      }
      break;
    }
    if (failed(eval.run(&op)))
      return fail(eval.error);
  }
  return ok ? 0 : 1;
}
