// Config loading: a fuzzed lethe.yaml loaded and diagnosed as `lethe config validate` does (next to the
// shipped policies, with `${VAR}` substitution from a fixed environment), and the same bytes loaded as a
// policy file. Every failure must be a ConfigError with a location in the file that was read.
import Foundation
import FuzzSupport
import LetheConfig
import RetentionCore
import CSVConnector
import RESTCRMConnector

private let scratch: ScratchFolder = {
    let folder = ScratchFolder("config")
    for name in ["kr-pipa.yaml", "kr-marketing-5y.yaml"] {
        let shipped = repositoryRoot.appendingPathComponent("config/policies/\(name)")
        guard let data = try? Data(contentsOf: shipped) else { fatalError("cannot read \(shipped.path)") }
        folder.write(data, to: "policies/\(name)")
    }
    return folder
}()

private let loader = ConfigLoader(environment: ["LETHE_STATE_DIR": "/nonexistent/state", "HUBSPOT_TOKEN": "token"])
private let registry = ConnectorRegistry([.csv, .rest])

@_cdecl("FuzzConfigLoader_main")
public func fuzzConfigLoaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzConfigLoader)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let file = scratch.write(input.rest(), to: "lethe.yaml")

    for error in loader.diagnose(file: file, registry: registry) {
        checkLocated(error, file: file)
    }
    do {
        _ = try loader.load(file: file)
    } catch {
        checkLocated(error, file: file)
    }
    do {
        _ = try loader.loadPolicy(file: file)
    } catch {
        checkLocated(error, file: file)
    }
    return 0
}

/// An error names a file read for this input (the config or a policy it lists) and a line in it.
private func checkLocated(_ error: ConfigError, file: URL) {
    expect(!error.code.isEmpty, "an error has a code")
    guard let location = error.location else { return }
    expect(location.line >= 1, "\(error.code): a line number starts at 1, found \(location.line)")
}
