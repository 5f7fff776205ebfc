@testable import DNLS
import DNLSConformance
import Testing

/// The host-side cut of the CUDA gathers into passes (``AnchorPlan``): bounded scratch at every
/// size, every anchor row and site in exactly one pass per tile, destinations that contain every
/// pixel a patch anchored in the tile reads.
@Suite("Anchor plan")
struct AnchorPlanTests {
    @Test("Scratch stays within 64 MiB at every size", arguments: [
        (1, 5, 128, 128, 10), (1, 5, 256, 256, 10), (1, 8, 1080, 1920, 10), (1, 1, 2160, 3840, 10),
        (2, 128, 1080, 1920, 10), (1, 5, 512, 512, 2205),
    ])
    func boundedScratch(batch: Int, frames: Int, height: Int, width: Int, k: Int) {
        let plan = AnchorPlan(planes: batch * frames, height: height, width: width,
                              sites: batch * frames * height * width * k)
        #expect(plan.scratchBytes <= 64 << 20)
        #expect(!plan.passes.isEmpty)
    }

    @Test("Passes cover every (anchor row, site) pair once, tile by tile", arguments: [
        (3, 7, 5, 40, 9, 6), (1, 16, 16, 1000, 256, 100), (4, 5, 3, 7, 2, 1), (2, 9, 4, 0, 8, 8),
    ])
    func coverage(planes: Int, height: Int, width: Int, sites: Int, tilePixels: Int, chunkSites: Int) {
        let plan = AnchorPlan(planes: planes, height: height, width: width, sites: sites,
                              tilePixels: tilePixels, chunkSites: chunkSites)
        guard sites > 0 else { #expect(plan.passes.isEmpty); return }
        var covered = [Int](repeating: 0, count: planes * height * sites)
        for pass in plan.passes {
            #expect(pass.rows.count * width <= max(width, tilePixels))
            #expect(pass.sites.count <= chunkSites)
            #expect(pass.rows.count * width <= plan.tilePixels && pass.sites.count <= plan.chunkSites)
            for r in pass.rows { for s in pass.sites { covered[r * sites + s] += 1 } }
        }
        #expect(covered.allSatisfy { $0 == 1 })
        // Same shapes, same passes: the summation order is fixed.
        #expect(plan == AnchorPlan(planes: planes, height: height, width: width, sites: sites,
                                   tilePixels: tilePixels, chunkSites: chunkSites))
    }

    @Test("Destination rows contain every row a patch anchored in the tile reads",
          arguments: [PatchGeometry(patchSize: 3), PatchGeometry(patchSize: 4, dilation: 2),
                      PatchGeometry(patchSize: 5, anchor: .topLeft), PatchGeometry(patchSize: 2, border: .zero)])
    func destinations(geometry: PatchGeometry) {
        let H = 9, planes = 3
        for first in 0..<(planes * H) {
            for last in (first + 1)...(planes * H) {
                let rows = first..<last
                let got = AnchorPlan.destinationRows(rows, height: H, offsets: geometry.offsets)
                #expect(got.lowerBound >= 0 && got.upperBound <= planes * H)
                for row in rows {
                    let plane = row / H, h = row % H
                    for a in 0..<geometry.patchSize {
                        let y = geometry.border.resolve(h + geometry.offset(a), length: H)
                        if y >= 0 { #expect(got.contains(plane * H + y), "rows \(rows), anchor \(row), entry \(a)") }
                    }
                }
            }
        }
    }
}

/// How aggregated patches are cut into runs (``AnchorPlan/runShape(width:channels:entries:budgetFloats:)``).
@Suite("Aggregation runs")
struct AggregationRunTests {
    @Test("A run's patches fit the budget; channels are sliced only when one row does not fit", arguments: [
        (128, 3, 49, 1 << 20), (3840, 64, 49, 8 << 20), (3840, 64, 961, 8 << 20), (7, 1, 1, 10), (16, 16, 9, 100),
    ])
    func runsFit(width: Int, channels: Int, entries: Int, budget: Int) {
        let (rows, slice) = AnchorPlan.runShape(width: width, channels: channels, entries: entries, budgetFloats: budget)
        #expect(rows >= 1 && slice >= 1 && slice <= channels)
        if width * entries <= budget { #expect(rows * width * slice * entries <= budget) }
        if width * channels * entries <= budget { #expect(slice == channels) }
    }

    @Test("Total scratch of the search backward's key side stays within 64 MiB at 4K with 64 channels")
    func keySideAt4K() {
        let plan = AnchorPlan(planes: 1, height: 2160, width: 3840, sites: 2160 * 3840 * 10)
        let budget = (AnchorPlan.scratchBudget - plan.scratchBytes) / 4
        let (rows, slice) = AnchorPlan.runShape(width: 3840, channels: 64, entries: 49, budgetFloats: budget)
        #expect(plan.scratchBytes + 4 * rows * 3840 * slice * 49 <= 64 << 20)
    }
}

/// The quick conformance sweep (what a short GPU session can afford) must reach the multi-pass
/// anchor tables that the checking mode's small tiles give.
@Suite("Quick sweep and anchor passes")
struct QuickSweepPassTests {
    @Test func quickSweepHasACaseOfSeveralTiles() {
        for seed: UInt64 in [1, 7, 36] {
            let cases = ConformanceSuite(device: .cpu, scale: .quick, seed: seed).cases
            #expect(cases.contains { $0.batch * $0.frames * $0.height * $0.width > CUDATuning.stress.anchorTilePixels },
                    "seed \(seed)")
        }
    }
}
