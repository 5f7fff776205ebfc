internal import CDNLSKernels

extension CUDAKernelSource {
    /// The kernels' parameter structs: the text of `dnls_kernels.h`, embedded by the C compiler
    /// from the header that Swift imports as the CDNLSKernels module, so both sides of a launch
    /// read one declaration.
    static let parameters = String(cString: dnls_kernels_header_text())
}
