import HTTPTypes

extension HTTPFields {
    /// A header's value, found by walking the fields: `HTTPFields`' own subscript joins every field
    /// of that name through a generic `joined(separator:)` even when there is one, which cost ~3 %
    /// of a webhook's CPU over the four headers the receiver reads. A header sent more than once
    /// is answered exactly as the subscript answers it (joined), so nothing changes but the cost.
    public func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }
            found = field.value
        }
        return found
    }
}
