/// Plain-text tables and number formatting without Foundation.

/// `x` with exactly `digits` decimals ("12.345"), "inf"/"nan" for non-finite values.
func fixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (Swift.abs(x) * scale).rounded()
    guard scaled < 9e18 else { return x.description }
    let n = UInt64(scaled), unit = UInt64(scale)
    var text = String(n / unit)
    if digits > 0 {
        let fraction = String(n % unit)
        text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return (x < 0 && n != 0 ? "-" : "") + text
}

/// About four significant digits for times and rates: `1234.5`, `123.45`, `12.345`, `1.2345`.
func readable(_ x: Double) -> String {
    let magnitude = Swift.abs(x)
    if magnitude >= 1000 { return fixed(x, 1) }
    if magnitude >= 100 { return fixed(x, 2) }
    if magnitude >= 10 { return fixed(x, 3) }
    return fixed(x, 4)
}

/// A column of a text table.
struct Column {
    var title: String
    var rightAligned = false
}

/// Renders `rows` under `columns`, padded to the widest cell, with a rule under the header.
func renderTable(_ columns: [Column], _ rows: [[String]]) -> String {
    var widths = columns.map(\.title.count)
    for row in rows {
        for (i, cell) in row.enumerated() { widths[i] = Swift.max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        var parts: [String] = []
        for (i, cell) in cells.enumerated() {
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            parts.append(columns[i].rightAligned ? pad + cell : cell + pad)
        }
        var text = parts.joined(separator: "  ")
        while text.last == " " { text.removeLast() }
        return text
    }
    var lines = [line(columns.map(\.title))]
    lines.append(line(widths.map { String(repeating: "-", count: $0) }))
    lines += rows.map(line)
    return lines.joined(separator: "\n")
}
