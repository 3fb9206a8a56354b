import Foundation
import InferKit

extension JSONValue {
    /// Element `index` of an array (nil for other values or out of range).
    subscript(index: Int) -> JSONValue? {
        guard let array, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
