// swift-tools-version:6.0
import PackageDescription

// Kernels are hot loops: they are compiled optimized even in debug builds, so that
// `swift test` (debug) runs real models at a useful speed.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-Wall"])]

// The default model, linked into `infer` (see Sources/CDefaultModel) so that `infer chat`
// needs no download and no path. The assembler's .incbin wants its absolute path.
let defaultModel = "horatio-q8_0.gguf"
let packageDirectory = String(#filePath.dropLast("/Package.swift".count))

let package = Package(
    name: "infer",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "InferKit", targets: ["InferKit"]),
        .library(name: "Jinja", targets: ["Jinja"]),
        .executable(name: "infer", targets: ["infer"]),
        .library(name: "InferServer", targets: ["InferServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Hummingbird's own dependencies, named for the modules the server imports.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .target(name: "CKernels", path: "Kernels", cSettings: kernelFlags,
                linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        // The Jinja interpreter that renders chat templates, and the JSON values it renders:
        // a library of its own, which InferKit re-exports.
        .target(name: "Jinja"),
        .target(name: "InferKit", dependencies: ["Jinja", "CKernels", "COpenBLAS"]),
        // The OpenAI-compatible HTTP server: apart from InferKit, so that the library
        // needs no web stack.
        .target(
            name: "InferServer",
            dependencies: [
                "InferKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(
            name: "CDefaultModel",
            cSettings: [
                .define("INFER_DEFAULT_MODEL_PATH", to: "\"\(packageDirectory)/Models/\(defaultModel)\""),
                .define("INFER_DEFAULT_MODEL_NAME", to: "\"\(defaultModel)\""),
            ]),
        .executableTarget(
            name: "infer",
            dependencies: [
                "InferKit",
                "InferServer",
                "CDefaultModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The README's library examples, compiled and run by the tests.
        .executableTarget(name: "infer-example", dependencies: ["InferKit"], path: "Examples/Chat"),
        .executableTarget(name: "infer-batch-example", dependencies: ["InferKit"], path: "Examples/Batch"),
        // The README's structured output example, compiled and run by the tests.
        .executableTarget(name: "infer-structured-example", dependencies: ["InferKit"], path: "Examples/StructuredOutput"),
        // Benchmarks: run with `swift run -c release kernel-bench` (not part of `swift test`).
        .executableTarget(name: "kernel-bench", dependencies: ["CKernels"], path: "Benchmarks/KernelBench",
                          cSettings: kernelFlags),
        .executableTarget(name: "pool-bench", dependencies: ["CKernels"], path: "Benchmarks/PoolBench"),
        .executableTarget(name: "grammar-bench", dependencies: ["InferKit"], path: "Benchmarks/GrammarBench"),
        // Fixtures/ holds data read at test time by path (and the scripts that make it).
        .testTarget(name: "InferKitTests", dependencies: ["InferKit", "CKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "JinjaTests", dependencies: ["Jinja"]),
        .testTarget(name: "InferCLITests", dependencies: ["InferKit"]),
        .testTarget(
            name: "InferServerTests",
            dependencies: [
                "InferServer",
                "InferKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
    ]
)
