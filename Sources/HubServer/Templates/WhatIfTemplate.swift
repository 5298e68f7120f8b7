extension PageTemplates {
    /// `/whatif`: the form (a policy file or a pasted policy, a horizon, a connector), the reason a
    /// form could not be compared, and the comparison per connector: counts by change and examples.
    static let whatIf = """
        {{> head}}
        <p>{{t.whatif_help}}</p>
        {{#problem}}<div class="flash error" role="alert"><p>{{text}}</p>{{#detail}}<p class="ref" data-problem>{{detail}}</p>{{/detail}}</div>{{/problem}}
        <form class="box" method="post" action="/whatif">{{> csrf}}
        <label for="whatif-file">{{t.whatif_file}} <span class="hint">{{t.whatif_file_hint}}</span></label>
        <select id="whatif-file" name="file"><option value="">{{t.whatif_file_none}}</option>{{#files}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/files}}</select>
        {{^hasFiles}}<p class="hint">{{t.whatif_no_files}}</p>{{/hasFiles}}
        <label for="whatif-policy">{{t.whatif_policy}} <span class="hint">{{policyHint}}</span></label>
        <textarea id="whatif-policy" name="policy" rows="10" spellcheck="false" autocapitalize="off" autocomplete="off">{{policyText}}</textarea>
        <label for="whatif-horizon">{{t.whatif_horizon}} <span class="hint">{{t.whatif_horizon_hint}}</span></label>
        <input id="whatif-horizon" name="horizon" value="{{horizon}}" required maxlength="20" autocapitalize="off" autocomplete="off">
        <label for="whatif-connector">{{t.connector}}</label>
        <select id="whatif-connector" name="connector"><option value="">{{t.whatif_all}}</option>{{#connectors}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/connectors}}</select>
        <button type="submit">{{t.whatif_submit}}</button>
        </form>
        {{#result}}<section aria-labelledby="s-result">
        <h2 id="s-result">{{t.whatif_result}}</h2>
        <p data-policy="{{policy}}">{{summary}}</p>
        {{#reports}}<section aria-labelledby="s-report-{{index}}">
        <h3 id="s-report-{{index}}">{{connector}}</h3>
        <p>{{compared}}</p>
        {{#unknown}}<p class="empty">{{t.whatif_unknown}}</p>{{/unknown}}
        {{#notRead}}<p>{{notRead}}</p>{{/notRead}}
        {{#missing}}<p>{{.}}</p>
        {{/missing}}<div class="scroll"><table>
        <caption>{{t.whatif_counts_caption}}</caption>
        <thead><tr><th scope="col">{{t.whatif_change}}</th><th scope="col" class="num">{{t.whatif_records}}</th></tr></thead>
        <tbody>
        {{#counts}}<tr><th scope="row">{{label}} <span class="ref">{{key}}</span></th><td class="num{{#differs}} bad{{/differs}}" data-connector="{{connector}}" data-change="{{change}}">{{count}}</td></tr>
        {{/counts}}</tbody>
        </table></div>
        {{#hasExamples}}<div class="scroll"><table class="stack">
        <caption>{{t.whatif_examples_caption}}</caption>
        <thead><tr><th scope="col">{{t.reference}}</th><th scope="col">{{t.whatif_change}}</th><th scope="col">{{t.whatif_current_date}}</th><th scope="col">{{t.whatif_other_date}}</th><th scope="col" class="num">{{t.whatif_days}}</th><th scope="col">{{t.whatif_detail}}</th></tr></thead>
        <tbody>
        {{#examples}}<tr data-example="{{change}}"><td class="ref" data-label="{{t.reference}}">{{reference}}</td><td data-label="{{t.whatif_change}}">{{label}}</td><td class="nowrap" data-label="{{t.whatif_current_date}}">{{current}}</td><td class="nowrap" data-label="{{t.whatif_other_date}}">{{other}}</td><td class="num" data-label="{{t.whatif_days}}">{{days}}</td><td class="ref" data-label="{{t.whatif_detail}}">{{detail}}</td></tr>
        {{/examples}}</tbody>
        </table></div>{{/hasExamples}}
        {{^hasExamples}}<p class="empty">{{t.whatif_no_examples}}</p>{{/hasExamples}}
        </section>
        {{/reports}}{{^hasReports}}<p class="empty">{{t.no_connectors}}</p>{{/hasReports}}
        </section>{{/result}}
        {{> foot}}
        """
}
