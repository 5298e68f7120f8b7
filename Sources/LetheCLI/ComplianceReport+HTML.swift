import Foundation

extension ComplianceReport {
    /// A self-contained page (inline CSS, no scripts, images or links to fetch) laid out for A4, the
    /// input of the PDF renderer too. Every value is escaped.
    func html() -> String {
        let format = formatter()
        var body = "<h1>\(Self.escape(Heading.title))</h1>\n"
        body += "<table class=\"meta\">"
        body += "<tr><th>대상 월 (month)</th><td>\(Self.escape(month))</td></tr>"
        body += "<tr><th>기간 (period)</th><td>\(Self.escape(period))</td></tr>"
        body += "<tr><th>작성 시각 (generated at)</th><td>\(Self.escape(format.string(from: generatedAt)))</td></tr>"
        body += "</table>\n"
        body += "<p class=\"note\">개인정보는 포함되지 않으며 레코드는 가명 참조로만 표시됩니다. "
        body += "(No personal data: records appear only by their pseudonymous reference, as in the audit log.)</p>\n"
        body += section(Heading.summary, columns: ["항목 (item)", "건수 (count)"], rows: summaryLines.map { [$0.label, String($0.count)] }, numeric: [1])
        body += section(Heading.actions, columns: Heading.actionColumns, rows: actionRows(), numeric: [4])
        body += section(Heading.holds, columns: Heading.holdColumns, rows: holdRows(format))
        body += section(Heading.approvals, columns: Heading.approvalColumns, rows: approvalRows(format), numeric: [5, 6])
        // The wide tables last, on landscape pages.
        body += section(Heading.overdue, columns: Heading.overdueColumns, rows: overdueRows(format), numeric: [8], wide: true)
        body += "<p class=\"note\">개인정보 파기 관리대장 항목: 파기 일시, 파기 대상 개인정보 항목, 파기 사유(보유 목적·법적 근거·보유기간 만료), "
        body += "파기 방법, 처리자/승인자. (Columns of the PIPA destruction register: when, which data, why, how, by whom.)</p>\n"
        body += section(Heading.register, columns: DestructionRegister.header, rows: registerRows(format), wide: true)
        return """
            <!DOCTYPE html>
            <html lang="ko">
            <head>
            <meta charset="utf-8">
            <title>\(Self.escape("\(Heading.title) \(month)"))</title>
            <style>
            \(Self.style)
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    /// The register's rows in the order of `DestructionRegister.header`.
    private func registerRows(_ format: DateFormatter) -> [[String]] {
        register.map {
            [format.string(from: $0.destroyedAt), $0.connector, $0.reference, $0.data, $0.rules, $0.legalBasis, $0.method,
             $0.operatorName, $0.expiry, $0.operation, $0.batch, $0.deleteMode, $0.restorableUntil, $0.reappeared]
        }
    }

    private func section(_ title: String, columns: [String], rows: [[String]], numeric: Set<Int> = [], wide: Bool = false) -> String {
        var html = "<section\(wide ? " class=\"wide\"" : "")>\n<h2>\(Self.escape(title))</h2>\n"
        guard !rows.isEmpty else {
            return html + "<p class=\"empty\">해당 없음 (none in this month)</p>\n</section>\n"
        }
        html += "<table>\n<thead><tr>" + columns.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows {
            html += "<tr>"
            for (index, value) in row.enumerated() {
                html += numeric.contains(index) ? "<td class=\"n\">\(Self.escape(value))</td>" : "<td>\(Self.escape(value))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody>\n</table>\n</section>\n"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static let style = """
        @page { size: A4; margin: 15mm 12mm; }
        @page wide { size: A4 landscape; margin: 12mm 10mm; }
        body { font-family: "Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Nanum Gothic", "Malgun Gothic", "Apple SD Gothic Neo", sans-serif;
               font-size: 9.5pt; color: #000; background: #fff; margin: 0; }
        h1 { font-size: 15pt; margin: 0 0 6pt; }
        h2 { font-size: 11.5pt; margin: 14pt 0 4pt; border-bottom: 1px solid #000; page-break-after: avoid; }
        table { border-collapse: collapse; width: 100%; margin-bottom: 6pt; }
        th, td { border: 1px solid #777; padding: 2pt 4pt; text-align: left; vertical-align: top;
                 overflow-wrap: anywhere; }
        th { background: #eee; font-weight: 600; }
        thead { display: table-header-group; }
        tr { page-break-inside: avoid; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; }
        table.meta { width: auto; }
        table.meta th { width: 11em; }
        .note, .empty { color: #333; font-size: 8.5pt; }
        section.wide { page: wide; page-break-before: always; }
        section.wide table { font-size: 7pt; }
        @media screen { body { margin: 16px auto; max-width: 1200px; } }
        @media print { th { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
        """
}
