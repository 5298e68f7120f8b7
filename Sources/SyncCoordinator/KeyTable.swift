/// Records a pass read that the state did not know, by key: the line of the first row and (dry run)
/// what was counted for it. Keys are keyed hashes, spread evenly over 64 bits, so an open-addressing
/// table indexed by their low bits needs no hashing of its own; a million keys take 16 MB.
struct KeyTable {
    private var keys: [Int64]
    private var lines: [Int32]
    private var counts: [UInt8]
    /// Which slots hold a key (0 is a valid key).
    private var used: [Bool]
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 1024
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        lines = Array(repeating: 0, count: size)
        counts = Array(repeating: 0, count: size)
        used = Array(repeating: false, count: size)
    }

    private func slot(of key: Int64) -> (index: Int, found: Bool) {
        let mask = keys.count - 1
        var index = Int(truncatingIfNeeded: UInt64(bitPattern: key) & UInt64(mask))
        while used[index] {
            if keys[index] == key { return (index, true) }
            index = (index + 1) & mask
        }
        return (index, false)
    }

    /// The line of the first row with `key`, nil when none was read.
    func line(of key: Int64) -> Int32? {
        let found = slot(of: key)
        return found.found ? lines[found.index] : nil
    }

    func counted(_ key: Int64) -> UInt8? {
        let found = slot(of: key)
        return found.found ? counts[found.index] : nil
    }

    /// Adds a key not in the table.
    mutating func insert(_ key: Int64, line: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        let found = slot(of: key)
        precondition(!found.found, "key added twice")
        keys[found.index] = key
        lines[found.index] = line
        counts[found.index] = 0
        used[found.index] = true
        count += 1
    }

    /// Sets what was counted for a key in the table (nothing for another).
    mutating func setCounted(_ key: Int64, _ value: UInt8) {
        let found = slot(of: key)
        if found.found { counts[found.index] = value }
    }

    private mutating func grow() {
        var larger = KeyTable(capacity: keys.count)
        for index in keys.indices where used[index] {
            larger.insert(keys[index], line: lines[index])
            larger.setCounted(keys[index], counts[index])
        }
        self = larger
    }
}
