import Mustache

/// The HTML of the dashboard and of the consent pages: swift-mustache templates, kept in the binary
/// (the daemon is installed as one file, so no resource bundle has to travel beside it). Every value is
/// HTML-escaped (`{{name}}`); nothing is inserted unescaped. One inline style sheet, no script, no
/// external asset.
enum PageTemplates {
    /// Every template by name; pages include `head` and `foot` as partials.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates = [
            "head": head, "foot": foot, "overview": overview, "approvals": approvals, "holds": holds, "dead": dead, "audit": audit,
            "quarantine": quarantine, "refusal": refusal, "consent": consent, "csrf": csrf, "whatif": whatIf,
        ]
        for (name, text) in templates {
            // The templates are constants of this file: a parse error is a programming error that
            // every dashboard and consent test shows at once.
            do { try library.register(text, named: name) } catch { preconditionFailure("template \(name): \(error)") }
        }
        return library
    }()

    static func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: name) ?? ""
    }

    /// Readable without script, keyboard-visible focus, WCAG AA contrast, one column on a phone.
    static let css = """
        :root{--fg:#1a1a1a;--muted:#4d4d4d;--bg:#fff;--line:#c9ced6;--accent:#0b57d0;--accent-dark:#0842a0;--warn:#a50e0e;--ok:#146c2e;--soft:#f3f5f8;--head:#16233a}
        *{box-sizing:border-box}
        body{margin:0;font-family:system-ui,-apple-system,"Segoe UI","Noto Sans KR","Apple SD Gothic Neo","Malgun Gothic",sans-serif;color:var(--fg);background:var(--bg);line-height:1.55;font-size:16px}
        a{color:var(--accent-dark)}
        a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #e8a100;outline-offset:2px}
        .skip{position:absolute;left:-9999px;top:0}
        .skip:focus{left:1em;top:.5em;background:#fff;color:var(--fg);padding:.5em 1em;z-index:10}
        header{background:var(--head);color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;gap:.4em 1.5em;align-items:center}
        header a{color:#fff}
        header p{margin:0}
        .brand a{font-weight:700;font-size:1.15em;text-decoration:none}
        .brand span{color:#d5dbe5;font-size:.9em;margin-left:.4em}
        nav{flex:1 1 auto}
        nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2em .4em}
        nav a{display:inline-block;padding:.3em .6em;border-radius:4px;text-decoration:none}
        nav a:hover{text-decoration:underline}
        nav a[aria-current=page]{background:#fff;color:var(--head);font-weight:600}
        .lang a{display:inline-block;padding:.3em .6em;border:1px solid #fff;border-radius:4px;text-decoration:none}
        main{max-width:72em;margin:0 auto;padding:1em 1.2em 2em}
        h1{font-size:1.5em;margin:.4em 0 .6em}
        h2{font-size:1.2em;margin:1.8em 0 .6em;border-bottom:1px solid var(--line);padding-bottom:.2em}
        .scroll{overflow-x:auto;max-width:100%}
        table{border-collapse:collapse;width:100%;font-size:.95em}
        caption{text-align:left;color:var(--muted);font-size:.9em;padding:.2em 0}
        th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid var(--line);vertical-align:top}
        thead th{background:var(--soft)}
        .num{text-align:right;font-variant-numeric:tabular-nums}
        .nowrap{white-space:nowrap}
        .ref{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.88em;overflow-wrap:anywhere}
        .empty{color:var(--muted);font-style:italic}
        .flash{padding:.6em 1em;border-radius:4px;border:1px solid var(--ok);background:#e6f4ea}
        .flash.error{border-color:var(--warn);background:#fce8e6}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5em,1fr));gap:.6em;padding:0;margin:0;list-style:none}
        .cards a{display:block;border:1px solid var(--line);border-radius:6px;padding:.6em .8em;background:var(--soft);text-decoration:none;color:var(--fg);height:100%}
        .cards a:hover{border-color:var(--accent)}
        .cards .n{display:block;font-size:1.7em;font-weight:700;line-height:1.2}
        .cards .alert .n,.bad{color:var(--warn);font-weight:700}
        .good{color:var(--ok)}
        button{font:inherit;padding:.35em .9em;border-radius:4px;border:1px solid var(--accent-dark);background:var(--accent);color:#fff;cursor:pointer;min-height:2.4em}
        button:hover{background:var(--accent-dark)}
        button.secondary{background:#fff;color:var(--accent-dark)}
        button.secondary:hover{background:var(--soft)}
        form.inline{display:inline;margin:0}
        form.reject{margin-top:.5em;display:flex;flex-wrap:wrap;gap:.3em;align-items:center}
        form.reject label{margin:0;font-weight:400;font-size:.9em}
        form.reject input{width:auto;flex:1 1 8em}
        form.box{border:1px solid var(--line);border-radius:6px;padding:.4em 1em 1em;background:var(--soft);max-width:40em}
        label{display:block;font-weight:600;margin-top:.7em}
        .hint{display:block;font-weight:400;color:var(--muted);font-size:.9em}
        input,select,textarea{font:inherit;padding:.4em;border:1px solid #6b6b6b;border-radius:4px;width:100%;background:#fff;color:var(--fg)}
        form.box button{margin-top:1em}
        .chart{overflow-x:auto}
        .chart svg{width:100%;min-width:34em;height:auto;display:block}
        svg text{font-size:13px;fill:#1a1a1a;font-family:inherit}
        svg .bar{fill:var(--accent)}
        svg .axis{stroke:#6b6b6b;stroke-width:1}
        footer{max-width:72em;margin:0 auto 2em;padding:0 1.2em;color:var(--muted)}
        footer p{font-size:.9em}
        @media (max-width:40em){main{padding:.6em .7em 1.5em}th,td{padding:.35em .4em}header{padding:.5em .7em}h1{font-size:1.3em}
        table.stack thead{position:absolute;left:-9999px}
        table.stack tr{display:block;border-bottom:2px solid var(--line);padding:.3em 0}
        table.stack td,table.stack th{display:block;border:none;padding:.15em .2em;text-align:left}
        table.stack td:empty{display:none}
        table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600;font-family:system-ui,sans-serif;font-size:1rem}}
        """

    static let head = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>{{title}} · Lethe</title>
        <style>\(css)</style>
        </head>
        <body>
        <a class="skip" href="#main">{{t.skip}}</a>
        <header>
        <p class="brand"><a href="/">Lethe</a><span>{{t.tagline}}</span></p>
        <nav aria-label="{{t.nav_label}}"><ul>
        {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>
        {{/nav}}</ul></nav>
        <p class="lang"><a href="{{switchHref}}" lang="{{switchLang}}" hreflang="{{switchLang}}">{{switchLabel}}</a></p>
        {{#session}}<form class="inline" method="post" action="/signout">{{> csrf}}<button type="submit" class="secondary">{{t.sign_out}}</button></form>{{/session}}
        </header>
        <main id="main">
        <h1>{{title}}</h1>
        {{#flash}}<p class="flash{{#error}} error{{/error}}" role="{{role}}">{{text}}</p>{{/flash}}

        """

    static let foot = """
        </main>
        <footer><p>{{t.times_in}} {{zone}} · {{t.as_of}} {{generatedAt}} · {{t.signed_in_as}} {{operator}}</p></footer>
        </body>
        </html>

        """

    static let overview = """
        {{> head}}
        <section aria-labelledby="s-summary">
        <h2 id="s-summary">{{t.summary}}</h2>
        <ul class="cards">
        {{#cards}}<li{{#alert}} class="alert"{{/alert}}><a href="{{href}}"><span class="n" data-card="{{key}}">{{count}}</span>{{label}}</a></li>
        {{/cards}}</ul>
        </section>

        <section aria-labelledby="s-records">
        <h2 id="s-records">{{t.records_title}}</h2>
        {{#records.hasRows}}<div class="scroll"><table>
        <caption>{{t.records_caption}}</caption>
        <thead><tr><th scope="col">{{t.state}}</th>{{#records.connectors}}<th scope="col" class="num">{{.}}</th>{{/records.connectors}}<th scope="col" class="num">{{t.total}}</th></tr></thead>
        <tbody>
        {{#records.rows}}<tr><th scope="row">{{label}} <span class="ref">{{state}}</span></th>{{#cells}}<td class="num" data-connector="{{connector}}" data-state="{{state}}">{{count}}</td>{{/cells}}<td class="num">{{total}}</td></tr>
        {{/records.rows}}</tbody>
        </table></div>{{/records.hasRows}}
        {{^records.hasRows}}<p class="empty">{{t.records_empty}}</p>{{/records.hasRows}}
        </section>

        <section aria-labelledby="s-overdue">
        <h2 id="s-overdue">{{t.overdue_title}}</h2>
        {{#overdue.hasRows}}<p>{{#overdue.any}}<span class="bad">{{overdue.summary}}</span>{{/overdue.any}}{{^overdue.any}}<span class="good">{{t.overdue_none}}</span>{{/overdue.any}}</p>
        <div class="scroll"><table>
        <thead><tr><th scope="col">{{t.connector}}</th><th scope="col" class="num">{{t.overdue_count}}</th><th scope="col">{{t.overdue_target}}</th></tr></thead>
        <tbody>
        {{#overdue.rows}}<tr><th scope="row">{{connector}}</th><td class="num{{#late}} bad{{/late}}" data-overdue="{{connector}}">{{count}}</td><td>{{target}}</td></tr>
        {{/overdue.rows}}</tbody>
        </table></div>{{/overdue.hasRows}}
        {{^overdue.hasRows}}<p class="empty">{{t.no_connectors}}</p>{{/overdue.hasRows}}
        </section>

        <section aria-labelledby="s-calendar">
        <h2 id="s-calendar">{{t.calendar_title}}</h2>
        <p>{{t.calendar_help}}</p>
        {{^calendar.any}}<p class="empty">{{t.calendar_empty}}</p>{{/calendar.any}}
        <figure class="chart">
        <svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="cal-title cal-desc" viewBox="0 0 {{calendar.width}} {{calendar.height}}">
        <title id="cal-title">{{t.calendar_title}}</title>
        <desc id="cal-desc">{{calendar.description}}</desc>
        <line class="axis" x1="{{calendar.left}}" y1="{{calendar.baseline}}" x2="{{calendar.right}}" y2="{{calendar.baseline}}"/>
        {{#calendar.bars}}<g><rect class="bar" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" data-week="{{start}}" data-count="{{count}}"><title>{{tooltip}}</title></rect><text x="{{center}}" y="{{countY}}" text-anchor="middle">{{count}}</text><text x="{{center}}" y="{{dateY}}" text-anchor="middle">{{short}}</text></g>
        {{/calendar.bars}}</svg>
        </figure>
        <div class="scroll"><table>
        <caption>{{t.calendar_caption}}</caption>
        <thead><tr><th scope="col">{{t.week}}</th><th scope="col" class="num">{{t.kind_delete}}</th><th scope="col" class="num">{{t.kind_erase}}</th><th scope="col" class="num">{{t.kind_notify}}</th></tr></thead>
        <tbody>
        {{#calendar.bars}}<tr><th scope="row" class="nowrap">{{start}} – {{endShort}}</th><td class="num">{{deletes}}</td><td class="num">{{erasures}}</td><td class="num">{{notices}}</td></tr>
        {{/calendar.bars}}</tbody>
        </table></div>
        </section>
        {{> foot}}
        """

    static let approvals = """
        {{> head}}
        <p>{{t.approvals_help}}</p>
        {{#hasBatches}}<div class="scroll"><table class="stack">
        <thead><tr><th scope="col">{{t.batch}}</th><th scope="col">{{t.connector}}</th><th scope="col">{{t.status}}</th><th scope="col">{{t.created}}</th><th scope="col" class="num">{{t.operations}}</th><th scope="col" class="num">{{t.missing_records}}</th><th scope="col">{{t.decision}}</th></tr></thead>
        <tbody>
        {{#batches}}<tr data-batch="{{id}}"><th scope="row" class="ref">{{id}}</th><td data-label="{{t.connector}}">{{connector}}</td><td data-label="{{t.status}}">{{statusLabel}}</td><td data-label="{{t.created}}">{{created}}</td><td class="num" data-label="{{t.operations}}">{{operations}}</td><td class="num" data-label="{{t.missing_records}}">{{missing}}</td>
        <td>{{#open}}{{#signoffs}}<p>{{signoffs}}</p>{{/signoffs}}<form class="inline" method="post" action="/approvals/{{id}}/approve">{{> csrf}}<button type="submit">{{approveLabel}}</button></form>
        <form class="reject" method="post" action="/approvals/{{id}}/reject">{{> csrf}}<label for="reason-{{id}}">{{t.reject_reason}}</label><input id="reason-{{id}}" name="reason" maxlength="200" required><button type="submit" class="secondary" aria-label="{{rejectLabel}}">{{t.reject}}</button></form>{{/open}}{{^open}}{{decided}}{{/open}}</td></tr>
        {{/batches}}</tbody>
        </table></div>{{/hasBatches}}
        {{^hasBatches}}<p class="empty">{{t.approvals_empty}}</p>{{/hasBatches}}
        {{> foot}}
        """

    static let holds = """
        {{> head}}
        <p>{{t.holds_help}}</p>
        <section aria-labelledby="s-current">
        <h2 id="s-current">{{t.holds_current}}</h2>
        {{#hasHolds}}<div class="scroll"><table class="stack">
        <thead><tr><th scope="col">{{t.connector}}</th><th scope="col">{{t.reference}}</th><th scope="col">{{t.reason}}</th><th scope="col">{{t.by}}</th><th scope="col">{{t.since}}</th><th scope="col">{{t.action}}</th></tr></thead>
        <tbody>
        {{#holds}}<tr><td data-label="{{t.connector}}">{{connector}}</td><td class="ref" data-label="{{t.reference}}">{{reference}}</td><td data-label="{{t.reason}}">{{reason}}</td><td data-label="{{t.by}}">{{by}}</td><td data-label="{{t.since}}">{{since}}</td>
        <td><form class="inline" method="post" action="/holds/lift">{{> csrf}}<input type="hidden" name="connector" value="{{connector}}"><input type="hidden" name="reference" value="{{reference}}"><input type="text" name="reason" required maxlength="500" placeholder="{{t.lift_reason}}" aria-label="{{liftReasonLabel}}"><button type="submit" class="secondary" aria-label="{{liftLabel}}">{{t.lift}}</button></form></td></tr>
        {{/holds}}</tbody>
        </table></div>{{/hasHolds}}
        {{^hasHolds}}<p class="empty">{{t.holds_empty}}</p>{{/hasHolds}}
        </section>
        <section aria-labelledby="s-add">
        <h2 id="s-add">{{t.holds_add}}</h2>
        {{#hasConnectors}}<form class="box" method="post" action="/holds">{{> csrf}}
        <label for="hold-connector">{{t.connector}}</label>
        <select id="hold-connector" name="connector" required>{{#connectors}}<option value="{{.}}">{{.}}</option>{{/connectors}}</select>
        <label for="hold-ids">{{t.record_ids}} <span class="hint">{{t.record_ids_hint}}</span></label>
        <textarea id="hold-ids" name="ids" rows="3" required></textarea>
        <label for="hold-reason">{{t.reason}} <span class="hint">{{t.reason_hint}}</span></label>
        <input id="hold-reason" name="reason" maxlength="200" required>
        <button type="submit">{{t.hold_submit}}</button>
        </form>{{/hasConnectors}}
        {{^hasConnectors}}<p class="empty">{{t.no_connectors}}</p>{{/hasConnectors}}
        </section>
        {{> foot}}
        """

    static let dead = """
        {{> head}}
        <p>{{t.dead_help}}</p>
        {{#hasOperations}}<form method="post" action="/dead/retry">{{> csrf}}<input type="hidden" name="all" value="true"><button type="submit">{{retryAllLabel}}</button></form>
        <div class="scroll"><table class="stack">
        <thead><tr><th scope="col">{{t.connector}}</th><th scope="col">{{t.reference}}</th><th scope="col">{{t.kind}}</th><th scope="col">{{t.rule}}</th><th scope="col" class="num">{{t.attempts}}</th><th scope="col">{{t.last_error}}</th><th scope="col">{{t.created}}</th><th scope="col">{{t.action}}</th></tr></thead>
        <tbody>
        {{#operations}}<tr><td data-label="{{t.connector}}">{{connector}}</td><td class="ref" data-label="{{t.reference}}">{{reference}}</td><td data-label="{{t.kind}}">{{kind}}</td><td data-label="{{t.rule}}">{{rule}}</td><td class="num" data-label="{{t.attempts}}">{{attempts}}</td><td class="ref" data-label="{{t.last_error}}">{{error}}</td><td data-label="{{t.created}}">{{created}}</td>
        <td><form class="inline" method="post" action="/dead/retry">{{> csrf}}<input type="hidden" name="id" value="{{id}}"><button type="submit" class="secondary" aria-label="{{retryLabel}}">{{t.retry}}</button></form></td></tr>
        {{/operations}}</tbody>
        </table></div>{{#more}}<p>{{more}}</p>{{/more}}{{/hasOperations}}
        {{^hasOperations}}<p class="empty">{{t.dead_empty}}</p>{{/hasOperations}}
        {{> foot}}
        """

    static let audit = """
        {{> head}}
        <p>{{t.audit_help}}</p>
        {{#hasEntries}}<div class="scroll"><table class="stack">
        <thead><tr><th scope="col" class="num">#</th><th scope="col">{{t.time}}</th><th scope="col">{{t.event}}</th><th scope="col">{{t.connector}}</th><th scope="col">{{t.reference}}</th><th scope="col">{{t.rule}}</th><th scope="col">{{t.by}}</th></tr></thead>
        <tbody>
        {{#entries}}<tr><td class="num">{{seq}}</td><td data-label="{{t.time}}">{{time}}</td><td class="ref" data-label="{{t.event}}">{{event}}</td><td data-label="{{t.connector}}">{{connector}}</td><td class="ref" data-label="{{t.reference}}">{{reference}}</td><td data-label="{{t.rule}}">{{rule}}</td><td data-label="{{t.by}}">{{by}}</td></tr>
        {{/entries}}</tbody>
        </table></div>{{/hasEntries}}
        {{^hasEntries}}<p class="empty">{{t.audit_empty}}</p>{{/hasEntries}}
        {{> foot}}
        """

    static let quarantine = """
        {{> head}}
        <p>{{t.quarantine_help}}</p>
        {{#hasRecords}}<div class="scroll"><table class="stack">
        <thead><tr><th scope="col">{{t.connector}}</th><th scope="col">{{t.reference}}</th><th scope="col">{{t.lines}}</th><th scope="col">{{t.reason}}</th></tr></thead>
        <tbody>
        {{#records}}<tr><td data-label="{{t.connector}}">{{connector}}</td><td class="ref" data-label="{{t.reference}}">{{reference}}</td><td data-label="{{t.lines}}">{{lines}}</td><td data-label="{{t.reason}}"><span class="ref">{{code}}</span>{{#detail}} — {{detail}}{{/detail}}</td></tr>
        {{/records}}</tbody>
        </table></div>{{#more}}<p>{{more}}</p>{{/more}}{{/hasRecords}}
        {{^hasRecords}}<p class="empty">{{t.quarantine_empty}}</p>{{/hasRecords}}
        {{> foot}}
        """

    /// The hidden field every dashboard form carries when the request has a CSRF token.
    static let csrf = #"{{#csrf}}<input type="hidden" name="csrf" value="{{csrf}}">{{/csrf}}"#

    /// 401 and 403: what to do, and no data at all.
    static let refusal = """
        <!doctype html>
        <html lang="{{lang}}">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
        <title>{{title}} · Lethe</title><style>\(css)</style></head>
        <body><main id="main"><h1>{{title}}</h1><p>{{text}}</p></main></body>
        </html>

        """

    /// The consent pages (`/consent/{token}`): short, no personal data, no script, no cookie.
    static let consent = """
        <!doctype html>
        <html lang="{{lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex"><title>{{title}}</title>
        <style>body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.6;color:#1a1a1a}h1{font-size:1.4em}button{font-size:1.1em;padding:.5em 1.5em;min-height:2.6em}button:focus-visible{outline:3px solid #e8a100;outline-offset:2px}</style></head>
        <body><main>
        <h1>{{title}}</h1>
        {{#before}}<p>{{.}}</p>
        {{/before}}{{#form}}<form method="post" action="{{action}}"><button type="submit">{{button}}</button></form>
        {{/form}}{{#after}}<p>{{.}}</p>
        {{/after}}</main></body></html>

        """
}
