import _Differentiation
import ArgumentParser
import DNLS
import DNLSDifferentiation
#if canImport(Glibc)
import Glibc
#endif

/// `dnls train`: learns the parameters of a small non-local denoiser by gradient descent
/// through the library's differentiable operations, and compares it with its untrained start on
/// frames it never saw.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a learned non-local denoiser through DNLS's differentiable operations.",
        discussion: """
            The model: a channel mixing (features × 3 weights) makes the features that a patch \
            search compares; the weights of the neighbours are a softmax of their distances times a \
            learned temperature; the weighted neighbour patches of the noisy video are folded back \
            and normalised, then blended with the noisy input by a learned factor. It starts as \
            plain non-local means (features = the colour channels, h = 0.8 σ, no blend) and is \
            trained with Adam on random crops of the left half of the embedded video (a public-domain \
            NASA photograph moved by a camera; values scaled to 0–1) with fresh Gaussian noise each \
            step. The right half, with fixed noise, is held out: its PSNR is reported for the \
            untrained start and during training. Writes training.csv (step, loss, held-out PSNR) \
            into --output.
            """)

    @OptionGroup var placement: DeviceOptions

    @Option(help: "Gradient steps.")
    var steps = 60

    @Option(help: "Clips per step.")
    var batch = 2

    @Option(help: "Side of the square training crops.")
    var crop = 32

    @Option(help: "Frames per training clip (the held-out clip has all 5).")
    var frames = 5

    @Option(help: "Feature channels made by the learned mixing (at least 3).")
    var features = 8

    @Option(help: "Patch side.")
    var patchSize = 5

    @Option(help: "Search window side.")
    var window = 15

    @Option(help: "Frames searched on each side of the query frame.")
    var temporalRadius = 2

    @Option(help: "Neighbours per query.")
    var neighbours = 16

    @Option(help: "Spacing of the query grid.")
    var queryStride = 1

    @Option(help: "Adam's learning rate.")
    var learningRate: Float = 0.03

    @Option(parsing: .unconditional, help: "Noise standard deviation on the 0–255 scale.")
    var sigma: Float = 25

    @Option(help: "Held-out PSNR every this many steps (and after the last).")
    var evaluateEvery = 10

    @Option(help: "Seed of the noise, the crops and the initial extra features.")
    var seed: UInt64 = 7

    @Option(help: "Folder for training.csv.")
    var output = "dnls-out"

    func run() throws {
        try reportingErrors(FlagNames(names: [:], inputs: [], unnamed: .internal)) { try train() }
    }

    private func validateOptions() throws {
        for (name, value, least) in [("--steps", steps, 1), ("--batch", batch, 1), ("--evaluate-every", evaluateEvery, 1),
                                     ("--features", features, 3)] where value < least {
            throw ValidationError("\(name) must be at least \(least), got \(value)")
        }
        guard (1...DefaultScene.frames).contains(frames) else {
            throw ValidationError("--frames must be 1…\(DefaultScene.frames), got \(frames)")
        }
        guard (16...TrainingData.halfWidth).contains(crop) else {
            throw ValidationError("--crop must be 16…\(TrainingData.halfWidth) (the training half is \(TrainingData.halfWidth) wide), got \(crop)")
        }
        guard sigma > 0, sigma.isFinite else { throw ValidationError("--sigma must be a positive noise level, got \(sigma)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw ValidationError("--learning-rate must be positive, got \(learningRate)")
        }
    }

    private func train() throws {
        try validateOptions()
        let device = try placement.resolve(for: Self.self)
        try checkOutputFolder(output)
        let settings = LearnedDenoiser.Settings(patchSize: patchSize, window: window, temporalRadius: temporalRadius,
                                                neighbours: neighbours, queryStride: queryStride)
        let data = TrainingData(sigma: sigma / 255, seed: seed)
        var run = try TrainingRun(data: data, settings: settings, features: features, batch: batch, frames: frames,
                                  crop: crop, learningRate: learningRate, seed: seed, on: device)
        let heldOut = run.heldOutClean.shape
        print("device: \(device.gpuDescription ?? "cpu")")
        print("model: \(run.parameters.count) parameters (\(features)×3 mixing, temperature, blend); patch "
              + "\(settings.patchSize), window \(settings.window), ±\(settings.temporalRadius) frames, "
              + "\(settings.neighbours) neighbours, query stride \(settings.queryStride)")
        print("training: \(steps) steps of \(batch) clips \(frames)×\(crop)×\(crop), σ = \(sigma)/255; held out: "
              + "\(describe(Array(heldOut.dropFirst())))")
        let start = try run.heldOutPSNR()
        let sameSearch = try run.classicHeldOutPSNR(settings: settings, sigma: sigma)
        let defaults = try run.classicHeldOutPSNR(settings: nil, sigma: sigma)
        print("held-out PSNR: noisy \(format(run.noisyHeldOutPSNR())) dB; non-local means \(format(sameSearch)) dB "
              + "(same search), \(format(defaults)) dB (dnls denoise's defaults); untrained start \(format(start)) dB")
        print("")
        print(" step    loss (MSE)   held-out PSNR")
        var rows = ["step,loss,heldout_psnr"]
        rows.append("0,,\(start)")
        print(pad("0", 5) + pad("–", 14) + pad(format(start), 16))
        var losses: [Float] = []
        let clock = ContinuousClock()
        let began = clock.now
        for step in 1...steps {
            let loss = try run.step()
            losses.append(loss)
            if step % evaluateEvery == 0 || step == steps {
                let psnr = try run.heldOutPSNR()
                let window = losses.suffix(evaluateEvery)
                let mean = window.reduce(0, +) / Float(window.count)
                rows.append("\(step),\(mean),\(psnr)")
                print(pad("\(step)", 5) + pad(fixed(Double(mean), 6), 14) + pad(format(psnr), 16))
            }
        }
        let seconds = (clock.now - began).milliseconds / 1000
        let final = try run.heldOutPSNR()
        let values = try run.parameters.hostValues()
        print("")
        print("trained in \(format(seconds)) s on \(device): held-out PSNR \(format(start)) → \(format(final)) dB "
              + "(\(final > start ? "+" : "")\(format(final - start)) dB over the untrained start, "
              + "\(final > sameSearch ? "+" : "")\(format(final - sameSearch)) dB over non-local means with the same search); "
              + "temperature \(fixed(Double(expf(values[1][0])), 3)), blend \(fixed(Double(values[2][0]), 3))")
        try prepareOutputFolder(output)
        let path = output + "/training.csv"
        guard let file = fopen(path, "w") else { throw ValidationError("cannot write \(path)") }
        fputs(rows.joined(separator: "\n") + "\n", file)
        fclose(file)
        print("wrote \(path)")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

/// The frames of the embedded video on a 0–1 scale, split into a training half (the left
/// columns) and a held-out half (the right columns), with seeded noise.
struct TrainingData {
    static let halfWidth = DefaultScene.frameSide / 2
    let clean: Tensor<Float>
    let sigma: Float
    let seed: UInt64

    init(sigma: Float, seed: UInt64) {
        let video = DefaultScene.video()
        clean = try! Tensor(shape: video.shape, scalars: video.scalars.map { $0 / 255 })
        self.sigma = sigma
        self.seed = seed
    }

    /// Frames `t0 ..< t0 + T`, rows `y0 ..< y0 + H`, columns `x0 ..< x0 + W` of the clean video, `(T, C, H, W)`.
    func clip(t0: Int, frames T: Int, y0: Int, height H: Int, x0: Int, width W: Int) -> [Float] {
        let (C, side) = (clean.shape[1], clean.shape[2])
        var out = [Float]()
        out.reserveCapacity(T * C * H * W)
        let s = clean.scalars
        for t in t0..<t0 + T {
            for c in 0..<C {
                for y in y0..<y0 + H {
                    let row = ((t * C + c) * side + y) * side
                    out += s[(row + x0)..<(row + x0 + W)]
                }
            }
        }
        return out
    }
}

/// One training run: the parameters, the optimiser, the training and held-out denoisers.
struct TrainingRun {
    private(set) var parameters: DenoiserParameters
    private var optimiser: Adam
    private var rng: SplitMix64
    private var noiseSeed: UInt64
    let data: TrainingData
    let device: Device
    let training: LearnedDenoiser, heldOut: LearnedDenoiser
    let batch: Int, frames: Int, crop: Int
    let heldOutClean: Tensor<Float>, heldOutNoisy: Tensor<Float>

    init(data: TrainingData, settings: LearnedDenoiser.Settings, features: Int, batch: Int, frames: Int, crop: Int,
         learningRate: Float, seed: UInt64, on device: Device) throws(DNLSError) {
        self.data = data
        self.device = device
        (self.batch, self.frames, self.crop) = (batch, frames, crop)
        let C = data.clean.shape[1], side = DefaultScene.frameSide, half = TrainingData.halfWidth
        parameters = try .untrained(channels: C, features: features, patchSize: settings.patchSize, sigma: data.sigma,
                                    seed: seed, on: device)
        optimiser = Adam(learningRate: learningRate)
        rng = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        noiseSeed = seed &* 1000
        training = try LearnedDenoiser(shape: [batch, frames, C, crop, crop], features: features, settings: settings,
                                       on: device)
        let heldOutShape = [1, DefaultScene.frames, C, side, side - half]
        heldOut = try LearnedDenoiser(shape: heldOutShape, features: features, settings: settings, on: device)
        let clean = try Tensor(shape: heldOutShape, scalars: data.clip(t0: 0, frames: DefaultScene.frames, y0: 0,
                                                                     height: side, x0: half, width: side - half))
        heldOutClean = clean
        heldOutNoisy = addNoise(clean, sigma: data.sigma, seed: seed &+ 1)
    }

    /// One Adam step on a fresh batch of noisy crops; returns its loss.
    mutating func step() throws(DNLSError) -> Float {
        let C = data.clean.shape[1], side = DefaultScene.frameSide
        var values = [Float]()
        for _ in 0..<batch {
            let t0 = Int.random(in: 0...(DefaultScene.frames - frames), using: &rng)
            let y0 = Int.random(in: 0...(side - crop), using: &rng)
            let x0 = Int.random(in: 0...(TrainingData.halfWidth - crop), using: &rng)
            values += data.clip(t0: t0, frames: frames, y0: y0, height: crop, x0: x0, width: crop)
        }
        let cleanHost = try Tensor(shape: [batch, frames, C, crop, crop], scalars: values)
        noiseSeed &+= 1
        let noisy = try addNoise(cleanHost, sigma: data.sigma, seed: noiseSeed).to(device)
        let clean = try cleanHost.to(device)
        let model = training
        let (loss, gradient) = valueWithGradient(at: parameters) { p in model.loss(noisy, clean, p) }
        var host = try parameters.hostValues()
        let g = [try gradient.mix.to(.cpu).scalars, try gradient.logTemperature.to(.cpu).scalars,
                 try gradient.blend.to(.cpu).scalars]
        optimiser.update(&host, gradients: g)
        parameters = try parameters.replacing(with: host, on: device)
        return try loss.to(.cpu).scalars[0]
    }

    /// PSNR (0–1 scale) of the current model on the held-out half.
    func heldOutPSNR() throws(DNLSError) -> Double {
        let denoised = try heldOut(try heldOutNoisy.to(device), parameters).to(.cpu)
        return unitPSNR(denoised, heldOutClean)
    }

    /// PSNR on the held-out half of the library's (untrained) ``NonLocalMeans`` for noise `sigma`
    /// (0–255 scale): with the model's search settings, or with its defaults for `nil`.
    func classicHeldOutPSNR(settings: LearnedDenoiser.Settings?, sigma: Float) throws(DNLSError) -> Double {
        var nlm = NonLocalMeans(sigma: sigma)
        if let settings {
            nlm.patchSize = settings.patchSize
            nlm.windowSize = settings.window
            nlm.temporalRadius = settings.temporalRadius
            nlm.neighbours = settings.neighbours
            nlm.queryStride = settings.queryStride
        }
        let noisy = try Tensor(shape: heldOutNoisy.shape, scalars: heldOutNoisy.scalars.map { $0 * 255 }).to(device)
        let denoised = try nlm(noisy).to(.cpu)
        return unitPSNR(try Tensor(shape: denoised.shape, scalars: denoised.scalars.map { $0 / 255 }), heldOutClean)
    }

    /// PSNR of the noisy held-out half.
    func noisyHeldOutPSNR() -> Double { unitPSNR(heldOutNoisy, heldOutClean) }
}

/// Peak signal-to-noise ratio on the 0–1 scale.
func unitPSNR(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Double {
    psnr(a, b) - 20 * log10(255)
}
