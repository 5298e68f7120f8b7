import CLibFuzzer

/// One fuzzed input: the bytes and their count. Returns 0 (libFuzzer's only accepted answer).
public typealias FuzzTarget = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer on `target` with the process's arguments.
///
/// A debug build of an executable target links its entry point as `<Target>_main` (so that tests could
/// link the module), which keeps libFuzzer's own `main` out: each target therefore defines that symbol
/// and hands over to libFuzzer here. A build without that renaming uses libFuzzer's `main` and the
/// target's `LLVMFuzzerTestOneInput` directly.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ target: FuzzTarget
) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, target)
}
