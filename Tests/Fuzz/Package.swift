// swift-tools-version:6.0
import PackageDescription

// infer's libFuzzer harnesses: a package of their own that depends on the repository by path,
// so that neither `swift build` nor `swift test` of the repository builds them and nothing of
// them ships. `make fuzz` builds them with the fuzzer and sanitizers (Tests/Fuzz/README.md):
//
//   swift build --package-path Tests/Fuzz --scratch-path .build-fuzz -c release \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing ...
//
// Each harness is one executable whose `LLVMFuzzerTestOneInput` feeds one input to one entry
// point of infer; FuzzSupport holds what they share.

let harnesses: [(name: String, server: Bool)] = [
    ("fuzz-gguf", false),
    ("fuzz-llama2c-model", false),
    ("fuzz-llama2c-tokenizer", false),
    ("fuzz-tokenizer-json", false),
    ("fuzz-tokenize", false),
    ("fuzz-jinja", false),
    ("fuzz-json", false),
    ("fuzz-request", true),
    ("fuzz-grammar", false),
    ("fuzz-json-schema", false),
]

let package = Package(
    name: "infer-fuzz",
    dependencies: [.package(name: "infer", path: "../..")],
    targets: [
        // libFuzzer's driver, called from each harness's own main.
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer", .product(name: "InferKit", package: "infer")]),
    ] + harnesses.map { harness in
        .executableTarget(
            name: harness.name,
            dependencies: ["FuzzSupport", .product(name: "InferKit", package: "infer")]
                + (harness.server ? [.product(name: "InferServer", package: "infer")] : []))
    }
)
