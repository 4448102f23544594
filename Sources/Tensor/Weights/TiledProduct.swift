internal import COpenBLAS

/// The product driver shared by the block-quantized formats (q8, q4) and by f32 decode batches
/// (see `TiledWeight`). 16-bit weights have their own panel layout and kernels (`HalfPanels`).
///
/// Three regimes, by the number of activation rows m:
/// - m = 1 (decode, one sequence): the format's fused `dotRows`, which streams W once and widens
///   in registers; bound by memory bandwidth.
/// - 1 < m < `sgemmMinimumRows` (decode batches): W is decoded in small tiles (4 rows × 256
///   columns, resident in L1) and each tile is multiplied against all m rows with a 4 × 2
///   register-blocked FMA kernel, so W is read from memory once for the whole batch.
/// - m ≥ `sgemmMinimumRows` (prefill): chunks of W's rows are widened to f32 into `MatmulScratch`
///   and multiplied with `cblas_sgemm`; the widening is O(m)-times cheaper than the product.
enum TiledProduct {
  /// Below this many rows the tiled kernel beats widen-plus-sgemm (see docs/benchmarks.md, Kernels).
  static let sgemmMinimumRows = 16
  /// Columns per decoded tile: 4 rows × 256 floats = 4 KiB of tile plus m × 1 KiB of activations
  /// stay in L1 for the batch sizes this path serves. A multiple of every format's block size.
  static let tileColumns = 256
  /// How many tiles ahead of the one being multiplied the decode-batch kernel prefetches: one
  /// tile takes ~0.2 µs at m = 8, about one DRAM latency (see `Prefetch`).
  static let prefetchDistance = 2
  /// Floats of f32 weight widened per sgemm call on the prefill path (64 MiB: every TroL-1.8B
  /// matrix in one call). Each sgemm call packs the activations again, so small panels cost: at
  /// 1477 prompt rows 512-row panels of an 8192 × 2048 matrix ran 14% slower than one call.
  static let sgemmChunkFloats = 1 << 24

  static func multiply<W: TiledWeight>(
    _ w: W, _ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>,
    accumulate: Bool, scratch: MatmulScratch
  ) {
    precondition(m >= 0, "multiply: \(m) rows")
    let outF = w.outFeatures
    if m == 0 || outF == 0 { return }
    if m == 1 {
      TensorThreads.parallelRanges(outF, granule: 4, minimumPerThread: 64) { range in
        w.dotRows(range, x: x, y: y, accumulate: accumulate)
      }
    } else if m < sgemmMinimumRows {
      TensorThreads.parallelRanges(outF, granule: 4, minimumPerThread: 32) { range in
        smallBatch(w, rows: range, x, m: m, into: y, accumulate: accumulate)
      }
    } else {
      widenedSgemm(w, x, m: m, into: y, accumulate: accumulate, scratch: scratch)
    }
  }

  /// Prefill: widen row chunks of W into scratch and multiply with sgemm.
  static func widenedSgemm<W: TiledWeight>(
    _ w: W, _ x: UnsafePointer<Float>, m: Int, into y: UnsafeMutablePointer<Float>,
    accumulate: Bool, scratch: MatmulScratch
  ) {
    let outF = w.outFeatures
    let inF = w.inFeatures
    if inF == 0 {
      if !accumulate { y.update(repeating: 0, count: m * outF) }
      return
    }
    let chunkRows = min(outF, max(16, sgemmChunkFloats / inF / 16 * 16))
    let buffer = scratch.floats(chunkRows * inF)
    guard let panel = buffer.baseAddress else { return }
    var o0 = 0
    while o0 < outF {
      let n = min(chunkRows, outF - o0)
      TensorThreads.parallelRanges(n, granule: 4, minimumPerThread: 64) { range in
        w.decodeTile(
          rows: (o0 + range.lowerBound)..<(o0 + range.upperBound), columns: 0..<inF,
          into: panel + range.lowerBound * inF, stride: inF)
      }
      TensorThreads.yieldToBLAS()
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(inF), 1, x, Int32(inF),
        panel, Int32(inF), accumulate ? 1 : 0, y + o0, Int32(outF))
      o0 += n
    }
  }

  /// Decode batches: y[i, o] for all m rows and the output rows in `rows`, reading W once.
  static func smallBatch<W: TiledWeight>(
    _ w: W, rows: Range<Int>, _ x: UnsafePointer<Float>, m: Int,
    into y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    let inF = w.inFeatures
    let outF = w.outFeatures
    let kc = tileColumns
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * kc) { tileBuffer in
      withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 4 * m) { accBuffer in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * m) { tailBuffer in
          let tile = tileBuffer.baseAddress!
          let acc = accBuffer.baseAddress!
          let tail = tailBuffer.baseAddress!
          let tilesPerGroup = (inF + kc - 1) / kc
          var tileIndex = 0
          var o = rows.lowerBound
          while o < rows.upperBound {
            let rowCount = min(4, rows.upperBound - o)
            acc.initialize(repeating: SIMD8(), count: 4 * m)
            tail.initialize(repeating: 0, count: 4 * m)
            var k0 = 0
            while k0 < inF {
              let kcount = min(kc, inF - k0)
              // The tile `prefetchDistance` steps ahead (the same 4 rows further right, or the
              // next 4 rows) into L2, so its DRAM reads overlap this tile's arithmetic, and the
              // next tile from L2 into L1 (see `Prefetch`). f32 rows are read by the kernel
              // itself, spread over its loop, where the hardware prefetcher keeps up (software
              // prefetching them measured 50% slower).
              if w.f32Rows == nil {
                prefetch(w, tileIndex + prefetchDistance, into: .l2, rows: rows, tilesPerGroup)
                prefetch(w, tileIndex + 1, into: .l1, rows: rows, tilesPerGroup)
              }
              tileIndex += 1
              if let direct = w.f32Rows, rowCount == 4 {
                // f32 weights are read in place; only a last partial group goes through a tile.
                tileTimesRows(
                  direct + o * inF + k0, stride: inF, columns: kcount, x + k0, xStride: inF, m: m,
                  acc, tail)
              } else {
                w.decodeTile(
                  rows: o..<(o + rowCount), columns: k0..<(k0 + kcount), into: tile, stride: kc)
                for r in rowCount..<4 { (tile + r * kc).update(repeating: 0, count: kcount) }
                tileTimesRows(
                  tile, stride: kc, columns: kcount, x + k0, xStride: inF, m: m, acc, tail)
              }
              k0 += kcount
            }
            for i in 0..<m {
              for r in 0..<rowCount {
                let value = acc[i * 4 + r].sum() + tail[i * 4 + r]
                let target = y + i * outF + o + r
                target.pointee = accumulate ? target.pointee + value : value
              }
            }
            o += rowCount
          }
        }
      }
    }
  }

  /// Prefetches tile `index` of a thread's walk over `rows` (4 rows × `tileColumns` per step,
  /// left to right, then the next 4 rows), if there is one.
  @inline(__always)
  static func prefetch<W: TiledWeight>(
    _ w: W, _ index: Int, into level: Prefetch.Level, rows: Range<Int>, _ tilesPerGroup: Int
  ) {
    let row = rows.lowerBound + 4 * (index / tilesPerGroup)
    guard row < rows.upperBound else { return }
    let column = (index % tilesPerGroup) * tileColumns
    w.prefetchTile(
      rows: row..<min(rows.upperBound, row + 4),
      columns: column..<min(w.inFeatures, column + tileColumns), into: level)
  }

  /// acc[i*4 + r] += tile[r, 0..<columns8] ⊙ x[i, 0..<columns8] lane-wise, and the scalar
  /// remainder columns into tail[i*4 + r]: 4 tile rows × 3 activation rows per register block
  /// while 3 remain (4 × 2, then 4 × 1, for the rest). Offsets use wrapping arithmetic and bumped pointers:
  /// checked index arithmetic put overflow branches and spills into the inner loop.
  @inline(__always)
  static func tileTimesRows(
    _ tile: UnsafePointer<Float>, stride kc: Int, columns: Int, _ x: UnsafePointer<Float>,
    xStride: Int, m: Int, _ acc: UnsafeMutablePointer<SIMD8<Float>>,
    _ tail: UnsafeMutablePointer<Float>
  ) {
    let columns8 = columns & ~7
    let r0 = tile
    let r1 = tile + kc
    let r2 = tile + 2 &* kc
    let r3 = tile + 3 &* kc
    var i = 0
    // 4 tile rows × 3 activation rows: 12 accumulators, 7 loads per 12 FMAs (the 16 AVX2
    // registers: 12 accumulators, 3 activation vectors, 1 tile vector).
    while i &+ 3 <= m && m != 4 {
      let a = acc + i &* 4
      var a00 = a[0]
      var a01 = a[1]
      var a02 = a[2]
      var a03 = a[3]
      var a10 = a[4]
      var a11 = a[5]
      var a12 = a[6]
      var a13 = a[7]
      var a20 = a[8]
      var a21 = a[9]
      var a22 = a[10]
      var a23 = a[11]
      var x0 = x + i &* xStride
      var x1 = x0 + xStride
      var x2 = x1 + xStride
      var t0 = r0
      var t1 = r1
      var t2 = r2
      var t3 = r3
      let end = r0 + columns8
      while t0 < end {
        let v0 = UnsafeRawPointer(x0).loadUnaligned(as: SIMD8<Float>.self)
        let v1 = UnsafeRawPointer(x1).loadUnaligned(as: SIMD8<Float>.self)
        let v2 = UnsafeRawPointer(x2).loadUnaligned(as: SIMD8<Float>.self)
        let w0 = UnsafeRawPointer(t0).loadUnaligned(as: SIMD8<Float>.self)
        a00.addProduct(w0, v0)
        a10.addProduct(w0, v1)
        a20.addProduct(w0, v2)
        let w1 = UnsafeRawPointer(t1).loadUnaligned(as: SIMD8<Float>.self)
        a01.addProduct(w1, v0)
        a11.addProduct(w1, v1)
        a21.addProduct(w1, v2)
        let w2 = UnsafeRawPointer(t2).loadUnaligned(as: SIMD8<Float>.self)
        a02.addProduct(w2, v0)
        a12.addProduct(w2, v1)
        a22.addProduct(w2, v2)
        let w3 = UnsafeRawPointer(t3).loadUnaligned(as: SIMD8<Float>.self)
        a03.addProduct(w3, v0)
        a13.addProduct(w3, v1)
        a23.addProduct(w3, v2)
        x0 += 8
        x1 += 8
        x2 += 8
        t0 += 8
        t1 += 8
        t2 += 8
        t3 += 8
      }
      a[0] = a00
      a[1] = a01
      a[2] = a02
      a[3] = a03
      a[4] = a10
      a[5] = a11
      a[6] = a12
      a[7] = a13
      a[8] = a20
      a[9] = a21
      a[10] = a22
      a[11] = a23
      i &+= 3
    }
    while i &+ 2 <= m {
      let a = acc + i &* 4
      var a00 = a[0]
      var a01 = a[1]
      var a02 = a[2]
      var a03 = a[3]
      var a10 = a[4]
      var a11 = a[5]
      var a12 = a[6]
      var a13 = a[7]
      var x0 = x + i &* xStride
      var x1 = x0 + xStride
      var t0 = r0
      var t1 = r1
      var t2 = r2
      var t3 = r3
      let end = r0 + columns8
      while t0 < end {
        let v0 = UnsafeRawPointer(x0).loadUnaligned(as: SIMD8<Float>.self)
        let v1 = UnsafeRawPointer(x1).loadUnaligned(as: SIMD8<Float>.self)
        let w0 = UnsafeRawPointer(t0).loadUnaligned(as: SIMD8<Float>.self)
        let w1 = UnsafeRawPointer(t1).loadUnaligned(as: SIMD8<Float>.self)
        let w2 = UnsafeRawPointer(t2).loadUnaligned(as: SIMD8<Float>.self)
        let w3 = UnsafeRawPointer(t3).loadUnaligned(as: SIMD8<Float>.self)
        a00.addProduct(w0, v0)
        a01.addProduct(w1, v0)
        a02.addProduct(w2, v0)
        a03.addProduct(w3, v0)
        a10.addProduct(w0, v1)
        a11.addProduct(w1, v1)
        a12.addProduct(w2, v1)
        a13.addProduct(w3, v1)
        x0 += 8
        x1 += 8
        t0 += 8
        t1 += 8
        t2 += 8
        t3 += 8
      }
      a[0] = a00
      a[1] = a01
      a[2] = a02
      a[3] = a03
      a[4] = a10
      a[5] = a11
      a[6] = a12
      a[7] = a13
      i &+= 2
    }
    if i < m {
      let a = acc + i &* 4
      var a0 = a[0]
      var a1 = a[1]
      var a2 = a[2]
      var a3 = a[3]
      var x0 = x + i &* xStride
      var t0 = r0
      var t1 = r1
      var t2 = r2
      var t3 = r3
      let end = r0 + columns8
      while t0 < end {
        let v0 = UnsafeRawPointer(x0).loadUnaligned(as: SIMD8<Float>.self)
        a0.addProduct(UnsafeRawPointer(t0).loadUnaligned(as: SIMD8<Float>.self), v0)
        a1.addProduct(UnsafeRawPointer(t1).loadUnaligned(as: SIMD8<Float>.self), v0)
        a2.addProduct(UnsafeRawPointer(t2).loadUnaligned(as: SIMD8<Float>.self), v0)
        a3.addProduct(UnsafeRawPointer(t3).loadUnaligned(as: SIMD8<Float>.self), v0)
        x0 += 8
        t0 += 8
        t1 += 8
        t2 += 8
        t3 += 8
      }
      a[0] = a0
      a[1] = a1
      a[2] = a2
      a[3] = a3
    }
    if columns8 < columns {
      for i in 0..<m {
        for r in 0..<4 {
          var sum: Float = 0
          for k in columns8..<columns { sum += tile[r * kc + k] * x[i * xStride + k] }
          tail[i * 4 + r] += sum
        }
      }
    }
  }
}
