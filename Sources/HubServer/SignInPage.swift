import Foundation
import Hummingbird
import NIOCore

/// The sign-in page: one token field, no data, no script; Korean or English.
enum SignInPage {
    static func form(_ status: HTTPResponse.Status, _ language: Hub.Language, next: String, failed: Bool) -> Response {
        let en = language == .en
        let title = en ? "Sign in to Lethe" : "Lethe 로그인"
        let error =
            failed
            ? #"<p role="alert" style="color: #8a1c1c"><strong>\#(en ? "Sign-in failed. Check the token and try again." : "로그인하지 못했습니다. 토큰을 확인하고 다시 시도해 주세요.")</strong></p>"#
            : ""
        let html = """
            <!doctype html>
            <html lang="\(en ? "en" : "ko")"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>\(title)</title></head>
            <body style="font-family: sans-serif; max-width: 28em; margin: 3em auto; padding: 0 1em; line-height: 1.6; color: #1a1a1a">
            <h1 style="font-size: 1.4em">\(title)</h1>
            \(error)
            <form method="post" action="/signin">
            <input type="hidden" name="next" value="\(escape(next))">
            <p><label for="token">\(en ? "Operator token" : "운영자 토큰")</label><br>
            <input id="token" name="token" type="password" autocomplete="current-password" required style="width: 100%; font-size: 1em; padding: .4em"></p>
            <p><button type="submit" style="font-size: 1em; padding: .5em 1.5em">\(en ? "Sign in" : "로그인")</button></p>
            </form>
            <p><a href="/signin?lang=\(en ? "ko" : "en")">\(en ? "한국어" : "English")</a></p>
            </body></html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
