import DNLS
import DNLSImageIO

/// A video from a folder of PNG/JPEG frames, a video file (through ffmpeg: at most `maxFrames`
/// frames, with its frame rate when the file tells it) or a `.npy` file.
func readVideoInput(_ path: String, maxFrames: Int?, progress: Progress) throws -> (video: Tensor<Float>, framesPerSecond: Double?) {
    if ImageIO.isDirectory(path) { return (try ImageIO.readFrames(folder: path), nil) }
    if FFmpeg.isVideoFile(path) {
        let read = try FFmpeg.read(path, maxFrames: maxFrames) { progress.show("reading \(path): \($0) frames") }
        progress.clear()
        return (read.frames, read.framesPerSecond)
    }
    return (try NPY.read(path).floatTensor(), nil)
}
