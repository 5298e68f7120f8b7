import Foundation

extension ComplianceReport {
    /// Section titles and column headings, Korean first with the English in brackets, shared by the
    /// CSV and the HTML.
    enum Heading {
        static let title = "월간 개인정보 파기 보고서 (monthly personal-data retention report)"
        static let summary = "요약 (summary)"
        static let actions = "처리 내역: 커넥터·보유 목적·법적 근거별 (actions by connector, purpose and legal basis)"
        static let overdue = "기한 경과 파기와 처리 결과 (overdue destructions and how they were resolved)"
        static let holds = "법적 보존 조치 (legal holds placed and lifted)"
        static let approvals = "파기 승인 (approvals and approvers)"
        static let register = "파기 관리대장 (destruction register)"

        static let actionColumns = ["커넥터(connector)", "처리(action)", "보유 목적(purpose)", "법적 근거(legal basis)", "건수(count)"]
        static let overdueColumns = [
            "커넥터(connector)", "대상 참조(reference)", "작업 ID(operation)", "처리(action)", "보유 목적(purpose)",
            "보유기간 만료(expiry)", "파기 기한(due)", "파기 일시(destroyed at)", "경과 일수(days late)", "상태(status)",
            "처리 결과(resolution)",
        ]
        static let holdColumns = ["일시(at)", "커넥터(connector)", "대상 참조(reference)", "조치(action)", "처리자(operator)", "사유(reason)"]
        static let approvalColumns = [
            "승인 배치(batch)", "커넥터(connector)", "요청 일시(requested at)", "승인 일시(approved at)", "승인자(approver)",
            "작업 수(operations)", "소스에서 사라진 레코드(missing records)",
        ]
    }

    /// The summary lines: a label (Korean and, in brackets, the JSON key) and a count.
    var summaryLines: [(label: String, count: Int)] {
        [
            ("파기: 레코드 삭제 (destroyed)", summary.destroyed),
            ("선택 항목 삭제 (erased)", summary.erased),
            ("보유기간 연장 (extended)", summary.extended),
            ("파기 사전 통지 (notified)", summary.notified),
            ("분리 보관 (archived)", summary.archived),
            ("분리 보관본 파기 (archivePurged)", summary.archivePurged),
            ("실패 보관 (deadLettered)", summary.deadLettered),
            ("기한 경과 후 파기 (overdueLate)", summary.overdueLate),
            ("월말 기준 기한 경과 미파기 (overduePending)", summary.overduePending),
            ("법적 보존 설정 (holdsPlaced)", summary.holdsPlaced),
            ("법적 보존 해제 (holdsLifted)", summary.holdsLifted),
            ("파기 승인 (approvalsGranted)", summary.approvalsGranted),
        ]
    }

    static func actionText(_ action: String) -> String {
        switch action {
        case "delete": "레코드 삭제 (delete)"
        case "erase-fields": "선택 항목 삭제 (erase-fields)"
        case "extend": "보유기간 연장 (extend)"
        case "notify": "사전 통지 (notify)"
        case "archive": "분리 보관 (archive)"
        case "archive-purge": "분리 보관본 파기 (archive-purge)"
        default:
            if action.hasPrefix("dead:") {
                "실패 보관 (dead-lettered " + action.dropFirst(5).split(separator: ":", maxSplits: 1).joined(separator: ", ") + ")"
            } else {
                action
            }
        }
    }

    func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: zone) ?? .gmt
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }

    /// Table rows of each section as text, in the columns of `Heading`.
    func actionRows() -> [[String]] {
        actions.map { [$0.connector, Self.actionText($0.action), $0.rules, $0.legalBasis, String($0.count)] }
    }

    func overdueRows(_ format: DateFormatter) -> [[String]] {
        overdue.map {
            [$0.connector, $0.reference, $0.operation, Self.actionText($0.kind), $0.rules == "*" ? "모든 목적 종료 (every purpose ended)" : $0.rules,
             format.string(from: $0.expiry),
             format.string(from: $0.due), $0.destroyedAt.map(format.string) ?? "", String($0.daysLate),
             $0.status == "pending" ? "미파기 (pending)" : "지연 파기 (destroyed late)", $0.resolution]
        }
    }

    func holdRows(_ format: DateFormatter) -> [[String]] {
        holds.map {
            [format.string(from: $0.at), $0.connector, $0.reference, $0.action == "placed" ? "설정 (placed)" : "해제 (lifted)",
             $0.operatorName, $0.reason]
        }
    }

    func approvalRows(_ format: DateFormatter) -> [[String]] {
        approvals.map {
            [$0.batch, $0.connector, format.string(from: $0.requestedAt), $0.approvedAt.map(format.string) ?? "미승인 (not approved)",
             $0.approvedBy ?? "", String($0.operations), String($0.missingRecords)]
        }
    }

    var period: String {
        let format = formatter()
        format.dateFormat = "yyyy-MM-dd HH:mm"
        return "\(format.string(from: start)) ~ \(format.string(from: end)) (\(zone))"
    }

    /// One file of titled sections for Korean Excel (UTF-8 with BOM, CRLF, cells escaped as in the
    /// register), ending with the month's destruction register in the register's own columns.
    func csv() -> Data {
        let format = formatter()
        var lines: [[String]] = [
            [Heading.title, month], ["기간(period)", period], ["작성 시각(generated at)", format.string(from: generatedAt)], [],
            ["[\(Heading.summary)]"], ["항목(item)", "건수(count)"],
        ]
        lines += summaryLines.map { [$0.label, String($0.count)] }
        lines += [[], ["[\(Heading.actions)]"], Heading.actionColumns] + actionRows()
        lines += [[], ["[\(Heading.overdue)]"], Heading.overdueColumns] + overdueRows(format)
        lines += [[], ["[\(Heading.holds)]"], Heading.holdColumns] + holdRows(format)
        lines += [[], ["[\(Heading.approvals)]"], Heading.approvalColumns] + approvalRows(format)
        lines += [[], ["[\(Heading.register)]"]]
        let text = lines.map { $0.map(DestructionRegister.cell).joined(separator: ",") + "\r\n" }.joined()
        let register = DestructionRegister(rows: register).csv(zone: TimeZone(identifier: zone) ?? .gmt)
        return Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8) + register.dropFirst(3)
    }
}
