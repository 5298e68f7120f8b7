/// Returns the heap's free memory to the system. A sync's steps each build large temporary lists (a
/// read's batches, the deletes to publish, the operations to execute); the allocator keeps what they
/// freed for reuse, so without this the process's resident size is the sum of the steps' peaks
/// rather than the largest one.
enum ReleasedMemory {
    static func trim() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if os(Linux)
/// glibc's `malloc_trim(3)` (not in Swift's Glibc module).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
