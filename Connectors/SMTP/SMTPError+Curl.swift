import CCurl

extension SMTPError {
    /// Classifies a failed `curl_easy_perform`: an SMTP reply of 400 or more decides first (its
    /// class says transient or permanent), then the curl code. Only curl's static description of the
    /// code is used, never its error buffer (which may name hosts or users).
    static func classify(_ result: CURLcode, replyCode: Int, stage: String?, replyText: String?) -> SMTPError {
        if (400..<600).contains(replyCode), result != CURLE_USE_SSL_FAILED || replyCode >= 500 {
            return .reply(replyCode, stage: stage, text: replyText)
        }
        let description = String(cString: curl_easy_strerror(result))
        let detail = "\(description) (curl \(result.rawValue))"
        switch result {
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled
        case CURLE_USE_SSL_FAILED:
            return SMTPError(
                code: "smtp.starttls_unavailable",
                message: "the SMTP server does not offer STARTTLS, which `starttls: required` demands: \(detail)",
                isTransient: false)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE:
            return SMTPError(
                code: "smtp.tls_verification", message: "the SMTP server's certificate was not accepted: \(detail)",
                isTransient: false)
        case CURLE_LOGIN_DENIED:
            return SMTPError(
                code: "smtp.auth_rejected", message: "the SMTP login failed: \(detail)", isTransient: false)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN, CURLE_UNKNOWN_OPTION,
            CURLE_BAD_FUNCTION_ARGUMENT, CURLE_FUNCTION_NOT_FOUND:
            return SMTPError(
                code: "smtp.setup", message: "libcurl cannot send with these settings: \(detail)", isTransient: false)
        case CURLE_OPERATION_TIMEDOUT:
            return SMTPError(code: "smtp.timeout", message: "the SMTP exchange timed out: \(detail)", isTransient: true)
        default:
            return SMTPError(code: "smtp.connection", message: "the SMTP exchange failed: \(detail)", isTransient: true)
        }
    }
}
