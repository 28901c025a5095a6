// Work sent to every node at once. The two helpers here are the only places keyturn builds a
// task group's result, because of a defect of the Swift 6.3.1 optimiser found in the release
// binary (every quorum command given several addresses trapped in `-c release`, never in
// debug):
//
//   do { return (i, try await f(i)) } catch { return (i, nil) }
//
// inside an escaping async closure (a task group's child, a `Task {}`) returns a stale `i` on
// the success path under -O and -Osize: the tuple's first element is evaluated before the
// throwing suspension and not preserved across it. Reduced from `QuorumCeremony.activeNode`
// (every child reported index 0, so the other slots stayed nil and `$0!` trapped) to eight
// lines with no unsafe code, no @unchecked Sendable and no shared state, so this is a
// miscompile, not undefined behaviour of ours; -Onone gives the right indices. Binding the
// awaited value to a local first (`let value = try await f(i); return (i, value)`) compiles
// correctly, and so does a tuple whose await cannot throw. So: the awaited value is always
// bound before anything is built around it, and results are matched to their slot by an
// index that no awaited expression sits beside.

/// Runs `body` for every element at once; the results keep the elements' order.
package func concurrentMap<Element: Sendable, Value: Sendable>(
    _ elements: [Element], _ body: @escaping @Sendable (Int, Element) async -> Value
) async -> [Value] {
    await withTaskGroup(of: (Int, Value).self) { group in
        for index in elements.indices {
            let element = elements[index]
            group.addTask {
                // Bound first: see the note at the top of this file.
                let value = await body(index, element)
                return (index, value)
            }
        }
        var results = [Value?](repeating: nil, count: elements.count)
        for await (index, value) in group { results[index] = value }
        return results.map { $0! }
    }
}

extension Result where Failure == VaultError {
    /// The value `body` returns, or the error it throws, as a value (for work run
    /// concurrently, where one node's failure must not stop the others).
    package static func capturing(_ body: () async throws(VaultError) -> Success) async -> Result<Success, VaultError> {
        do {
            // Bound first: see the note at the top of this file.
            let value = try await body()
            return .success(value)
        } catch {
            return .failure(error)
        }
    }
}
