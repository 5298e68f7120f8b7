import Foundation
import PrivateFiles
import RetentionCore

/// Turns a report's HTML into PDF with WeasyPrint (Debian package `weasyprint`), found on the
/// command's PATH when it runs. Without it the command stops with a usage error naming the
/// package: there is no fallback to another format.
struct PDFRenderer {
    struct Missing: LetheError {
        var code: String { "report.pdf_renderer_missing" }
        var category: ErrorCategory { .config }
        var message: String {
            "--format pdf needs WeasyPrint, which is not on PATH: install the Debian package `weasyprint` "
                + "(sudo apt-get install weasyprint), or use --format html and print that"
        }
    }

    struct Failed: LetheError {
        var status: Int32
        var output: String
        var code: String { "report.pdf_failed" }
        var category: ErrorCategory { .permanent }
        var message: String { "weasyprint failed (exit \(status)): \(output)" }
    }

    static let program = "weasyprint"

    let executable: URL

    /// The first `weasyprint` that is an executable file in `PATH`.
    init(path: String?) throws(Missing) {
        for folder in (path ?? "").split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(Self.program)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                executable = candidate
                return
            }
        }
        throw Missing()
    }

    /// Whether fontconfig knows a font with Korean glyphs (nil: `fc-list` is not on PATH). Without
    /// one WeasyPrint draws the Korean headings as empty boxes.
    static func hasKoreanFont(path: String?) -> Bool? {
        guard let folder = (path ?? "").split(separator: ":").first(where: {
            FileManager.default.isExecutableFile(atPath: "\($0)/fc-list")
        }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(folder)/fc-list")
        process.arguments = [":lang=ko", "family"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let listed = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return !listed.allSatisfy { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: " ") }
    }

    static let koreanFontWarning =
        "warning: no font with Korean glyphs is installed, so the PDF shows the Korean text as empty boxes: "
        + "install the Debian package fonts-nanum (or fonts-noto-cjk)"

    /// Renders in a private temporary folder removed afterwards; returns the PDF's bytes.
    func render(html: String, environment: [String: String]) throws -> Data {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-report-\(UUID().uuidString)")
        try PrivateFiles.makeFolder(folder.path)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("report.html")
        let output = folder.appendingPathComponent("report.pdf")
        try Data(html.utf8).write(to: input)
        let process = Process()
        process.executableURL = executable
        process.arguments = [input.path, output.path]
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let messages = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let pdf = try? Data(contentsOf: output), pdf.starts(with: Data("%PDF".utf8)) else {
            let text = String(decoding: messages.suffix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failed(status: process.terminationStatus, output: text.isEmpty ? "no PDF written" : text)
        }
        return pdf
    }
}
