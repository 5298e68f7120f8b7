public import RetentionCore
import Foundation

extension Policy {
    /// The Korean default policy, built in code so tests do not depend on the YAML loader.
    ///
    /// Exactly the kr-pipa rules: `payment` 5 years and `dispute` 3 years from `created_at`;
    /// `marketing` 2 years from the later of `created_at` and `consent_extended_at`, erasing
    /// `interests` (to "") and `marketing_consent` (to "N") at expiry, with an extension notice 30 days
    /// (30 × 24 h) before it when `marketing_consent` reads yes. Zone Asia/Seoul, destruction within
    /// 5 days, action `delete`. `config/policies/kr-pipa.yaml` must load to an equal value.
    public static var krPIPA: Policy {
        Policy(
            name: "kr-pipa",
            zone: TimeZone(identifier: "Asia/Seoul")!,
            destroyWithin: Period(days: 5),
            fields: PolicyFields(),
            purposeSeparator: ";",
            rules: [
                RetentionRule(
                    name: "payment",
                    period: Period(years: 5),
                    basis: ["created_at"],
                    legalBasis: "전자상거래법 시행령 제6조: 대금결제 및 재화 등의 공급에 관한 기록 5년"
                ),
                RetentionRule(
                    name: "dispute",
                    period: Period(years: 3),
                    basis: ["created_at"],
                    legalBasis: "전자상거래법 시행령 제6조: 소비자의 불만 또는 분쟁처리에 관한 기록 3년"
                ),
                RetentionRule(
                    name: "marketing",
                    period: Period(years: 2),
                    basis: ["created_at", "consent_extended_at"],
                    erase: [
                        ErasedField(field: "interests", value: ""),
                        ErasedField(field: "marketing_consent", value: "N"),
                    ],
                    notice: NoticeRule(
                        lead: Period(days: 30),
                        requiresConsentField: "marketing_consent",
                        template: "marketing-extension",
                        extension: Period(years: 2)
                    ),
                    legalBasis: "정보통신망법 제50조 제8항: 광고성 정보 수신동의 2년마다 확인"
                ),
            ],
            action: .delete
        )
    }
}

extension Policy {
    /// This policy with the rule `name` changed by `change` (other rules as they are).
    public func modifying(rule name: String, _ change: (inout RetentionRule) -> Void) -> Policy {
        var policy = self
        policy.rules = policy.rules.map { rule in
            var rule = rule
            if rule.name == name { change(&rule) }
            return rule
        }
        return policy
    }
}
