// Manifest loading: a fuzzed REST connector manifest read as `type: rest` reads one (the YAML tree, then
// `Manifest(config:)`). Every failure must be a ConfigError.
import Foundation
import FuzzSupport
import LetheConfig
import RetentionCore
import RESTCRMConnector

private let scratch = ScratchFolder("manifest")
private let loader = ConfigLoader(environment: ["HUBSPOT_TOKEN": "token", "PIPEDRIVE_API_TOKEN": "token"])

@_cdecl("FuzzManifest_main")
public func fuzzManifestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzManifest)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let file = scratch.write(input.rest(), to: "manifest.yaml")
    do {
        let manifest = try Manifest(config: try loader.loadTree(file: file))
        _ = manifest.mapping
    } catch {
        expect(!error.code.isEmpty, "an error has a code")
        if let location = error.location {
            expect(location.line >= 1, "\(error.code): a line number starts at 1, found \(location.line)")
        }
    }
    return 0
}
