// swift-tools-version:6.0
import PackageDescription

// Kernels are hot loops: they are compiled optimized even in debug builds, so that
// `swift test` (debug) runs real models at a useful speed.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-Wall"])]

let package = Package(
    name: "infer",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "InferKit", targets: ["InferKit"]),
        .executable(name: "infer", targets: ["infer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CKernels", path: "Kernels", cSettings: kernelFlags,
                linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(name: "InferKit", dependencies: ["CKernels", "COpenBLAS"]),
        .executableTarget(
            name: "infer",
            dependencies: [
                "InferKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The README's library example, compiled and run by the tests.
        .executableTarget(name: "infer-example", dependencies: ["InferKit"], path: "Examples/Chat"),
        // Benchmarks: run with `swift run -c release kernel-bench` (not part of `swift test`).
        .executableTarget(name: "kernel-bench", dependencies: ["CKernels"], path: "Benchmarks/KernelBench",
                          cSettings: kernelFlags),
        .executableTarget(name: "pool-bench", dependencies: ["CKernels"], path: "Benchmarks/PoolBench"),
        // Fixtures/ holds data read at test time by path (and the scripts that make it).
        .testTarget(name: "InferKitTests", dependencies: ["InferKit", "CKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "InferCLITests", dependencies: ["InferKit"]),
    ]
)
