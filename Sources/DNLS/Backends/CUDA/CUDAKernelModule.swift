/// One module NVRTC compiles: the shared helpers, the families its kernels build on, then one
/// family's kernels (``CUDAKernelSource``).
///
/// A launch compiles only the module of its kernel's family, once per set of specialisation
/// constants. That takes about a tenth of the time the whole source takes (0.3–1.5 s against 4–6 s
/// per constant set with NVRTC 13.0), and the machine code of every kernel is the same either way:
/// compiled for sm_90 both ways, each kernel's SASS differs only in label and helper numbering
/// (`bench/kernel_report.py`, 2026-12-01).
struct CUDAKernelModule: Sendable {
    /// The family's name: the module cache's name for it, in logs and errors.
    let name: String
    /// The CUDA C++ text.
    let source: String
    /// The entry points the family declares, in order.
    let kernels: [String]

    init(name: String, family: String, after dependencies: [String] = []) {
        self.name = name
        source = CUDAKernelSource.headers + CUDAKernelSource.common + dependencies.joined() + family
        kernels = Self.entryPoints(in: family)
    }

    /// Every module, one per family. The search backward and the deposits fold through the
    /// anchor tables, so they build on the anchors family.
    static let all: [CUDAKernelModule] = [
        CUDAKernelModule(name: "search", family: CUDAKernelSource.search),
        CUDAKernelModule(name: "anchors", family: CUDAKernelSource.anchors),
        CUDAKernelModule(name: "searchBackward", family: CUDAKernelSource.searchBackward, after: [CUDAKernelSource.anchors]),
        CUDAKernelModule(name: "patches", family: CUDAKernelSource.patches),
        CUDAKernelModule(name: "deposit", family: CUDAKernelSource.deposit, after: [CUDAKernelSource.anchors]),
        CUDAKernelModule(name: "checks", family: CUDAKernelSource.checks + CUDAKernelSource.failureRecord),
        CUDAKernelModule(name: "tensorMath", family: CUDAKernelSource.tensorMath),
        CUDAKernelModule(name: "denoise", family: CUDAKernelSource.denoise),
        CUDAKernelModule(name: "flow", family: CUDAKernelSource.flow),
    ]

    private static let byKernel: [String: CUDAKernelModule] = {
        var table: [String: CUDAKernelModule] = [:]
        for module in all {
            for kernel in module.kernels { table[kernel] = module }
        }
        return table
    }()

    /// The module whose family declares `kernel`, or nil when none does.
    static func declaring(_ kernel: String) -> CUDAKernelModule? { byKernel[kernel] }

    /// The names of the entry points declared in `text`
    /// (`__global__ void [__launch_bounds__(…)] name(`), in order.
    static func entryPoints(in text: String) -> [String] {
        var names: [String] = []
        for piece in text.split(separator: "__global__ void ").dropFirst() {
            var rest = piece[...]
            if rest.hasPrefix("__launch_bounds__("), let close = rest.firstIndex(of: ")") {
                rest = rest[rest.index(after: close)...].drop { $0 == " " }
            }
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty, rest.dropFirst(name.count).first == "(" { names.append(String(name)) }
        }
        return names
    }
}
