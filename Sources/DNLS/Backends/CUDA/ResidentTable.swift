import CUDADriver

/// A small table kept on the device across calls (a geometry block, the failure record), with an
/// event recorded after its upload so that a call on another stream can be ordered after the
/// upload on the device, never by waiting on the host.
struct ResidentTable: @unchecked Sendable {
    let tensor: Tensor<Int32>
    /// Recorded on ``stream`` right after the upload.
    let uploaded: CUDAEvent
    /// The stream the upload was queued on (`nil`: the legacy default stream).
    let stream: CUDAStream?

    /// Uploads `values` on the calling scope's stream and records the event behind it.
    init(uploading values: [Int32], to runtime: CUDARuntime) throws(DNLSError) {
        let device = Device.cuda(runtime.context.ordinal)
        let stream = device.currentStream
        // Kept across calls, so made for real and from DNLS's pool even in a planning run or a
        // caller's workspace.
        tensor = try MemoryScope.outside { () throws(DNLSError) in
            try Tensor<Int32>(uncheckedShape: [values.count], scalars: values).to(device)
        }
        uploaded = try cuda(device) { () throws(CUDAError) in
            let event = try CUDAEvent(context: runtime.context)
            try event.record(on: stream)
            return event
        }
        self.stream = stream
    }

    /// The table, ordered before later work on `stream`: nothing to do on the upload's own stream
    /// or once the upload has completed; otherwise the stream waits for the event on the device.
    /// A stream capturing a CUDA graph may not query the event (the driver refuses it), so the
    /// graph waits for it as an external event instead, which costs a replay nothing once the
    /// upload is done.
    func ready(on stream: CUDAStream?) throws(DNLSError) -> Tensor<Int32> {
        guard stream?.handle != self.stream?.handle else { return tensor }
        try cuda(tensor.device) { () throws(CUDAError) in
            let context = uploaded.context
            if try context.isCapturing(stream) {
                try context.waitInCapture(for: uploaded, on: stream)
            } else if try !uploaded.hasCompleted() {
                try context.wait(for: uploaded, on: stream)
            }
        }
        return tensor
    }
}
