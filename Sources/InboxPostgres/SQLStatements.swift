/// Splits a migration file into its statements at the semicolons that end them — not those inside
/// quotes, quoted names, dollar-quoted function bodies or comments. PostgreSQL's extended query
/// protocol (all postgres-nio speaks) takes one statement at a time.
enum SQLStatements {
    static func split(_ sql: String) -> [String] {
        let text = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0
        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty, !isOnlyComments(statement) { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        /// Copies up to and including the first `end` found from `index`.
        func copy(through end: [Unicode.Scalar]) {
            while index < text.count {
                if text[index...].starts(with: end) {
                    current.append(contentsOf: end)
                    index += end.count
                    return
                }
                current.append(text[index])
                index += 1
            }
        }
        while index < text.count {
            let scalar = text[index]
            switch scalar {
            case "'", "\"":
                current.append(scalar)
                index += 1
                copy(through: [scalar])  // a doubled quote is two strings back to back: same result
            case "-" where text[index...].starts(with: ["-", "-"]):
                copy(through: ["\n"])
            case "/" where text[index...].starts(with: ["/", "*"]):
                copy(through: ["*", "/"])
            case "$":
                // $tag$ … $tag$ (the tag may be empty); a lone $ (a parameter like $1) is copied.
                var end = index + 1
                while end < text.count, text[end].properties.isAlphabetic || text[end] == "_" || ("0"..."9").contains(text[end]) { end += 1 }
                if end < text.count, text[end] == "$", !(("0"..."9").contains(text[index + 1]) && end > index + 1) {
                    let tag = Array(text[index...end])
                    current.append(contentsOf: tag)
                    index = end + 1
                    copy(through: tag)
                } else {
                    current.append(scalar)
                    index += 1
                }
            case ";":
                index += 1
                flush()
            default:
                current.append(scalar)
                index += 1
            }
        }
        flush()
        return statements
    }

    /// Whether a piece of text holds nothing but comments and blank lines.
    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
    }
}
