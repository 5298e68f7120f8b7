/// Expands `${VAR}`, `${VAR:-default}` and `$$` inside one scalar from an injected environment.
///
/// Rules (documented in docs/configuration.md):
/// - `${VAR}` is the value of `VAR`; a set but empty `VAR` gives the empty string.
/// - `${VAR:-default}` is the value of `VAR` when it is set and not empty, otherwise `default`, which
///   may itself contain `${...}` (nested) and `$$`. A default is only expanded when it is used.
/// - `$$` is a literal `$`; a `$` not followed by `{` or `$` is kept as it is.
/// - A variable that is needed, unset and without a default makes the whole scalar unresolved.
/// - `${` without a valid name, or without its closing `}`, is malformed.
///
/// Errors never contain the text being expanded (it may hold a secret), only variable names.
struct VariableSubstitution: Sendable {
    var environment: [String: String]

    enum Outcome: Equatable, Sendable {
        case text(String)
        case unset(variable: String)
    }

    struct Malformed: Error, Equatable {
        var problem: String
    }

    func expand(_ text: String) throws(Malformed) -> Outcome {
        guard text.contains("$") else { return .text(text) }
        var scanner = Scanner(Array(text.unicodeScalars))
        let segments = try scanner.segments(closedByBrace: false)
        return evaluate(segments)
    }

    private func evaluate(_ segments: [Segment]) -> Outcome {
        var result = ""
        for segment in segments {
            switch segment {
            case .literal(let text):
                result += text
            case .variable(let name, let fallback):
                if let value = environment[name], fallback == nil || !value.isEmpty {
                    result += value
                } else if let fallback {
                    switch evaluate(fallback) {
                    case .text(let text): result += text
                    case .unset(let variable): return .unset(variable: variable)
                    }
                } else {
                    return .unset(variable: name)
                }
            }
        }
        return .text(result)
    }

    private indirect enum Segment {
        case literal(String)
        case variable(name: String, fallback: [Segment]?)
    }

    /// A recursive-descent reader over the scalar's Unicode scalars.
    private struct Scanner {
        let characters: [Unicode.Scalar]
        var index = 0

        init(_ characters: [Unicode.Scalar]) {
            self.characters = characters
        }

        func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            index + offset < characters.count ? characters[index + offset] : nil
        }

        mutating func segments(closedByBrace: Bool) throws(Malformed) -> [Segment] {
            var segments: [Segment] = []
            var literal = ""
            func flush() {
                if !literal.isEmpty { segments.append(.literal(literal)) }
                literal = ""
            }
            while let character = peek() {
                if character == "}" && closedByBrace {
                    index += 1
                    flush()
                    return segments
                }
                guard character == "$" else {
                    literal.unicodeScalars.append(character)
                    index += 1
                    continue
                }
                switch peek(1) {
                case "$":
                    literal += "$"
                    index += 2
                case "{":
                    index += 2
                    flush()
                    segments.append(try variable())
                default:
                    literal += "$"
                    index += 1
                }
            }
            if closedByBrace { throw Malformed(problem: "unclosed ${ in a default value (missing })") }
            flush()
            return segments
        }

        mutating func variable() throws(Malformed) -> Segment {
            var name = ""
            while let character = peek(),
                character == "_" || (character.isASCII && character.properties.isAlphabetic)
                    || ("0"..."9").contains(character)
            {
                name.unicodeScalars.append(character)
                index += 1
            }
            guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else {
                throw Malformed(problem: "expected a variable name (letters, digits, _) after ${")
            }
            switch (peek(), peek(1)) {
            case ("}", _):
                index += 1
                return .variable(name: name, fallback: nil)
            case (":", "-"):
                index += 2
                return .variable(name: name, fallback: try segments(closedByBrace: true))
            case (nil, _):
                throw Malformed(problem: "unclosed ${\(name) (missing })")
            default:
                throw Malformed(
                    problem: "unexpected character after ${\(name): write ${\(name)} or ${\(name):-default}")
            }
        }
    }
}
