import PackagePlugin

/// Embeds the kernel parameter header (`Sources/CDNLSKernels/include/dnls_kernels.h`) in the
/// target as `CUDAKernelSource.parameters`, so that NVRTC compiles the same declarations that
/// Swift imports from the CDNLSKernels module.
@main
struct EmbedKernelHeader: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let header = context.package.directoryURL.appending(components: "Sources", "CDNLSKernels", "include", "dnls_kernels.h")
        let output = context.pluginWorkDirectoryURL.appending(component: "CUDAKernelParameters.swift")
        return [.buildCommand(
            displayName: "Embedding the CUDA kernel parameter header",
            executable: try context.tool(named: "EmbedText").url,
            arguments: [header.path(percentEncoded: false), output.path(percentEncoded: false), "CUDAKernelSource", "parameters"],
            inputFiles: [header],
            outputFiles: [output]
        )]
    }
}
