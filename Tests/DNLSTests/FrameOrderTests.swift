import DNLS
import Testing

/// The temporal search range: `2wt+1` frames shifted (not cut) into the video, visited query frame
/// first, later frames ascending, earlier frames descending (the Conventions article's table).
@Suite("Frame order")
struct FrameOrderTests {
    @Test("T = 5, wt = 2", arguments: [
        (0, [0, 1, 2, 3, 4]), (1, [1, 2, 3, 4, 0]), (2, [2, 3, 4, 1, 0]), (3, [3, 4, 2, 1, 0]), (4, [4, 3, 2, 1, 0]),
    ])
    func fiveFramesRadiusTwo(t: Int, expected: [Int]) {
        let window = SearchWindow(size: 3, temporalRadius: 2)
        #expect(window.frameOrder(queryFrame: t, videoFrames: 5) == expected)
        #expect(window.frameRange(queryFrame: t, videoFrames: 5) == 0..<5)
    }

    @Test("T = 5, wt = 1", arguments: [
        (0, [0, 1, 2]), (1, [1, 2, 0]), (2, [2, 3, 1]), (3, [3, 4, 2]), (4, [4, 3, 2]),
    ])
    func fiveFramesRadiusOne(t: Int, expected: [Int]) {
        let window = SearchWindow(size: 3, temporalRadius: 1)
        #expect(window.frameOrder(queryFrame: t, videoFrames: 5) == expected)
        #expect(window.frameRange(queryFrame: t, videoFrames: 5) == expected.min()!..<(expected.max()! + 1))
    }

    @Test("T = 3, wt = 2: only the 3 frames there are", arguments: [
        (0, [0, 1, 2]), (1, [1, 2, 0]), (2, [2, 1, 0]),
    ])
    func threeFramesRadiusTwo(t: Int, expected: [Int]) {
        let window = SearchWindow(size: 3, temporalRadius: 2)
        #expect(window.frameOrder(queryFrame: t, videoFrames: 3) == expected)
        #expect(window.frameCount(videoFrames: 3) == 3)
    }

    @Test("wt = 0 searches only the query frame")
    func radiusZero() {
        let window = SearchWindow(size: 3)
        for t in 0..<4 {
            #expect(window.frameOrder(queryFrame: t, videoFrames: 4) == [t])
        }
    }

    @Test("Slot-to-frame mapping agrees with the visiting order", arguments: [1, 2, 3, 6], [0, 1, 2, 3])
    func slots(frames: Int, radius: Int) {
        let window = SearchWindow(size: 1, temporalRadius: radius)
        for t in 0..<frames {
            let order = window.frameOrder(queryFrame: t, videoFrames: frames)
            let range = window.frameRange(queryFrame: t, videoFrames: frames)
            #expect(order.count == min(2 * radius + 1, frames))
            #expect(Set(order) == Set(range))
            #expect(order.enumerated().allSatisfy { window.frame(slot: $0.offset, queryFrame: t, range: range) == $0.element })
            // Independent check: the window shifted to fit [0, T).
            var start = t - radius, end = t + radius + 1
            if start < 0 { end -= start; start = 0 }
            if end > frames { start = max(0, start - (end - frames)); end = frames }
            #expect(order == Array(t..<end) + Array((start..<t).reversed()))
        }
    }
}
