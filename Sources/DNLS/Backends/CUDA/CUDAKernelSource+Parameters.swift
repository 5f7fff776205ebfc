internal import CDNLSKernels

extension CUDAKernelSource {
    /// The kernels' parameter structs: the text of `dnls_kernels.h`, embedded by the C compiler
    /// from the header that Swift imports as the CDNLSKernels module, so both sides of a launch
    /// read one declaration.
    static let parameters = String(cString: dnls_kernels_header_text())

    /// The rules the kernels share with the CPU backends (grid numbering, the flow hop, the
    /// ranking, candidate numbers): the text of `dnls_rules.h`, which the CPU backends call
    /// through the same module.
    static let rules = String(cString: dnls_rules_header_text())

    /// What every kernel module starts with: the parameter structs, then the shared rules.
    static var headers: String { parameters + rules }
}
