/// The write side's SQL is written with SQLite's parameters (`?`, `?N`); PostgreSQL numbers
/// them (`$N`). This rewrites one into the other, with SQLite's numbering: a bare `?` takes the
/// number after the highest one used so far. Quoted text and comments are left alone.
enum PostgresParameters {
    static func translate(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var highest = 0
        var characters = Array(sql.unicodeScalars)[...]
        var quote: Unicode.Scalar?
        var inLineComment = false
        while let character = characters.popFirst() {
            if inLineComment {
                output.unicodeScalars.append(character)
                if character == "\n" { inLineComment = false }
                continue
            }
            if let open = quote {
                output.unicodeScalars.append(character)
                if character == open { quote = nil }  // a doubled quote reopens at once: same result
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                output.unicodeScalars.append(character)
            case "-" where characters.first == "-":
                inLineComment = true
                output.unicodeScalars.append(character)
            case "?":
                var digits = ""
                while let next = characters.first, ("0"..."9").contains(next) {
                    digits.unicodeScalars.append(next)
                    characters.removeFirst()
                }
                let number = Int(digits) ?? highest + 1
                highest = max(highest, number)
                output += "$\(number)"
            default:
                output.unicodeScalars.append(character)
            }
        }
        return output
    }
}
