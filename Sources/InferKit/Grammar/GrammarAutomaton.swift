/// Runs a `ByteGrammar` one byte at a time, as a deterministic automaton built while it runs.
///
/// A parse is a set of stacks (the grammar may be ambiguous), as in llama.cpp: each stack is
/// a list of positions in the grammar, the top one at the terminal to match next, the others
/// where to return when a rule is complete; an empty stack means the input so far is a whole
/// sentence. A rule referenced as the last symbol of an alternative returns straight to the
/// caller's caller (no frame is pushed), so repetitions (`x*`, which loop through such a
/// reference) keep the stacks from growing.
///
/// Stacks are shared lists (frames interned by position and parent), and each distinct set
/// of stacks is interned as a state with a row of 256 transitions, computed on first use.
/// Matching a byte is then a table lookup, and walking a vocabulary's token trie from a state
/// costs one lookup per trie node: the states a walk visits repeat (inside a string, after each
/// character the parse is back in the same state), so their transitions are computed once.
final class GrammarAutomaton {
    let grammar: ByteGrammar

    /// A state id for "no stack survives": the input is not a prefix of any sentence.
    static let dead: Int32 = -1
    private static let unknown: Int32 = -2
    /// The stack id of the empty stack (the input is complete).
    private static let emptyStack: Int32 = -1

    /// States kept before the caches are rebuilt around the current one (each state's
    /// transition row is 1 KiB).
    static let stateLimit = 8192

    /// Parses one state may hold: an ambiguous grammar (`[a]* [a]*` read over a long run of
    /// a's) multiplies them; past this the input is refused and `overflowed` is set, so that a
    /// hostile grammar cannot make each byte cost without bound. A grammar may have as many
    /// parses as it has symbols without any ambiguity (an enum of thousands of strings, after
    /// its opening quote), so the limit grows with it.
    let stackLimit: Int

    /// Units of work (a parse reached while expanding rules, a parse sorted into a state)
    /// allowed between two calls of `beginStep`: repetitions nested through recursion make
    /// states of thousands of parses under `stackLimit`, and a vocabulary walk that meets a
    /// new one at each trie node would otherwise take seconds for one token. What a real
    /// grammar needs grows with its size (an enum of 1,000 strings over a 150k-token
    /// vocabulary: 54,000; the JSON Schemas of the tests: up to 20,000), what a hostile one
    /// needs grows with the text.
    let workLimit: Int

    /// A state would have held more than `stackLimit` parses, or a step needed more than
    /// `workLimit` units of work.
    private(set) var overflowed = false

    /// Units of work since `beginStep`.
    private(set) var workDone = 0

    /// Starts the work budget of one generation step (a mask and the token accepted).
    func beginStep() {
        workDone = 0
    }

    /// The (position, parent) pairs a closure has reached, kept between closures so that its
    /// storage is reused.
    private var seen: Set<UInt64> = []

    // Frames: a stack is its top frame; each frame holds a position and its parent frame.
    private var framePosition: [Int32] = []
    private var frameParent: [Int32] = []
    private var frameIndex: [UInt64: Int32] = [:]

    // States: sorted stack ids (the empty stack, -1, first when present).
    private var stateStacks: [[Int32]] = []
    private var stateIndex: [[Int32]: Int32] = [:]
    /// 256 next states per state: `dead`, `unknown`, or a state id. A buffer of its own
    /// rather than an array: a lookup is then a plain load (a class's array property is
    /// checked for exclusive access at each use).
    private var table: UnsafeMutablePointer<Int32>
    private var tableCapacity: Int

    /// The state before any input.
    private(set) var start: Int32 = 0

    init(_ grammar: ByteGrammar) {
        self.grammar = grammar
        stackLimit = 4096 + grammar.symbols.count
        workLimit = 100_000 + 20 * grammar.symbols.count
        tableCapacity = 16
        table = .allocate(capacity: tableCapacity * 256)
        start = intern(closure(grammar.rules[Int(grammar.root)].map { ($0, Self.emptyStack) }))
    }

    deinit {
        table.deallocate()
    }

    var stateCount: Int { stateStacks.count }

    // MARK: Queries

    /// The state after `byte`, or `dead`.
    @inline(__always)
    func step(_ state: Int32, _ byte: UInt8) -> Int32 {
        if state < 0 { return Self.dead }
        let next = table[Int(state) &* 256 &+ Int(byte)]
        return next != Self.unknown ? next : computeStep(state, byte)
    }

    /// The state after `bytes`, or `dead`.
    func step(_ state: Int32, _ bytes: some Sequence<UInt8>) -> Int32 {
        var state = state
        for byte in bytes {
            state = step(state, byte)
            if state == Self.dead { return state }
        }
        return state
    }

    /// Whether the input so far is a complete sentence.
    func isAccepting(_ state: Int32) -> Bool {
        state >= 0 && stateStacks[Int(state)].first == Self.emptyStack
    }

    /// Whether the input is complete and nothing may follow it.
    func isFinished(_ state: Int32) -> Bool {
        state >= 0 && stateStacks[Int(state)] == [Self.emptyStack]
    }

    /// The token terminals the state could match next: where each is in the grammar
    /// (a `.token` symbol) and the stack it tops.
    func tokenTerminals(_ state: Int32) -> [(symbol: Int32, stack: Int32)] {
        guard state >= 0 else { return [] }
        return stateStacks[Int(state)].compactMap { stack in
            guard stack != Self.emptyStack, case .token = grammar.symbols[Int(framePosition[Int(stack)])] else { return nil }
            return (framePosition[Int(stack)], stack)
        }
    }

    /// The state after a whole token matched by the terminals on `stacks` (from
    /// `tokenTerminals`), joined with `alongside` (the state the token's bytes led to, or `dead`).
    func state(afterTokenOn stacks: [Int32], alongside: Int32) -> Int32 {
        var result = closure(stacks.map { (framePosition[Int($0)] + 1, frameParent[Int($0)]) })
        if alongside != Self.dead { result += stateStacks[Int(alongside)] }
        guard !result.isEmpty else { return Self.dead }
        return intern(result)
    }

    // MARK: Building states

    /// The transition on `byte`, computed and recorded for every byte of its class.
    private func computeStep(_ state: Int32, _ byte: UInt8) -> Int32 {
        var seeds: [(Int32, Int32)] = []
        for stack in stateStacks[Int(state)] where stack != Self.emptyStack {
            let position = framePosition[Int(stack)]
            if case .bytes(let set) = grammar.symbols[Int(position)], grammar.byteSets[Int(set)].contains(byte) {
                seeds.append((position + 1, frameParent[Int(stack)]))
            }
        }
        let next = seeds.isEmpty ? Self.dead : intern(closure(seeds))
        let row = table + Int(state) * 256  // after intern, which may move the table
        for member in grammar.classBytes[Int(grammar.byteClass[Int(byte)])] { row[Int(member)] = next }
        return next
    }

    /// The state of these stacks, or `dead` (and `overflowed`) past `stackLimit`.
    private func intern(_ stacks: [Int32]) -> Int32 {
        var key = stacks.sorted()
        var kept = 0
        for stack in key where kept == 0 || key[kept - 1] != stack {
            key[kept] = stack
            kept += 1
        }
        key.removeLast(key.count - kept)
        workDone += stacks.count
        guard key.count <= stackLimit, workDone <= workLimit else {
            overflowed = true
            return Self.dead
        }
        if let existing = stateIndex[key] { return existing }
        stateStacks.append(key)
        let id = Int32(stateStacks.count - 1)
        stateIndex[key] = id
        if stateStacks.count > tableCapacity {
            let larger = UnsafeMutablePointer<Int32>.allocate(capacity: tableCapacity * 2 * 256)
            larger.update(from: table, count: tableCapacity * 256)
            table.deallocate()
            table = larger
            tableCapacity *= 2
        }
        (table + Int(id) * 256).initialize(repeating: Self.unknown, count: 256)
        return id
    }

    /// The stacks reached from positions (with their parent frames): rule references are
    /// expanded into their alternatives and finished alternatives return to their callers,
    /// until every stack tops a terminal (or is empty). Iterative, so deep grammars cannot
    /// exhaust a thread's stack. Empty, with `overflowed` set, past the step's `workLimit`.
    private func closure(_ seeds: [(position: Int32, parent: Int32)]) -> [Int32] {
        var pending = seeds
        // Clearing keeps the storage of the largest closure so far, and costs its size: past a
        // few thousand entries, fresh storage is cheaper for the small closures that follow.
        if seen.capacity > 4096 { seen = [] } else { seen.removeAll(keepingCapacity: true) }
        var stacks: [Int32] = []
        while let (position, parent) = pending.popLast() {
            workDone += 1
            // One closure alone can pass the step's budget (repetitions stacked hundreds deep
            // return through every level): stop here, where the work is done.
            if workDone > workLimit {
                overflowed = true
                return []
            }
            guard seen.insert(UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))).inserted else { continue }
            switch grammar.symbols[Int(position)] {
            case .end:
                if parent == Self.emptyStack {
                    stacks.append(Self.emptyStack)
                } else {
                    pending.append((framePosition[Int(parent)], frameParent[Int(parent)]))
                }
            case .bytes, .token:
                stacks.append(frame(position, parent))
            case .rule(let rule):
                // The last symbol of an alternative returns straight to the parent.
                let returnTo = grammar.symbols[Int(position) + 1] == .end ? parent : frame(position + 1, parent)
                for start in grammar.rules[Int(rule)] { pending.append((start, returnTo)) }
            }
        }
        return stacks
    }

    private func frame(_ position: Int32, _ parent: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: position)) << 32 | UInt64(UInt32(bitPattern: parent))
        if let existing = frameIndex[key] { return existing }
        framePosition.append(position)
        frameParent.append(parent)
        let id = Int32(framePosition.count - 1)
        frameIndex[key] = id
        return id
    }

    // MARK: Bounding memory

    /// Drops every cached state and frame but those of `state`, which is returned under its
    /// new id. Called between tokens when `stateCount` passes `stateLimit`.
    func compact(keeping state: Int32) -> Int32 {
        let oldPosition = framePosition, oldParent = frameParent
        let stacks = stateStacks[Int(state)]
        framePosition = []
        frameParent = []
        frameIndex = [:]
        stateStacks = []
        stateIndex = [:]
        var copied: [Int32: Int32] = [:]
        func copy(_ old: Int32) -> Int32 {
            if old == Self.emptyStack { return old }
            if let new = copied[old] { return new }
            // Parents first, iteratively (stacks can be deep).
            var chain: [Int32] = []
            var cursor = old
            while cursor != Self.emptyStack && copied[cursor] == nil {
                chain.append(cursor)
                cursor = oldParent[Int(cursor)]
            }
            var parent = cursor == Self.emptyStack ? Self.emptyStack : copied[cursor]!
            for frame in chain.reversed() {
                parent = self.frame(oldPosition[Int(frame)], parent)
                copied[frame] = parent
            }
            return parent
        }
        let kept = intern(stacks.map(copy))
        start = intern(closure(grammar.rules[Int(grammar.root)].map { ($0, Self.emptyStack) }))
        return kept
    }
}
