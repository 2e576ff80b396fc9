/// One result row, read by column index in the order of the SELECT list.
public struct SQLRow: Sendable {
    public let values: [SQLValue]

    public init(values: [SQLValue]) { self.values = values }

    public subscript(index: Int) -> SQLValue { values[index] }

    public func int(_ index: Int) -> Int? { values[index].int }
    public func double(_ index: Int) -> Double? { values[index].double }
    public func string(_ index: Int) -> String? { values[index].string }
    public func bool(_ index: Int) -> Bool { (values[index].int ?? 0) != 0 }
}
