import CCUDA

/// The driver entry points DNLS calls, as a table of C function pointers.
///
/// ``load(from:)`` fills it from `libcuda.so.1`; tests fill it with fakes to exercise the error
/// paths on machines without a GPU.
package struct DriverFunctions: @unchecked Sendable {
    /// The driver entry point `cuInit`.
    package var cuInit: PFN_cuInit
    /// The driver entry point `cuDriverGetVersion`.
    package var cuDriverGetVersion: PFN_cuDriverGetVersion
    /// The driver entry point `cuDeviceGetCount`.
    package var cuDeviceGetCount: PFN_cuDeviceGetCount
    /// The driver entry point `cuDeviceGet`.
    package var cuDeviceGet: PFN_cuDeviceGet
    /// The driver entry point `cuDeviceGetName`.
    package var cuDeviceGetName: PFN_cuDeviceGetName
    /// The driver entry point `cuDeviceGetAttribute`.
    package var cuDeviceGetAttribute: PFN_cuDeviceGetAttribute
    /// The driver entry point `cuDeviceTotalMem`.
    package var cuDeviceTotalMem: PFN_cuDeviceTotalMem
    /// The driver entry point `cuDevicePrimaryCtxRetain`.
    package var cuDevicePrimaryCtxRetain: PFN_cuDevicePrimaryCtxRetain
    /// The driver entry point `cuDevicePrimaryCtxRelease`.
    package var cuDevicePrimaryCtxRelease: PFN_cuDevicePrimaryCtxRelease
    /// The driver entry point `cuCtxSetCurrent`.
    package var cuCtxSetCurrent: PFN_cuCtxSetCurrent
    /// The driver entry point `cuCtxSynchronize`.
    package var cuCtxSynchronize: PFN_cuCtxSynchronize
    /// The driver entry point `cuMemGetInfo`.
    package var cuMemGetInfo: PFN_cuMemGetInfo
    /// The driver entry point `cuMemAlloc`.
    package var cuMemAlloc: PFN_cuMemAlloc
    /// The driver entry point `cuMemFree`.
    package var cuMemFree: PFN_cuMemFree
    /// The driver entry point `cuMemcpyHtoDAsync`.
    package var cuMemcpyHtoDAsync: PFN_cuMemcpyHtoDAsync
    /// The driver entry point `cuMemcpyDtoHAsync`.
    package var cuMemcpyDtoHAsync: PFN_cuMemcpyDtoHAsync
    /// The driver entry point `cuMemcpyDtoDAsync`.
    package var cuMemcpyDtoDAsync: PFN_cuMemcpyDtoDAsync
    /// The driver entry point `cuMemsetD32Async`.
    package var cuMemsetD32Async: PFN_cuMemsetD32Async
    /// The driver entry point `cuModuleLoadData`.
    package var cuModuleLoadData: PFN_cuModuleLoadData
    /// The driver entry point `cuModuleUnload`.
    package var cuModuleUnload: PFN_cuModuleUnload
    /// The driver entry point `cuModuleGetFunction`.
    package var cuModuleGetFunction: PFN_cuModuleGetFunction
    /// The driver entry point `cuFuncSetAttribute`.
    package var cuFuncSetAttribute: PFN_cuFuncSetAttribute
    /// The driver entry point `cuLaunchKernel`.
    package var cuLaunchKernel: PFN_cuLaunchKernel
    /// The driver entry point `cuStreamCreate`.
    package var cuStreamCreate: PFN_cuStreamCreate
    /// The driver entry point `cuStreamDestroy`.
    package var cuStreamDestroy: PFN_cuStreamDestroy
    /// The driver entry point `cuStreamSynchronize`.
    package var cuStreamSynchronize: PFN_cuStreamSynchronize
    /// The driver entry point `cuStreamWaitEvent`.
    package var cuStreamWaitEvent: PFN_cuStreamWaitEvent
    /// The driver entry point `cuEventCreate`.
    package var cuEventCreate: PFN_cuEventCreate
    /// The driver entry point `cuEventDestroy`.
    package var cuEventDestroy: PFN_cuEventDestroy
    /// The driver entry point `cuEventRecord`.
    package var cuEventRecord: PFN_cuEventRecord
    /// The driver entry point `cuEventSynchronize`.
    package var cuEventSynchronize: PFN_cuEventSynchronize
    /// The driver entry point `cuEventQuery`.
    package var cuEventQuery: PFN_cuEventQuery
    /// The driver entry point `cuEventElapsedTime`.
    package var cuEventElapsedTime: PFN_cuEventElapsedTime
    /// The driver entry point `cuGetErrorName`.
    package var cuGetErrorName: PFN_cuGetErrorName
    /// The driver entry point `cuGetErrorString`.
    package var cuGetErrorString: PFN_cuGetErrorString
    /// The driver entry point `cuMemFreeAsync`, or `nil` when the driver lacks it.
    package var cuMemFreeAsync: PFN_cuMemFreeAsync? = nil
    /// The driver entry point `cuMemAllocFromPoolAsync`, or `nil` when the driver lacks it.
    package var cuMemAllocFromPoolAsync: PFN_cuMemAllocFromPoolAsync? = nil
    /// The driver entry point `cuMemPoolCreate`, or `nil` when the driver lacks it.
    package var cuMemPoolCreate: PFN_cuMemPoolCreate? = nil
    /// The driver entry point `cuMemPoolDestroy`, or `nil` when the driver lacks it.
    package var cuMemPoolDestroy: PFN_cuMemPoolDestroy? = nil
    /// The driver entry point `cuMemPoolSetAttribute`, or `nil` when the driver lacks it.
    package var cuMemPoolSetAttribute: PFN_cuMemPoolSetAttribute? = nil
    /// The driver entry point `cuMemPoolGetAttribute`, or `nil` when the driver lacks it.
    package var cuMemPoolGetAttribute: PFN_cuMemPoolGetAttribute? = nil
    /// The driver entry point `cuStreamIsCapturing`, or `nil` when the driver lacks it.
    package var cuStreamIsCapturing: PFN_cuStreamIsCapturing? = nil

    /// Whether every entry point of stream-ordered allocation from a pool of DNLS's own is present.
    package var hasMemoryPools: Bool {
        cuMemFreeAsync != nil && cuMemAllocFromPoolAsync != nil && cuMemPoolCreate != nil && cuMemPoolDestroy != nil
            && cuMemPoolSetAttribute != nil && cuMemPoolGetAttribute != nil
    }

    /// Places `libcuda.so.1` is looked for, in order: the loader's search path, then the usual
    /// driver folders.
    package static let searchPaths = [
        "libcuda.so.1",
        "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
        "/usr/lib64/libcuda.so.1",
        "/usr/local/nvidia/lib64/libcuda.so.1",
        "/usr/lib/wsl/lib/libcuda.so.1",
    ]

    /// Opens the driver library and resolves every entry point.
    package static func load() throws(CUDAError) -> DriverFunctions {
        try load(from: DynamicLibrary.open("the CUDA driver (libcuda.so.1)", candidates: searchPaths))
    }

    static func load(from lib: DynamicLibrary) throws(CUDAError) -> DriverFunctions {
        DriverFunctions(
            cuInit: try lib.symbol("cuInit", as: PFN_cuInit.self),
            cuDriverGetVersion: try lib.symbol("cuDriverGetVersion", as: PFN_cuDriverGetVersion.self),
            cuDeviceGetCount: try lib.symbol("cuDeviceGetCount", as: PFN_cuDeviceGetCount.self),
            cuDeviceGet: try lib.symbol("cuDeviceGet", as: PFN_cuDeviceGet.self),
            cuDeviceGetName: try lib.symbol("cuDeviceGetName", as: PFN_cuDeviceGetName.self),
            cuDeviceGetAttribute: try lib.symbol("cuDeviceGetAttribute", as: PFN_cuDeviceGetAttribute.self),
            cuDeviceTotalMem: try lib.symbol("cuDeviceTotalMem_v2", as: PFN_cuDeviceTotalMem.self),
            cuDevicePrimaryCtxRetain: try lib.symbol("cuDevicePrimaryCtxRetain", as: PFN_cuDevicePrimaryCtxRetain.self),
            cuDevicePrimaryCtxRelease: try lib.symbol("cuDevicePrimaryCtxRelease_v2", as: PFN_cuDevicePrimaryCtxRelease.self),
            cuCtxSetCurrent: try lib.symbol("cuCtxSetCurrent", as: PFN_cuCtxSetCurrent.self),
            cuCtxSynchronize: try lib.symbol("cuCtxSynchronize", as: PFN_cuCtxSynchronize.self),
            cuMemGetInfo: try lib.symbol("cuMemGetInfo_v2", as: PFN_cuMemGetInfo.self),
            cuMemAlloc: try lib.symbol("cuMemAlloc_v2", as: PFN_cuMemAlloc.self),
            cuMemFree: try lib.symbol("cuMemFree_v2", as: PFN_cuMemFree.self),
            cuMemcpyHtoDAsync: try lib.symbol("cuMemcpyHtoDAsync_v2", as: PFN_cuMemcpyHtoDAsync.self),
            cuMemcpyDtoHAsync: try lib.symbol("cuMemcpyDtoHAsync_v2", as: PFN_cuMemcpyDtoHAsync.self),
            cuMemcpyDtoDAsync: try lib.symbol("cuMemcpyDtoDAsync_v2", as: PFN_cuMemcpyDtoDAsync.self),
            cuMemsetD32Async: try lib.symbol("cuMemsetD32Async", as: PFN_cuMemsetD32Async.self),
            cuModuleLoadData: try lib.symbol("cuModuleLoadData", as: PFN_cuModuleLoadData.self),
            cuModuleUnload: try lib.symbol("cuModuleUnload", as: PFN_cuModuleUnload.self),
            cuModuleGetFunction: try lib.symbol("cuModuleGetFunction", as: PFN_cuModuleGetFunction.self),
            cuFuncSetAttribute: try lib.symbol("cuFuncSetAttribute", as: PFN_cuFuncSetAttribute.self),
            cuLaunchKernel: try lib.symbol("cuLaunchKernel", as: PFN_cuLaunchKernel.self),
            cuStreamCreate: try lib.symbol("cuStreamCreate", as: PFN_cuStreamCreate.self),
            cuStreamDestroy: try lib.symbol("cuStreamDestroy_v2", as: PFN_cuStreamDestroy.self),
            cuStreamSynchronize: try lib.symbol("cuStreamSynchronize", as: PFN_cuStreamSynchronize.self),
            cuStreamWaitEvent: try lib.symbol("cuStreamWaitEvent", as: PFN_cuStreamWaitEvent.self),
            cuEventCreate: try lib.symbol("cuEventCreate", as: PFN_cuEventCreate.self),
            cuEventDestroy: try lib.symbol("cuEventDestroy_v2", as: PFN_cuEventDestroy.self),
            cuEventRecord: try lib.symbol("cuEventRecord", as: PFN_cuEventRecord.self),
            cuEventSynchronize: try lib.symbol("cuEventSynchronize", as: PFN_cuEventSynchronize.self),
            cuEventQuery: try lib.symbol("cuEventQuery", as: PFN_cuEventQuery.self),
            cuEventElapsedTime: try lib.symbol("cuEventElapsedTime", as: PFN_cuEventElapsedTime.self),
            cuGetErrorName: try lib.symbol("cuGetErrorName", as: PFN_cuGetErrorName.self),
            cuGetErrorString: try lib.symbol("cuGetErrorString", as: PFN_cuGetErrorString.self),
            // Optional: without them buffers fall back to cuMemAlloc/cuMemFree.
            cuMemFreeAsync: lib.optionalSymbol("cuMemFreeAsync", as: PFN_cuMemFreeAsync.self),
            cuMemAllocFromPoolAsync: lib.optionalSymbol("cuMemAllocFromPoolAsync", as: PFN_cuMemAllocFromPoolAsync.self),
            cuMemPoolCreate: lib.optionalSymbol("cuMemPoolCreate", as: PFN_cuMemPoolCreate.self),
            cuMemPoolDestroy: lib.optionalSymbol("cuMemPoolDestroy", as: PFN_cuMemPoolDestroy.self),
            cuMemPoolSetAttribute: lib.optionalSymbol("cuMemPoolSetAttribute", as: PFN_cuMemPoolSetAttribute.self),
            cuMemPoolGetAttribute: lib.optionalSymbol("cuMemPoolGetAttribute", as: PFN_cuMemPoolGetAttribute.self),
            cuStreamIsCapturing: lib.optionalSymbol("cuStreamIsCapturing", as: PFN_cuStreamIsCapturing.self))
    }

    /// Turns a driver result into a typed error carrying the driver's name and message for it.
    package func check(_ result: CUresult, _ call: @autoclosure () -> String) throws(CUDAError) {
        guard result != 0 else { return }
        var name: UnsafePointer<CChar>? = nil
        var message: UnsafePointer<CChar>? = nil
        _ = cuGetErrorName(result, &name)
        _ = cuGetErrorString(result, &message)
        throw .driver(call: call(), code: result, name: name.map { String(cString: $0) } ?? "CUDA_ERROR_\(result)",
                      message: message.map { String(cString: $0) } ?? "unknown error")
    }
}
