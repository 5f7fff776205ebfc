import DNLS

// For each path: "ACCEPT <dtype> <shape>" or "REFUSE <reason>", one line each (no newlines in
// reasons), so that numpy_differential.py can compare DNLS's reader with np.load.
for path in CommandLine.arguments.dropFirst() {
    do {
        let array = try NPY.read(path)
        print("ACCEPT \(array.dtype) \(array.shape)")
    } catch {
        // One line: control characters (which a reason may quote) as "?".
        let text = String(String.UnicodeScalarView("\(error)".unicodeScalars.map { $0.value < 0x20 || $0.value == 0x85 || $0.value == 0x2028 || $0.value == 0x2029 ? "?" : $0 }))
        print("REFUSE \(text)")
    }
}
