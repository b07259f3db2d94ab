//===- kvfuse/reference.h - float64 reference attention ---------*- C++ -*-===//
//
// A direct, unoptimised implementation of the semantic contract (design
// section 2) in double precision. Tests, kvfuse-run and benchmarks check
// compiled kernels against it. Header-only and dependency-free.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_REFERENCE_H
#define KVFUSE_REFERENCE_H

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace kvfuse::ref {

/// One attention problem: Q [B, Hq, Sq, D], K [B, Hkv, Skv, D],
/// V [B, Hkv, Skv, Dv], O [B, Hq, Sq, Dv], all dense row-major.
struct AttentionProblem {
  int64_t batch = 1, qHeads = 1, kvHeads = 1, qLen = 1, kvLen = 1;
  int64_t headDim = 1, valueDim = 1;
  /// Score scale; NaN means the default 1/sqrt(headDim).
  double scale = std::numeric_limits<double>::quiet_NaN();
  /// Soft-cap c in c*tanh(s/c); 0 means none.
  double softcap = 0.0;
  bool causal = false;
  /// Position of query row 0; `offsets[b]` replaces it when non-null.
  int64_t causalOffset = 0;
  const int32_t *offsets = nullptr;
  /// Valid keys per sequence; all kvLen when null.
  const int32_t *kvLens = nullptr;
  /// Window bounds around the query position; -1 means unbounded.
  int64_t windowLeft = -1, windowRight = -1;
  /// Global index of key 0 (the slice start of a partial attention).
  int64_t kvStart = 0;
  /// Optional explicit mask, broadcast from `maskShape` (each dim 1 or full)
  /// to [B, Hq, Sq, Skv]: boolean (non-zero = attend) or additive float.
  const uint8_t *boolMask = nullptr;
  const double *floatMask = nullptr;
  int64_t maskShape[4] = {1, 1, 1, 1};
};

/// Whether key `j` (slice index) is visible to query row `i` of sequence `b`
/// under the causal, window and length masks.
inline bool isKeyVisible(const AttentionProblem &p, int64_t b, int64_t i,
                         int64_t j) {
  int64_t key = j + p.kvStart;
  int64_t length = p.kvLens ? p.kvLens[b] : p.kvStart + p.kvLen;
  if (key >= length)
    return false;
  int64_t pos = i + (p.offsets ? p.offsets[b] : p.causalOffset);
  if (p.causal && key > pos)
    return false;
  if (p.windowLeft >= 0 && key < pos - p.windowLeft)
    return false;
  if (p.windowRight >= 0 && key > pos + p.windowRight)
    return false;
  return true;
}

/// Computes O (and, when `lse` is non-null, the log-sum-exp [B, Hq, Sq] of
/// the visible scores). Fully masked rows give O = 0 and LSE = -inf.
inline void attention(const AttentionProblem &p, const double *q,
                      const double *k, const double *v, double *out,
                      double *lse = nullptr) {
  const double negInf = -std::numeric_limits<double>::infinity();
  double scale = std::isnan(p.scale) ? 1.0 / std::sqrt(double(p.headDim))
                                     : p.scale;
  int64_t group = p.qHeads / p.kvHeads;
  std::vector<double> scores(p.kvLen);
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t h = 0; h < p.qHeads; ++h)
      for (int64_t i = 0; i < p.qLen; ++i) {
        int64_t kh = h / group;
        const double *qRow = q + ((b * p.qHeads + h) * p.qLen + i) * p.headDim;
        double maxScore = negInf;
        for (int64_t j = 0; j < p.kvLen; ++j) {
          double s = negInf;
          if (isKeyVisible(p, b, i, j)) {
            const double *kRow =
                k + ((b * p.kvHeads + kh) * p.kvLen + j) * p.headDim;
            double dot = 0.0;
            for (int64_t d = 0; d < p.headDim; ++d)
              dot += qRow[d] * kRow[d];
            s = scale * dot;
            if (p.softcap > 0.0)
              s = p.softcap * std::tanh(s / p.softcap);
            if (p.boolMask || p.floatMask) {
              const int64_t *m = p.maskShape;
              int64_t idx = (((m[0] == 1 ? 0 : b) * m[1] +
                              (m[1] == 1 ? 0 : h)) *
                                 m[2] +
                             (m[2] == 1 ? 0 : i)) *
                                m[3] +
                            (m[3] == 1 ? 0 : j);
              if (p.boolMask && !p.boolMask[idx])
                s = negInf;
              if (p.floatMask)
                s += p.floatMask[idx];
            }
          }
          scores[j] = s;
          if (s > maxScore)
            maxScore = s;
        }
        double *oRow = out + ((b * p.qHeads + h) * p.qLen + i) * p.valueDim;
        for (int64_t d = 0; d < p.valueDim; ++d)
          oRow[d] = 0.0;
        double *lseOut =
            lse ? lse + (b * p.qHeads + h) * p.qLen + i : nullptr;
        if (maxScore == negInf) {
          if (lseOut)
            *lseOut = negInf;
          continue;
        }
        double sum = 0.0;
        for (int64_t j = 0; j < p.kvLen; ++j) {
          if (scores[j] == negInf)
            continue;
          double w = std::exp(scores[j] - maxScore);
          sum += w;
          const double *vRow =
              v + ((b * p.kvHeads + kh) * p.kvLen + j) * p.valueDim;
          for (int64_t d = 0; d < p.valueDim; ++d)
            oRow[d] += w * vRow[d];
        }
        for (int64_t d = 0; d < p.valueDim; ++d)
          oRow[d] /= sum;
        if (lseOut)
          *lseOut = maxScore + std::log(sum);
      }
}

/// Relative error ||a - b|| / ||b|| (2-norm); NaN in `a` gives infinity.
inline double relativeError(const double *a, const double *b, int64_t n) {
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]))
      return std::numeric_limits<double>::infinity();
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return den == 0.0 ? std::sqrt(num) : std::sqrt(num / den);
}

} // namespace kvfuse::ref

#endif // KVFUSE_REFERENCE_H
