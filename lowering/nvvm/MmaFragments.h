//===- MmaFragments.h - per-lane layout of mma.sync m16n8k16 ----*- C++ -*-===//
//
// Which matrix element each lane's registers hold for the warp-wide
// `mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32`, as the
// PTX ISA ("Matrix Fragments for mma.m16n8k16 with floating point type")
// defines it. With groupID = lane / 4 and threadID_in_group = lane % 4:
//
//   A (16x16, row-major M x K), four .b32 registers of two 16-bit elements
//   a0..a7; register r holds a_{2r} (low half) and a_{2r+1} (high half):
//     row = groupID      for a0, a1, a4, a5;   groupID + 8 for a2, a3, a6, a7
//     col = 2*threadID_in_group + (i & 1)  (+8 for a4..a7)
//   so reg 0: (g, 2t..2t+1), reg 1: (g+8, 2t..2t+1),
//      reg 2: (g, 2t+8..2t+9), reg 3: (g+8, 2t+8..2t+9).
//   B (16x8, K x N, "col"), two registers b0..b3:
//     row (k) = 2*threadID_in_group + (i & 1)  (+8 for b2, b3)
//     col (n) = groupID
//   C and D (16x8 f32), four registers c0..c3:
//     row = groupID for c0, c1; groupID + 8 for c2, c3
//     col = 2*threadID_in_group + (i & 1)
//
// nvgpu.mma.sync carries these as vector<4x2xT> (A), vector<2x2xT> (B) and
// vector<2x2xf32> (C/D), indexed [register][element]. The C layout of the
// n-tiles 2k and 2k+1 is the A layout of k-step k (columns 16k..16k+15):
// A reg r is C tile (r >> 1), register (r & 1). Flash attention relies on it
// to feed P = softmax(S) from the S accumulators straight into P.V.
//
// Each coordinate is an affine form g*lane/4 + t*(lane%4) + c so that the IR
// emitter and the host-side unit test evaluate the same table.
//
//===----------------------------------------------------------------------===//

#ifndef KVFUSE_LOWERING_NVVM_MMAFRAGMENTS_H
#define KVFUSE_LOWERING_NVVM_MMAFRAGMENTS_H

namespace mlir::kv::mma {

/// groupMul * groupID + threadMul * threadID_in_group + offset.
struct LaneAffine {
  int groupMul = 0, threadMul = 0, offset = 0;
  constexpr int eval(int lane) const {
    return groupMul * (lane / 4) + threadMul * (lane % 4) + offset;
  }
};

struct Coord {
  LaneAffine row, col;
};

inline constexpr int kM = 16, kN = 8, kK = 16;
inline constexpr int kARegs = 4, kBRegs = 2, kCRegs = 2, kElems = 2;

/// A (M x K) element `elem` of register `reg`.
constexpr Coord aCoord(int reg, int elem) {
  return {{1, 0, 8 * (reg & 1)}, {0, 2, elem + 8 * (reg >> 1)}};
}
/// B (K x N) element `elem` of register `reg`: row is k, col is n.
constexpr Coord bCoord(int reg, int elem) {
  return {{0, 2, elem + 8 * reg}, {1, 0, 0}};
}
/// C/D (M x N) element `elem` of register `reg`.
constexpr Coord cCoord(int reg, int elem) {
  return {{1, 0, 8 * reg}, {0, 2, elem}};
}

/// The accumulator (n-tile within the pair, register) that A register `reg`
/// of the same k-step reuses.
struct CSlot {
  int tile, reg;
};
constexpr CSlot aFromC(int reg) { return {reg >> 1, reg & 1}; }

/// ldmatrix.sync.aligned.m8n8.x2.trans.b16 loads a B fragment of a
/// row-major K x N block (rows k = 0..15, 8 contiguous 16-bit columns):
/// lanes 0-7 give the row addresses of 8x8 matrix 0 (k 0..7), lanes 8-15
/// those of matrix 1 (k 8..15), lanes 16-31 are ignored; with .trans, lane
/// gets in register i the stored elements (2 threadID_in_group + e,
/// groupID) of matrix i, which is B register i (bCoord). The row whose
/// address lane supplies:
constexpr int ldmatrixX2Row(int lane) { return lane % 16; }

/// Lane masks of the butterfly that reduces over the 4 lanes of a quad (the
/// lanes holding one accumulator row).
inline constexpr int kQuadXor[2] = {1, 2};

} // namespace mlir::kv::mma

#endif // KVFUSE_LOWERING_NVVM_MMAFRAGMENTS_H
