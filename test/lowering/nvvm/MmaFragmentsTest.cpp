//===- MmaFragmentsTest.cpp - the mma.sync fragment table on the host -----===//
//
// Checks lowering/nvvm/MmaFragments.h, which the prefill kernel's emitter
// evaluates, against the PTX ISA's m16n8k16 fragment description written out
// independently here (element-numbered a0..a7, b0..b3, c0..c3), then emulates
// one warp: per-lane registers gathered through the table, the product the
// hardware computes from them, the reuse of two C tiles as the A operand of
// the next product, and the quad butterfly that reduces an accumulator row.
//
//===----------------------------------------------------------------------===//

#include "lowering/nvvm/MmaFragments.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>
#include <utility>

using namespace mlir::kv::mma;

namespace {

// PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type".
std::pair<int, int> isaA(int lane, int i) {
  int group = lane >> 2, tig = lane % 4;
  int row = (i < 2 || (i >= 4 && i < 6)) ? group : group + 8;
  int col = tig * 2 + (i & 1) + (i >= 4 ? 8 : 0);
  return {row, col};
}
std::pair<int, int> isaB(int lane, int i) {
  int group = lane >> 2, tig = lane % 4;
  return {tig * 2 + (i & 1) + (i >= 2 ? 8 : 0), group};
}
std::pair<int, int> isaC(int lane, int i) {
  int group = lane >> 2, tig = lane % 4;
  return {i < 2 ? group : group + 8, tig * 2 + (i & 1)};
}

std::pair<int, int> eval(const Coord &c, int lane) {
  return {c.row.eval(lane), c.col.eval(lane)};
}

TEST(MmaFragments, TableMatchesIsa) {
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < kARegs; ++r)
      for (int el = 0; el < kElems; ++el)
        EXPECT_EQ(eval(aCoord(r, el), lane), isaA(lane, 2 * r + el));
    for (int r = 0; r < kBRegs; ++r)
      for (int el = 0; el < kElems; ++el)
        EXPECT_EQ(eval(bCoord(r, el), lane), isaB(lane, 2 * r + el));
    for (int r = 0; r < kCRegs; ++r)
      for (int el = 0; el < kElems; ++el)
        EXPECT_EQ(eval(cCoord(r, el), lane), isaC(lane, 2 * r + el));
  }
}

// Every element of A, B and C is held by exactly one (lane, register,
// element).
TEST(MmaFragments, FragmentsPartitionTheTiles) {
  std::set<std::pair<int, int>> a, bm, c;
  for (int lane = 0; lane < 32; ++lane)
    for (int el = 0; el < kElems; ++el) {
      for (int r = 0; r < kARegs; ++r)
        EXPECT_TRUE(a.insert(eval(aCoord(r, el), lane)).second);
      for (int r = 0; r < kBRegs; ++r)
        EXPECT_TRUE(bm.insert(eval(bCoord(r, el), lane)).second);
      for (int r = 0; r < kCRegs; ++r)
        EXPECT_TRUE(c.insert(eval(cCoord(r, el), lane)).second);
    }
  EXPECT_EQ(a.size(), size_t(kM * kK));
  EXPECT_EQ(bm.size(), size_t(kK * kN));
  EXPECT_EQ(c.size(), size_t(kM * kN));
}

using Regs = std::array<std::array<std::array<float, 2>, 4>, 32>;

/// The warp-wide m16n8k16: rebuild A and B from every lane's registers (ISA
/// layout), multiply, and hand each lane its D registers (ISA layout).
Regs hardwareMma(const Regs &a, const Regs &bm, const Regs &c) {
  float am[16][16], bmat[16][8];
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 8; ++i) {
      auto [r, k] = isaA(lane, i);
      am[r][k] = a[lane][i / 2][i % 2];
      if (i < 4) {
        auto [kk, n] = isaB(lane, i);
        bmat[kk][n] = bm[lane][i / 2][i % 2];
      }
    }
  Regs d{};
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      auto [r, n] = isaC(lane, i);
      float acc = c[lane][i / 2][i % 2];
      for (int k = 0; k < 16; ++k)
        acc += am[r][k] * bmat[k][n];
      d[lane][i / 2][i % 2] = acc;
    }
  return d;
}

// S = Q K^T then O = P V for one warp, registers filled the way the emitter
// fills them (through the table), P taken from the S accumulators of two
// n-tiles: O equals the plain matrix product.
TEST(MmaFragments, WarpEmulationOfScoresAndPV) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> small(-4, 4);
  float q[16][16], k[16][16], v[16][8];
  for (auto &r : q)
    for (float &x : r)
      x = small(rng);
  for (auto &r : k)
    for (float &x : r)
      x = small(rng);
  for (auto &r : v)
    for (float &x : r)
      x = small(rng);

  // S tiles t = 0, 1 hold keys 8t..8t+7: B = K^T, B[kk][n] = K[8t + n][kk].
  Regs qa{}, zero{}, s[2];
  for (int lane = 0; lane < 32; ++lane)
    for (int r = 0; r < kARegs; ++r)
      for (int el = 0; el < kElems; ++el) {
        auto [row, col] = eval(aCoord(r, el), lane);
        qa[lane][r][el] = q[row][col];
      }
  for (int t = 0; t < 2; ++t) {
    Regs kb{};
    for (int lane = 0; lane < 32; ++lane)
      for (int r = 0; r < kBRegs; ++r)
        for (int el = 0; el < kElems; ++el) {
          auto [kk, n] = eval(bCoord(r, el), lane);
          kb[lane][r][el] = k[8 * t + n][kk];
        }
    s[t] = hardwareMma(qa, kb, zero);
  }
  for (int lane = 0; lane < 32; ++lane)
    for (int t = 0; t < 2; ++t)
      for (int r = 0; r < kCRegs; ++r)
        for (int el = 0; el < kElems; ++el) {
          auto [row, col] = eval(cCoord(r, el), lane);
          float ref = 0;
          for (int d = 0; d < 16; ++d)
            ref += q[row][d] * k[8 * t + col][d];
          EXPECT_EQ(s[t][lane][r][el], ref);
        }

  // P's A fragment straight from the accumulators.
  Regs pa{}, vb{};
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < kARegs; ++r) {
      CSlot slot = aFromC(r);
      for (int el = 0; el < kElems; ++el)
        pa[lane][r][el] = s[slot.tile][lane][slot.reg][el];
    }
    for (int r = 0; r < kBRegs; ++r)
      for (int el = 0; el < kElems; ++el) {
        auto [key, col] = eval(bCoord(r, el), lane);
        vb[lane][r][el] = v[key][col];
      }
  }
  Regs o = hardwareMma(pa, vb, zero);
  for (int lane = 0; lane < 32; ++lane)
    for (int r = 0; r < kCRegs; ++r)
      for (int el = 0; el < kElems; ++el) {
        auto [row, col] = eval(cCoord(r, el), lane);
        float ref = 0;
        for (int key = 0; key < 16; ++key) {
          float p = 0;
          for (int d = 0; d < 16; ++d)
            p += q[row][d] * k[key][d];
          ref += p * v[key][col];
        }
        EXPECT_EQ(o[lane][r][el], ref);
      }
}

// ldmatrix.x2.trans as the PTX ISA describes it: thread T's register i
// holds row T/4 (elements 2 (T%4), +1) of the transpose of matrix i, whose
// stored rows come from the addresses of lanes 8i..8i+7. The emitter's row
// addresses (ldmatrixX2Row) make that the B fragment of a row-major block.
TEST(MmaFragments, LdmatrixTransGivesBFragment) {
  int stored[16][8];
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 8; ++n)
      stored[k][n] = 100 * k + n;
  int rowOf[32];
  for (int lane = 0; lane < 32; ++lane)
    rowOf[lane] = ldmatrixX2Row(lane);
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 2; ++i)
      for (int el = 0; el < 2; ++el) {
        // Matrix i, stored row r is at lane 8i + r's address; transposed
        // element (T/4, 2 (T%4) + el) is stored (2 (T%4) + el, T/4).
        int r = 2 * (lane % 4) + el, col = lane / 4;
        int got = stored[rowOf[8 * i + r]][col];
        auto [k, n] = eval(bCoord(i, el), lane);
        EXPECT_EQ(got, stored[k][n]);
      }
}

// shfl.bfly with masks 1 and 2 combines exactly the 4 lanes of a quad, which
// hold the 8 columns of one accumulator row.
TEST(MmaFragments, QuadButterflyReducesOneRow) {
  std::array<float, 32> x;
  for (int lane = 0; lane < 32; ++lane)
    x[lane] = float(lane * lane % 13);
  for (int mask : kQuadXor) {
    std::array<float, 32> y;
    for (int lane = 0; lane < 32; ++lane)
      y[lane] = x[lane] + x[lane ^ mask];
    x = y;
  }
  for (int lane = 0; lane < 32; ++lane) {
    float ref = 0;
    for (int other = 0; other < 32; ++other)
      if (cCoord(0, 0).row.eval(other) == cCoord(0, 0).row.eval(lane))
        ref += float(other * other % 13);
    EXPECT_EQ(x[lane], ref);
  }
}

} // namespace
